"""Shared harness of the process tests: starts real cfgd processes, talks
HTTP to them with the standard library, and counts checks.

Every wait has a timeout; a cfgd's stderr goes to a file so it can never
block. Each test prints one line per check and a final `N passed, M failed`.
"""

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request

START_TIMEOUT = 30  # seconds until the listening line
STOP_TIMEOUT = 15   # seconds from SIGTERM to exit
RUN_TIMEOUT = 30    # seconds for a run that must fail at startup
HTTP_TIMEOUT = 10   # seconds per request

# Any IPv4 address: a cfgd in a network namespace listens on its own.
LISTENING = re.compile(
    r"^cfgd listening on http://(\d+\.\d+\.\d+\.\d+):(\d+) "
    r"\(version (\d+)\)$")


class checks:
    passed = 0
    failed = 0

    @classmethod
    def check(cls, name, ok, detail=""):
        if ok:
            cls.passed += 1
            print(f"ok - {name}", flush=True)
        else:
            cls.failed += 1
            print(f"FAIL - {name}: {detail}", flush=True)
        return ok


check = checks.check


class daemon:
    """A running cfgd; stderr goes to a file so it can never block."""

    started = []  # every daemon, so none outlives a crashed test section

    def __init__(self, binary, args, workdir, env=None):
        daemon.started.append(self)
        self.stderr_path = os.path.join(
            workdir, f"cfgd-{len(os.listdir(workdir))}.stderr")
        self.stderr_file = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen([binary] + args, stdout=subprocess.PIPE,
                                     stderr=self.stderr_file, text=True,
                                     env=env)
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.url = None
        self.version = None

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def stderr(self):
        if not self.stderr_file.closed:
            self.stderr_file.flush()
        with open(self.stderr_path, "r", errors="replace") as f:
            return f.read()

    def wait_listening(self):
        """Returns the listening line, or None (the process is then killed)."""
        try:
            line = self.lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            line = None
        m = LISTENING.match(line) if line else None
        if not m:
            self.kill()
            check("cfgd prints its listening line", False,
                  f"got {line!r}; stderr:\n{self.stderr()}")
            return None
        self.url = f"http://{m.group(1)}:{m.group(2)}"
        self.version = int(m.group(3))
        return line

    def stop(self, sig=signal.SIGTERM):
        """Sends `sig` and returns the exit code (None on timeout)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        finally:
            self.stderr_file.close()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass


def http(method, url, headers=None):
    """Returns (status, headers, body text); never raises for HTTP errors."""
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as res:
            return res.status, res.headers, res.read().decode()
    except urllib.error.HTTPError as e:
        body = e.read().decode() if e.fp else ""
        return e.code, e.headers, body


def get(d, path, headers=None):
    return http("GET", d.url + path, headers)


def get_json(d, path, headers=None):
    status, hdrs, body = get(d, path, headers)
    try:
        value = json.loads(body) if body else None
    except ValueError:
        value = f"<not JSON: {body!r}>"
    return status, hdrs, value


def is_error_json(value):
    return (isinstance(value, dict) and isinstance(value.get("error"), str)
            and isinstance(value.get("details"), list))


def run_to_exit(binary, args, env=None):
    """Runs cfgd that must stop by itself; returns (exit code, stderr)."""
    try:
        res = subprocess.run([binary] + args, capture_output=True, text=True,
                             timeout=RUN_TIMEOUT, env=env)
        return res.returncode, res.stderr
    except subprocess.TimeoutExpired as e:
        return None, f"timed out; stderr: {e.stderr!r}"


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def run_section(section, *args):
    """Runs section(*args); a crash fails it (one check), not the test."""
    try:
        section(*args)
    except Exception as e:  # a crash in one part fails it, not all
        name = getattr(section, "__name__", "section")
        check(f"{name} completes", False, repr(e))


def run_sections(prefix, sections):
    """Runs each section (a function of a scratch directory) in one fresh
    temporary directory. A crash in one section fails it, not the others;
    every daemon still running is killed after each. Returns the exit code.
    """
    with tempfile.TemporaryDirectory(prefix=prefix) as workdir:
        for section in sections:
            try:
                run_section(section, workdir)
            finally:
                for d in daemon.started:
                    d.kill()
    return finish()


def finish():
    """Kills every daemon still running; prints the tally; returns the exit
    code (non-zero on any failure or when nothing was checked)."""
    for d in daemon.started:
        d.kill()
    print(f"{checks.passed} passed, {checks.failed} failed", flush=True)
    return 0 if checks.failed == 0 and checks.passed > 0 else 1


# Network namespaces (root and `ip netns`): each one a host of its own.

def ip(*args, ok=True):
    """Runs `ip ARGS`; raises on failure unless ok=False."""
    res = subprocess.run(["ip"] + list(args), capture_output=True, text=True,
                         timeout=30)
    if ok and res.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {res.stderr.strip()}")
    return res


def in_ns(ns, argv):
    """argv run inside namespace ns (`ip netns exec` execs it: same pid)."""
    return ["ip", "netns", "exec", ns] + list(argv)


def add_namespace(name):
    """A namespace with loopback up; resolver queries stay inside it."""
    ip("netns", "add", name)
    ip("-n", name, "link", "set", "lo", "up")
    os.makedirs(f"/etc/netns/{name}", exist_ok=True)
    write(f"/etc/netns/{name}/resolv.conf", "nameserver 127.0.0.1\n")


def remove_namespace(name, kill=False):
    """Deletes namespace `name` (its veth pairs go with it) and its files;
    with kill, first kills the processes left in it (by pid)."""
    if kill:
        pids = ip("netns", "pids", name, ok=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ValueError, OSError):
                pass
    ip("netns", "del", name, ok=False)
    shutil.rmtree(f"/etc/netns/{name}", ignore_errors=True)


def remove_stale_namespaces(prefix):
    """Namespaces named PREFIX + letters + PID whose run is gone (the pid no
    longer exists): killed runs leave them, and their processes, behind."""
    listing = ip("netns", "list", ok=False).stdout
    for name, pid in re.findall(rf"^({re.escape(prefix)}[a-z]*(\d+))\b",
                                listing, re.M):
        if not os.path.exists(f"/proc/{pid}"):
            remove_namespace(name, kill=True)
