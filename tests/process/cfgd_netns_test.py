#!/usr/bin/env python3
"""Process test of the cluster across network namespaces: a primary and two
replicas, each a host of its own on a bridge, the cluster link proven by a
shared secret on non-loopback addresses; partitions by a downed link, forged
peers from an attacker host, idle TCP peers, and a primary restarted without
its journal.

Usage: cfgd_netns_test.py CFGD_BINARY CFGCTL_BINARY SOURCE_DIR [LINK_PROBE]

Needs root and `ip netns` (CI runs as root); without them it fails, it does
not skip. Without LINK_PROBE (or with an empty one) the probe section fails.

Topology (N picked from the pid, skipping subnets the root namespace uses):
a switch namespace holds a bridge; the primary (10.N.0.1), replica-b
(10.N.0.2), replica-c (10.N.0.3) and an attacker (10.N.0.9) are namespaces
with a veth into it, and the root namespace has one too (10.N.0.254), so the
test talks HTTP to every node directly. A partition is the bridge's port of
a host set down: that host keeps its address, and reads from inside its own
namespace still reach it. Namespace names end in the pid; those of a killed
run (and their processes) are removed by the next run.

Sections (each runs even when one before failed, the cluster is mended or
restarted as needed first):
 1. an `all` write through cfgctl is acked by both replicas
 2. partition of replica-c: the write reports it missing, it serves and goes
    stale (by the link heartbeat), it converges once the link is back
 3. link_probe from the attacker: forged writes, hellos, acks, takeovers,
    forgets and names are refused and counted
 4. idle TCP peers on the cluster port are closed by the handshake timeout,
    at little CPU cost
 5. a primary restarted without --data-dir: replicas keep their version,
    report stale with a reason, and `cfgctl resync` brings them to it
"""

import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from cfgd_harness import (add_namespace, check, daemon, finish, get_json,
                          in_ns, ip, remove_namespace, remove_stale_namespaces,
                          run_section, write)
from cfgd_cluster_test import (SECRET, TOKEN, WRONG_SECRET, metrics, post,
                               secret_file)

PREFIX = "cfgd-nn-"       # namespaces: PREFIX + role + pid
CLUSTER_PORT = 7946       # every host is a namespace of its own: fixed ports
HTTP_PORT = 8080
HOSTS = {"p": 1, "b": 2, "c": 3, "x": 9}  # role -> last octet; x: attacker
ROOT_OCTET = 254
REPLICAS = ["replica-b", "replica-c"]
HANDSHAKE_TIMEOUT = 10.0  # cfgd's default (node_options::handshake_timeout)
STALE_WAIT = 30.0         # until a partitioned replica reports stale
CONVERGE_WAIT = 30.0      # until a healed replica converges
SYNC_WAIT = 20.0          # until the cluster is in sync before a section
PROBE_TIMEOUT = 60        # seconds per link_probe run
PROBE_KINDS = ["write", "hello", "ack", "takeover", "forget", "names"]


def wait_for(pred, timeout, step=0.1):
    """True once pred() is; False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return bool(pred())


def pick_subnet():
    """N of 10.N.0.0/24, from the pid, not one the root namespace routes."""
    routes = ip("-4", "route", "show", "table", "all", ok=False).stdout
    addrs = ip("-4", "addr", ok=False).stdout
    used = {int(n) for n in re.findall(r"\b10\.(\d+)\.", routes + addrs)}
    start = os.getpid() % 200
    for i in range(200):
        n = 20 + (start + i) % 200
        if n not in used:
            return n
    raise RuntimeError(f"no free 10.N.0.0/24 (used: {sorted(used)})")


class network:
    """The switch, the hosts and the root namespace's leg on the bridge."""

    def __init__(self):
        pid = os.getpid()
        self.n = pick_subnet()
        self.switch = f"{PREFIX}sw{pid}"
        self.ns = {role: f"{PREFIX}{role}{pid}" for role in HOSTS}
        self.root_dev = f"cfnn{pid}"  # at most 15 characters
        self.removed = False

    def addr(self, role):
        return f"10.{self.n}.0.{HOSTS[role]}"

    def port(self, role):
        """The bridge's end of the host's veth (inside the switch)."""
        return f"port-{role}"

    def up(self):
        try:
            add_namespace(self.switch)
            ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
            ip("-n", self.switch, "link", "set", "br0", "up")
            for role, ns in self.ns.items():
                add_namespace(ns)
                ip("-n", self.switch, "link", "add", self.port(role), "type",
                   "veth", "peer", "name", "eth0", "netns", ns)
                ip("-n", self.switch, "link", "set", self.port(role),
                   "master", "br0", "up")
                ip("-n", ns, "addr", "add", self.addr(role) + "/24", "dev",
                   "eth0")
                ip("-n", ns, "link", "set", "eth0", "up")
            ip("link", "add", self.root_dev, "type", "veth", "peer", "name",
               "port-root", "netns", self.switch)
            ip("-n", self.switch, "link", "set", "port-root", "master",
               "br0", "up")
            ip("addr", "add", f"10.{self.n}.0.{ROOT_OCTET}/24", "dev",
               self.root_dev)
            ip("link", "set", self.root_dev, "up")
        except Exception:
            self.down()
            raise
        return self

    def down(self):
        """Idempotent: every namespace (their veths go with them), the root
        leg if it is left, and the processes still inside."""
        if self.removed:
            return
        self.removed = True
        for ns in list(self.ns.values()) + [self.switch]:
            remove_namespace(ns, kill=True)
        ip("link", "del", self.root_dev, ok=False)

    def link(self, role, state):
        """Sets the bridge's port of `role` up or down (a partition)."""
        ip("-n", self.switch, "link", "set", self.port(role), state)


FETCH = r"""
import json, sys, urllib.error, urllib.request
req = urllib.request.Request(sys.argv[1],
                             headers={"Authorization": "Bearer " + sys.argv[2]})
try:
    with urllib.request.urlopen(req, timeout=5) as r:
        out = {"status": r.status, "body": r.read().decode(),
               "version": r.headers.get("X-Config-Version")}
except urllib.error.HTTPError as e:
    out = {"status": e.code, "body": e.read().decode(), "version": None}
except OSError as e:
    out = {"status": None, "body": repr(e), "version": None}
print(json.dumps(out))
"""


def ns_get(ns, url):
    """GET url from inside namespace ns: {status, body, version}."""
    try:
        res = subprocess.run(in_ns(ns, [sys.executable, "-c", FETCH, url,
                                        TOKEN]),
                             capture_output=True, text=True, timeout=20)
        return json.loads(res.stdout)
    except (subprocess.TimeoutExpired, ValueError) as e:
        return {"status": None, "body": repr(e), "version": None}


IDLE = r"""
import json, socket, sys, threading, time
host, port, count, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    float(sys.argv[4])
out = [None] * count
def idle(i, s, t0):
    s.settimeout(0.5)
    how = "open"
    while time.monotonic() - t0 < limit:
        try:
            data = s.recv(4096)  # whatever the primary says first is read
        except socket.timeout:
            continue
        except OSError as e:
            how = "reset: " + type(e).__name__
            break
        if not data:
            how = "closed"
            break
    out[i] = {"closed": how != "open", "how": how,
              "seconds": round(time.monotonic() - t0, 2)}
    s.close()
socks = []
for i in range(count):
    s = socket.create_connection((host, port), timeout=5)
    socks.append((s, time.monotonic()))
print(json.dumps({"opened": count}), flush=True)
threads = [threading.Thread(target=idle, args=(i, s, t0))
           for i, (s, t0) in enumerate(socks)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(out), flush=True)
"""


def cpu_seconds(pid):
    """utime + stime of pid, in seconds (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def refused_counts(d):
    """{reason: count} of cfg_cluster_refused_total on d's /metrics."""
    return {m.group(1): float(m.group(2)) for m in re.finditer(
        r'^cfg_cluster_refused_total\{reason="([^"]*)"\} (\S+)$',
        metrics(d), re.M)}


class cluster:
    """cfgd on the primary's host and each replica's, run by
    `ip netns exec` (which execs: the daemon's pid is cfgd's)."""

    def __init__(self, cfgd, ctl, source_dir, workdir, net):
        self.cfgd, self.ctl, self.workdir, self.net = cfgd, ctl, workdir, net
        self.tokens = write(os.path.join(workdir, "tokens"), TOKEN + "\n")
        os.chmod(self.tokens, 0o600)
        self.secret = secret_file(workdir, "cluster.secret", SECRET)
        self.schema = os.path.join(source_dir, "examples", "schema.json")
        self.cfg = os.path.join(source_dir, "examples", "config.yaml")
        self.p = None
        self.r = {}  # replica name -> daemon
        self.primary_journal = True

    def role_of(self, name):
        return {"primary": "p", "replica-b": "b", "replica-c": "c"}[name]

    def http_addr(self, name):
        return f"{self.net.addr(self.role_of(name))}:{HTTP_PORT}"

    def join_addr(self):
        return f"{self.net.addr('p')}:{CLUSTER_PORT}"

    def start_primary(self, journal=True):
        self.primary_journal = journal
        args = ["--cluster-listen", self.join_addr(),
                "--cluster-secret-file", self.secret,
                "--token-file", self.tokens, "--http", self.http_addr("primary"),
                "--node-name", "primary", "--schema", self.schema,
                "--file", self.cfg]
        if journal:
            args += ["--data-dir", os.path.join(self.workdir, "primary")]
        d = daemon("ip", in_ns(self.net.ns["p"], [self.cfgd] + args)[1:],
                   self.workdir)
        self.p = d if d.wait_listening() else None
        return self.p

    def start_replica(self, name, secret=None):
        d = daemon("ip", in_ns(self.net.ns[self.role_of(name)], [
            self.cfgd, "--join", self.join_addr(),
            "--cluster-secret-file", secret or self.secret,
            "--node-name", name, "--http", self.http_addr(name),
            "--token-file", self.tokens])[1:], self.workdir)
        self.r[name] = d if d.wait_listening() else None
        return self.r[name]

    def alive(self):
        return [d for d in [self.p] + list(self.r.values())
                if d is not None and d.proc.poll() is None]

    def stop_all(self):
        for d in self.alive():
            d.stop()

    def ctl_run(self, url, *args, timeout=60):
        """cfgctl with the token file; --insecure: every URL here is plain
        http:// to a non-loopback address."""
        env = dict(os.environ)
        for var in ("CFGD_TOKEN", "CFGD_URL"):
            env.pop(var, None)
        try:
            res = subprocess.run([self.ctl, "--url", url, "--token-file",
                                  self.tokens, "--insecure"] + list(args),
                                 capture_output=True, text=True,
                                 timeout=timeout, env=env)
            return res.returncode, res.stdout, res.stderr
        except subprocess.TimeoutExpired as e:
            return None, e.stdout or "", f"timed out: {e.stderr!r}"


def nodes_of(d):
    """{name: entry} of d's GET /nodes ({} when it does not answer)."""
    if d is None:
        return {}
    try:
        status, _, body = get_json(d, "/nodes")
    except OSError:
        return {}
    if status != 200 or not isinstance(body, dict):
        return {}
    return {n.get("name"): n for n in body.get("nodes", [])}


def self_entry(d, name):
    return nodes_of(d).get(name, {})


def vh(entry):
    """(version, hash) of a /nodes entry."""
    return entry.get("version"), entry.get("hash")


def primary_vh(c):
    return vh(self_entry(c.p, "primary"))


def in_sync(c):
    """Both replicas report, and the primary lists them, connected at the
    primary's version and hash."""
    want = primary_vh(c)
    if want[0] is None:
        return False
    seen = nodes_of(c.p)
    for name in REPLICAS:
        own = self_entry(c.r.get(name), name)
        if vh(own) != want or own.get("stale") is not False:
            return False
        if vh(seen.get(name, {})) != want or \
                seen.get(name, {}).get("state") != "connected":
            return False
    return True


def sync_report(c):
    return (f"primary {primary_vh(c)}; replicas (own /nodes): "
            f"{ {n: vh(self_entry(c.r.get(n), n)) for n in REPLICAS} }; "
            f"primary's /nodes: {json.dumps(list(nodes_of(c.p).values()))}")


def ensure_cluster(c, what):
    """Starts what is not running, heals every link, checks that the
    cluster is in sync; True when all three run (the section goes on even
    out of sync: its own checks say what that breaks)."""
    for role in ("b", "c"):
        c.net.link(role, "up")
    if c.p is None or c.p.proc.poll() is not None:
        c.start_primary(journal=c.primary_journal)
    for name in REPLICAS:
        d = c.r.get(name)
        if d is None or d.proc.poll() is not None:
            c.start_replica(name)
    running = c.p is not None and all(c.r.get(n) for n in REPLICAS)
    check(f"{what}: the cluster is up and in sync (primary and both "
          "replicas at one version and hash, both connected)",
          running and wait_for(lambda: in_sync(c), SYNC_WAIT, 0.2),
          sync_report(c))
    return running


def write_result(res):
    """The JSON of a post() of the cluster test, or {}."""
    status, body = res
    return body if status == 200 and isinstance(body, dict) else {}


# 1. An `all` write through cfgctl, across the namespaces.

def section_all_write(c):
    if not ensure_cluster(c, "1"):
        return
    print(f"# primary at {primary_vh(c)[0]}; replicas "
          f"{[vh(self_entry(c.r[n], n))[0] for n in REPLICAS]}", flush=True)
    t0 = time.monotonic()
    code, out, err = c.ctl_run(c.p.url, "--json", "flag", "new_algorithm",
                               "on", "--consistency", "all")
    took = time.monotonic() - t0
    try:
        res = json.loads(out)
    except ValueError:
        res = {}
    print(f"# cfgctl flag --consistency all: exit {code} in {took:.2f} s: "
          f"{out.strip()}", flush=True)
    check("1: cfgctl flag --consistency all (--insecure) succeeds", code == 0,
          f"exit {code}, stdout {out!r}, stderr {err!r}")
    check("1: its JSON lists both replicas acked, satisfied true, none "
          "missing", sorted(res.get("acked", [])) == REPLICAS
          and res.get("satisfied") is True and res.get("missing") == [],
          f"expected acked {REPLICAS}, satisfied true; got {out!r}")
    for name in REPLICAS:
        status, _, value = get_json(c.r[name], "/config")
        flag = value.get("features", {}).get("new_algorithm") \
            if isinstance(value, dict) else None
        check(f"1: {name}'s GET /config shows the flag on once the write "
              "returned", status == 200 and flag is True,
              f"expected 200 with features.new_algorithm true; got {status} "
              f"{value!r}")
    version = res.get("version")
    check("1: the primary's /nodes shows both replicas at its version and "
          "hash", wait_for(lambda: in_sync(c) and primary_vh(c)[0] == version,
                           5), f"write version {version}; {sync_report(c)}")


# 2. A partition of replica-c.

def section_partition(c):
    if not ensure_cluster(c, "2"):
        return
    net = c.net
    c_ns = net.ns["c"]
    c_url = f"http://{c.http_addr('replica-c')}"
    last = vh(self_entry(c.r["replica-c"], "replica-c"))
    try:
        net.link("c", "down")
        print(f"# {net.port('c')} down; replica-c at version {last[0]}",
              flush=True)
        t0 = time.monotonic()
        res = write_result(post(
            c.p, "/features/beta_ui?consistency=all&timeout_ms=1500",
            {"enabled": True}))
        print(f"# all write with replica-c cut off: {time.monotonic() - t0:.2f}"
              f" s: {json.dumps(res)}", flush=True)
        check("2: an all write reports replica-c missing, replica-b acked, "
              "satisfied false", res.get("satisfied") is False
              and res.get("missing") == ["replica-c"]
              and res.get("acked") == ["replica-b"],
              f"expected missing [replica-c], acked [replica-b], satisfied "
              f"false; got {res!r}")
        got = ns_get(c_ns, c_url + "/config")
        check("2: replica-c keeps serving /config at its last version (read "
              "inside its namespace)", got["status"] == 200
              and got["version"] == str(last[0]),
              f"expected 200 at version {last[0]}; got {got!r}")
        t0 = time.monotonic()

        def own_stale():
            body = ns_get(c_ns, c_url + "/nodes")
            try:
                me = json.loads(body["body"])["nodes"][0]
            except (ValueError, KeyError, IndexError, TypeError):
                return False
            own_stale.last = me
            return me.get("stale") is True or me.get("state") == "stale"
        own_stale.last = None
        stale = wait_for(own_stale, STALE_WAIT, 0.5)
        print(f"# replica-c stale after {time.monotonic() - t0:.1f} s: "
              f"{stale} ({own_stale.last})", flush=True)
        check(f"2: replica-c reports stale in its own /nodes within "
              f"{STALE_WAIT:.0f} s of the partition (the link's heartbeat "
              "timeout)", stale,
              f"expected stale true; last /nodes entry {own_stale.last!r}")
        got = ns_get(c_ns, c_url + "/config")
        check("2: replica-c still serves its last version while partitioned",
              got["status"] == 200 and got["version"] == str(last[0]),
              f"expected 200 at version {last[0]}; got {got!r}")
    finally:
        net.link("c", "up")
    t0 = time.monotonic()
    healed = wait_for(lambda: in_sync(c), CONVERGE_WAIT, 0.2)
    print(f"# link up: in sync after {time.monotonic() - t0:.1f} s: {healed}; "
          f"primary at {primary_vh(c)}", flush=True)
    check(f"2: link up, replica-c converges to the primary's version and hash "
          f"within {CONVERGE_WAIT:.0f} s", healed, sync_report(c))


# 3. Forged peers from the attacker's host.

def run_probe(c, probe, kind, secret):
    args = [probe, "--primary", c.join_addr(), "--attempt", kind]
    if secret:
        args += ["--secret-file", secret]
    if kind == "takeover":
        args += ["--replica", "replica-b"]
    if kind == "names":
        args += ["--names", "300"]
    try:
        res = subprocess.run(in_ns(c.net.ns["x"], args), capture_output=True,
                             text=True, timeout=PROBE_TIMEOUT)
        code, out, err = res.returncode, res.stdout, res.stderr
    except subprocess.TimeoutExpired as e:
        code, out, err = None, e.stdout or "", f"timed out: {e.stderr!r}"
    lines = [l for l in (out or "").splitlines() if l.strip()]
    try:
        value = json.loads(lines[-1]) if len(lines) == 1 else None
    except ValueError:
        value = None
    return code, value, out, err


def history_versions(c):
    status, _, body = get_json(c.p, "/history?limit=1000")
    if status != 200 or not isinstance(body, list):
        return None
    return [(e.get("version"), e.get("hash")) for e in body]


def section_probe(c, probe):
    if not check("3: link_probe is given (4th argument) and executable",
                 bool(probe) and os.access(probe, os.X_OK),
                 f"expected the path of link_probe as the 4th argument (the "
                 f"build's link_probe target); got {probe!r}: the probe "
                 "section cannot run without it"):
        return
    if not ensure_cluster(c, "3"):
        return
    wrong = secret_file(c.workdir, "wrong.secret", WRONG_SECRET)
    before_refused = refused_counts(c.p)
    before_history = history_versions(c)
    legit = []  # versions this section committed itself
    attempts = 0
    for kind in PROBE_KINDS:
        for label, secret in (("without a secret", None),
                              ("with a wrong secret", wrong)):
            pending = None
            if kind == "ack":
                # Only a forged ack for replica-c could satisfy this write.
                # The write must make a new version: one that changes
                # nothing is acked by both at once and proves nothing.
                _, _, current = get_json(c.p, "/config/features.beta_ui")
                c.net.link("c", "down")
                pending = {}
                writer = threading.Thread(target=lambda: pending.update(
                    res=post(c.p, "/features/beta_ui?consistency=all&"
                                  "timeout_ms=8000",
                             {"enabled": current is not True})))
                writer.start()
                time.sleep(0.5)  # the write is in flight first
            in_flight = None
            try:
                t0 = time.monotonic()
                code, value, out, err = run_probe(c, probe, kind, secret)
                took = time.monotonic() - t0
            finally:
                if pending is not None:
                    in_flight = writer.is_alive()
                    writer.join()
                    c.net.link("c", "up")
            attempts += 1
            print(f"# link_probe {kind} {label}: exit {code} in {took:.2f} s: "
                  f"{out.strip()!r}", flush=True)
            check(f"3: link_probe {kind} {label} runs and prints one JSON "
                  "line", code == 0 and isinstance(value, dict)
                  and value.get("attempt") == kind,
                  f"expected exit 0 and one line {{\"attempt\": \"{kind}\", "
                  f"...}}; got exit {code}, stdout {out!r}, stderr {err!r}")
            if isinstance(value, dict):
                check(f"3: {kind} {label}: neither linked nor admitted",
                      value.get("linked") is False
                      and value.get("admitted") is False,
                      f"expected linked false, admitted false; got {value!r}")
            if pending is not None:
                res = write_result(pending.get("res", (None, None)))
                if res.get("version"):
                    legit.append(res["version"])
                check(f"3: the forged ack {label} ran while the all write "
                      "was in flight (else it proves nothing)", in_flight,
                      f"link_probe took {took:.2f} s; the write's timeout "
                      "is 8 s")
                check(f"3: the all write in flight during the forged ack "
                      f"{label} still reports replica-c missing",
                      res.get("satisfied") is False
                      and res.get("missing") == ["replica-c"],
                      f"expected satisfied false, missing [replica-c]; got "
                      f"{pending.get('res')!r}")
                wait_for(lambda: in_sync(c), CONVERGE_WAIT, 0.2)
    names = sorted(nodes_of(c.p))
    check("3: the primary's /nodes lists exactly primary, replica-b, "
          "replica-c (no ghost names)",
          names == ["primary"] + REPLICAS, f"got {names!r}")
    after_history = history_versions(c)
    added = [v for v in (after_history or [])
             if v not in (before_history or [])]
    print(f"# history: {len(before_history or [])} -> "
          f"{len(after_history or [])} entries; new versions "
          f"{[v[0] for v in added]}, this section's own writes {legit}",
          flush=True)
    check("3: no version was committed by a probe (/history gained only this "
          "section's own writes)", before_history is not None
          and after_history is not None
          and sorted(v[0] for v in added) == sorted(legit),
          f"expected new versions {legit}; got {[v[0] for v in added]}")
    res = write_result(post(c.p, "/features/enhanced_monitoring?consistency="
                                 "all&timeout_ms=5000", {"enabled": False}))
    status, _, value = get_json(c.r["replica-b"],
                                "/config/features.enhanced_monitoring")
    check("3: replica-b still streams: a write after the probes is acked by "
          "it and served", "replica-b" in res.get("acked", [])
          and status == 200 and value is False,
          f"expected replica-b in acked and false served; got {res!r}, "
          f"{status} {value!r}")
    after_refused = refused_counts(c.p)
    grown = {r: after_refused.get(r, 0) - before_refused.get(r, 0)
             for r in set(after_refused) | set(before_refused)}
    print(f"# cfg_cluster_refused_total before {before_refused}, after "
          f"{after_refused}, grown {grown}", flush=True)
    check(f"3: cfg_cluster_refused_total grew by at least the {attempts} "
          "attempts (sum over reasons)", sum(grown.values()) >= attempts,
          f"grew by {sum(grown.values())}: {grown}")


# 4. Idle TCP peers on the cluster port.

def idle_peers(c, count, limit):
    """Opens `count` connections from the attacker's host, sends nothing;
    returns ([{closed, how, seconds}], wall seconds, primary CPU %)."""
    pid = c.p.proc.pid
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    try:
        res = subprocess.run(
            in_ns(c.net.ns["x"], [sys.executable, "-c", IDLE, c.net.addr("p"),
                                  str(CLUSTER_PORT), str(count), str(limit)]),
            capture_output=True, text=True, timeout=limit + 30)
        out = res.stdout.splitlines()
        conns = json.loads(out[-1]) if len(out) == 2 else None
        if conns is None:
            print(f"# idle peers: {res.stdout!r} {res.stderr!r}", flush=True)
    except (subprocess.TimeoutExpired, ValueError) as e:
        conns = None
        print(f"# idle peers: {e!r}", flush=True)
    cpu1, wall = cpu_seconds(pid), time.monotonic() - t0
    pct = None if cpu0 is None or cpu1 is None else \
        100.0 * (cpu1 - cpu0) / wall
    return conns, wall, pct


def section_idle(c):
    if not ensure_cluster(c, "4"):
        return
    bound = HANDSHAKE_TIMEOUT + 3
    with open(f"/proc/{c.p.proc.pid}/comm") as f:
        check("4: the primary's pid is cfgd's (ip netns exec execs)",
              f.read().strip() == "cfgd", "CPU figures would be ip's")
    for count, limit in ((1, 30.0), (5, bound + 2)):
        conns, wall, pct = idle_peers(c, count, limit)
        print(f"# {count} idle peer(s): {conns}; {wall:.1f} s, primary CPU "
              f"{'?' if pct is None else f'{pct:.2f}'} % of one core",
              flush=True)
        check(f"4: {count} idle peer(s) closed by the primary within the "
              f"handshake timeout + 3 s ({bound:.0f} s)",
              conns is not None and all(x["closed"] and x["seconds"] <= bound
                                        for x in conns),
              f"expected each closed within {bound:.0f} s; got {conns!r}")
        check(f"4: the primary's CPU stays under 10 % of one core while "
              f"{count} idle peer(s) wait", pct is not None and pct < 10.0,
              f"measured {pct} % over {wall:.1f} s")
    check("4: the cluster is still in sync after the idle peers",
          wait_for(lambda: in_sync(c), 10, 0.2), sync_report(c))


# 5. The primary restarted without its journal.

def section_restart(c):
    if not ensure_cluster(c, "5"):
        return
    kept = {n: vh(self_entry(c.r[n], n)) for n in REPLICAS}
    old = primary_vh(c)
    check("5: the primary stops on SIGTERM", c.p.stop() == 0, c.p.stderr())
    if not c.start_primary(journal=False):
        return
    new = primary_vh(c)
    print(f"# primary restarted without --data-dir: version {old[0]} -> "
          f"{new[0]}; replicas at {kept}", flush=True)
    t0 = time.monotonic()

    # Not just stale (every replica is, until it reconnects): stale because
    # it refuses the primary that came back with another history.
    def refusing(me):
        return me.get("stale") is True and "another cluster" in \
            str(me.get("reason", ""))

    def flagged():
        return all(refusing(self_entry(c.r[n], n)) for n in REPLICAS)
    said = wait_for(flagged, 20, 0.2)
    print(f"# replicas after the restart ({time.monotonic() - t0:.1f} s): "
          f"{[self_entry(c.r[n], n) for n in REPLICAS]}", flush=True)
    for n in REPLICAS:
        me = self_entry(c.r[n], n)
        check(f"5: {n} keeps its version and hash across the journal-less "
              "restart", vh(me) == kept[n],
              f"expected {kept[n]}; got {vh(me)} (primary now at {new})")
        check(f"5: {n}'s /nodes reports stale, refusing a primary of "
              "another cluster (the reason says so)", refusing(me),
              f"expected stale true and a reason naming another cluster; "
              f"got {me!r}"
              + ("" if said else " (waited 20 s)"))
    for n in REPLICAS:
        url = f"http://{c.http_addr(n)}"
        code, out, err = c.ctl_run(url, "resync")
        print(f"# cfgctl resync on {n}: exit {code}: {out.strip()!r} "
              f"{err.strip()!r}", flush=True)
        check(f"5: cfgctl --url {url} resync succeeds", code == 0,
              f"expected exit 0; got {code}, {out!r}, {err!r}")
    t0 = time.monotonic()
    ok = wait_for(lambda: in_sync(c), CONVERGE_WAIT, 0.2)
    print(f"# after resync: in sync after {time.monotonic() - t0:.1f} s: "
          f"{ok}", flush=True)
    check("5: both replicas reach the restarted primary's version and hash",
          ok, sync_report(c))


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    cfgd, ctl = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    source_dir = sys.argv[3]
    probe = os.path.abspath(sys.argv[4]) if len(sys.argv) == 5 and \
        sys.argv[4] else None
    # Fails, never skips: CI runs as root, and a skipped check proves nothing.
    if not check("running as root with `ip netns`",
                 os.geteuid() == 0 and shutil.which("ip") is not None,
                 f"euid {os.geteuid()}, ip at {shutil.which('ip')}"):
        return finish()
    # SIGTERM (ctest's timeout) and SIGHUP unwind like an exception, so the
    # finally blocks and atexit remove what this run made.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signo, _: sys.exit(128 + signo))
    # Scratch directories carry the pid too: a killed run's is removed.
    tmp = tempfile.gettempdir()
    for name in os.listdir(tmp):
        m = re.match(r"^cfgd-netns-(\d+)-", name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            shutil.rmtree(os.path.join(tmp, name), ignore_errors=True)
    workdir = tempfile.mkdtemp(prefix=f"cfgd-netns-{os.getpid()}-")
    net = None

    def cleanup():
        for d in daemon.started:
            d.kill()
        if net is not None:
            net.down()
        shutil.rmtree(workdir, ignore_errors=True)
    atexit.register(cleanup)
    try:
        remove_stale_namespaces(PREFIX)
        net = network().up()
        print(f"# subnet 10.{net.n}.0.0/24, namespaces "
              f"{sorted(net.ns.values())} + {net.switch}", flush=True)
        c = cluster(cfgd, ctl, source_dir, workdir, net)
        if c.start_primary() and all(c.start_replica(n) for n in REPLICAS):
            for section, args in ((section_all_write, (c,)),
                                  (section_partition, (c,)),
                                  (section_probe, (c, probe)),
                                  (section_idle, (c,)),
                                  (section_restart, (c,))):
                run_section(section, *args)
            for d in c.alive():
                check("a node stops on SIGTERM", d.stop() == 0, d.stderr())
    except Exception as e:
        check("the namespace test completes", False, repr(e))
    finally:
        cleanup()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
