#!/usr/bin/env python3
"""Process test of cfgctl as an operator uses it, against real cfgd
processes: history dates, watch (changed paths, removals, secrets masked,
reconnecting across a cfgd restart without missing or doubling a version),
the exit-code table in text and --json, acks only when asked for, nodes and
sources as aligned tables, --help of every command, get --explain and the
shadowed-file-edit warning, and diff of the last change (GET /diff?last=N).

Usage: cfgctl_ops_test.py CFGD_BINARY CFGCTL_BINARY SOURCE_DIR
"""

import datetime
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

from cfgd_harness import check, daemon, get_json, run_sections, write

WRITE = "w" * 8 + "-write-token-0123456789"
OPS = "o" * 8 + "-secrets-token-012345"    # read + secrets
READ = "r" * 8 + "-read-token-0123456789"
WRONG = "x" * 8 + "-write-token-0123456789"  # WRITE's length, not a token
API_KEY = "apikey-5f0c1e2d9a8b7c6d"          # a secret: never shown masked
WAIT = 20

SCHEMA = {
    "type": "object",
    "properties": {
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "pool": {"type": "integer"},
        "api": {"type": "object", "properties": {
            "key": {"type": "string", "x-secret": True}}},
        "logging": {"type": "object", "properties": {
            "level": {"enum": ["DEBUG", "INFO", "ERROR"]}}},
        "features": {"type": "object"},
    },
}

CONFIG = {"port": 8080, "pool": 3, "other": 1, "api": {"key": API_KEY},
          "logging": {"level": "INFO"}, "features": {"beta": False}}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def eventually(pred, wait=WAIT):
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


class setup:
    """A scratch directory with schema, config file and named tokens."""

    def __init__(self, binary, ctl, workdir, name, config=None):
        self.binary, self.ctl = binary, ctl
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        self.schema = write(os.path.join(self.dir, "schema.json"),
                            json.dumps(SCHEMA))
        self.config = write(os.path.join(self.dir, "config.json"),
                            json.dumps(config or CONFIG))
        self.tokens = write(os.path.join(self.dir, "tokens"),
                            f"w:write:{WRITE}\nops:read,secrets:{OPS}\n"
                            f"r:read:{READ}\n")
        os.chmod(self.tokens, 0o600)
        self.d = None

    def start(self, *more, env=None, http="127.0.0.1:0", files=True):
        args = ["--http", http, "--token-file", self.tokens]
        if files:
            args += ["--schema", self.schema, "--file", self.config]
        self.d = daemon(self.binary, args + list(more), self.dir, env=env)
        return self.d if self.d.wait_listening() else None

    def run(self, *args, token=WRITE, url=None, timeout=60):
        """cfgctl ARGS: (exit code, stdout, stderr)."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("CFGD_TOKEN", "CFGD_URL")}
        if token:
            env["CFGD_TOKEN"] = token
        res = subprocess.run([self.ctl, "--url", url or self.d.url]
                             + list(args), capture_output=True, text=True,
                             timeout=timeout, env=env)
        return res.returncode, res.stdout, res.stderr

    def watch(self, *args, token=WRITE):
        """A running `cfgctl ARGS` whose stdout and stderr lines are
        collected in the background."""
        env = dict(os.environ, CFGD_TOKEN=token)
        env.pop("CFGD_URL", None)
        w = watcher(subprocess.Popen(
            [self.ctl, "--url", self.d.url] + list(args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env))
        return w


class watcher:
    def __init__(self, proc):
        self.proc, self.out, self.err = proc, [], []
        for stream, lines in ((proc.stdout, self.out), (proc.stderr, self.err)):
            threading.Thread(target=lambda s=stream, l=lines: [
                l.append(x.rstrip("\n")) for x in s], daemon=True).start()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def json_lines(self):
        out = []
        for line in list(self.out):
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"not_json": line})
        return out


def version_of(d):
    _, hdrs, _ = get_json(d, "/config")
    return int(hdrs.get("X-Config-Version", "0"))


# -- 1. history shows real dates ---------------------------------------------

def test_history_dates(binary, ctl, workdir):
    s = setup(binary, ctl, workdir, "history")
    if not s.start():
        return
    s.run("set", "port", "8081")
    s.run("set", "port", "8082")
    before = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    code, out, err = s.run("history")
    after = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    rows = [l for l in out.splitlines()[1:] if l.strip()]
    check("cfgctl history exits 0 and lists the 3 versions",
          code == 0 and len(rows) == 3, f"{code} {out!r} {err!r}")
    dates = [l.split()[1][:10] if len(l.split()) > 1 else "" for l in rows]
    check("every row's TIME is today's UTC date (not 1970)",
          rows and all(x in (before, after) for x in dates),
          f"today {before}: {dates}")
    check("the TIME column says it is UTC",
          "TIME (UTC)" in out.splitlines()[0] if out else False, repr(out))
    code, out, _ = s.run("--json", "history")
    stamps = [r.get("timestamp_ms", 0) for r in json.loads(out)] \
        if code == 0 else []
    now_ms = time.time() * 1000
    check("--json history: every timestamp_ms within the last minute",
          stamps and all(now_ms - 60000 < t <= now_ms + 1000 for t in stamps),
          repr(stamps))
    s.d.stop()


# -- 2. watch: changed paths, removals, secrets masked ------------------------

def test_watch_changes(binary, ctl, workdir):
    s = setup(binary, ctl, workdir, "watch")
    if not s.start():
        return
    port_json = s.watch("--json", "watch", "port")
    port_text = s.watch("watch", "port")
    api_json = s.watch("--json", "watch", "api")           # no secrets scope
    api_ops = s.watch("--json", "watch", "api", token=OPS)  # secrets scope
    watchers = [port_json, port_text, api_json, api_ops]
    check("every watcher starts (a `watching` line)",
          eventually(lambda: all(any("watching" in l for l in w.out + w.err)
                                 for w in watchers)),
          repr([(w.out, w.err) for w in watchers]))
    start = version_of(s.d)
    new_key = "apikey-0a1b2c3d4e5f6a7b"  # same length as API_KEY
    steps = [("set", "logging.level", "DEBUG"),   # start+1: not port
             ("set", "port", "8081"),             # start+2
             ("set", "api.key", new_key),         # start+3: not port
             ("unset", "port")]                   # start+4: a removal
    for step in steps:
        code, out, err = s.run(*step)
        check(f"cfgctl {' '.join(step)} commits", code == 0, f"{code} {err!r}")
    check("the port watchers print 2 lines, the api ones 1",
          eventually(lambda: len(port_json.out) >= 2
                     and len(port_text.out) >= 3 and len(api_json.out) >= 1
                     and len(api_ops.out) >= 1), repr(
                         [w.out for w in watchers]))
    time.sleep(0.5)  # anything extra would show by now
    for w in watchers:
        w.stop()
    lines = port_json.json_lines()
    check("--json watch port: only the versions that touched port",
          [l.get("version") for l in lines] == [start + 2, start + 4],
          repr(lines))
    check("--json watch port: a change has path, old and new",
          lines and lines[0].get("changes") == [
              {"path": "port", "old": 8080, "new": 8081}], repr(lines))
    check("--json watch port: a removal reads as one (old, removed: true, "
          "no new)",
          len(lines) > 1 and lines[1].get("changes") == [
              {"path": "port", "old": 8081, "removed": True}], repr(lines))
    text = port_text.out
    check("text watch port: `port: 8080 -> 8081`",
          len(text) >= 2 and text[1] == f"version {start + 2}: port: 8080 "
          "-> 8081", repr(text))
    check("text watch port: `port: 8081 -> (removed)`, not -8081",
          len(text) >= 3 and text[2] == f"version {start + 4}: port: 8081 "
          "-> (removed)" and len(text) == 3, repr(text))
    masked = api_json.json_lines()
    leaked = [x for x in (API_KEY, new_key) if x in "\n".join(api_json.out)]
    check("--json watch api without the secrets scope: the key change, "
          "masked", [l.get("version") for l in masked] == [start + 3]
          and masked[0]["changes"][0].get("path") == "api.key"
          and not leaked, f"{masked!r} leaked={leaked}")
    full = api_ops.json_lines()
    check("--json watch api with the secrets scope: old and new shown",
          full and full[0].get("changes") == [
              {"path": "api.key", "old": API_KEY, "new": new_key}],
          repr(full))
    s.d.stop()


# -- 3. watch reconnects across a cfgd restart --------------------------------

def test_watch_reconnect(binary, ctl, workdir):
    s = setup(binary, ctl, workdir, "reconnect")
    port = free_port()
    data = os.path.join(s.dir, "data")
    args = ("--data-dir", data)
    if not s.start(*args, http=f"127.0.0.1:{port}"):
        return
    w = s.watch("--json", "watch")
    check("watch starts", eventually(lambda: any("watching" in l
                                                 for l in w.err)), w.err)
    start = version_of(s.d)
    s.run("set", "pool", "10")                                # start+1
    check("the first change is printed",
          eventually(lambda: len(w.out) >= 1), repr(w.out))
    # cfgctl frozen while cfgd restarts and commits two versions: on waking
    # its connection is dead and the pushes between were never sent to it.
    os.kill(w.proc.pid, signal.SIGSTOP)
    s.d.stop()
    if not s.start(*args, http=f"127.0.0.1:{port}"):
        os.kill(w.proc.pid, signal.SIGCONT)
        w.stop()
        return
    s.run("set", "pool", "11")                                # start+2
    s.run("set", "pool", "12")                                # start+3
    os.kill(w.proc.pid, signal.SIGCONT)
    check("after the restart cfgctl catches up on both versions",
          eventually(lambda: len(w.out) >= 3), repr(w.out))
    # A plain restart under a running watch: cfgd down for a moment.
    s.d.stop()
    time.sleep(0.5)
    if not s.start(*args, http=f"127.0.0.1:{port}"):
        w.stop()
        return
    check("cfgctl reconnects (a `resuming after version` note)",
          eventually(lambda: sum("resuming after version" in l
                                 for l in w.err) >= 2), repr(w.err))
    s.run("set", "pool", "13")                                # start+4
    check("and prints the next change",
          eventually(lambda: len(w.out) >= 4), repr(w.out))
    time.sleep(0.5)
    alive = w.proc.poll() is None
    w.stop()
    lines = w.json_lines()
    versions = [l.get("version") for l in lines]
    check("cfgctl watch did not exit when cfgd went away", alive,
          repr(w.err))
    check("every version once, none missed, none doubled",
          versions == [start + 1, start + 2, start + 3, start + 4],
          f"start {start}: {versions}")
    check("each with its own change (10, 11, 12, 13 in order)",
          [l.get("changes", [{}])[0].get("new") for l in lines]
          == [10, 11, 12, 13], repr(lines))
    check("a note on stderr says it lost cfgd and backs off",
          any("reconnecting in" in l for l in w.err), repr(w.err))
    s.d.stop()


# -- 4. one exit-code table, text and --json ---------------------------------

def silent_listener():
    """A TCP port that accepts connections and never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    return srv


def test_exit_codes(binary, ctl, workdir):
    s = setup(binary, ctl, workdir, "exits")
    if not s.start():
        return
    dead = f"http://127.0.0.1:{free_port()}"
    silent = silent_listener()
    silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    for mode in ([], ["--json"]):
        m = "--json" if mode else "text"

        def expect(code_wanted, what, args, names=None, **kw):
            code, out, err = s.run(*mode, *args, **kw)
            ok = code == code_wanted
            if ok and names:
                ok = names in err
            if ok and mode and code_wanted not in (0, 2, 6):
                # --json: the failure also as one JSON object on stdout.
                try:
                    ok = json.loads(out).get("exit") == code_wanted
                except ValueError:
                    ok = False
            check(f"{m}: {what} exits {code_wanted}", ok,
                  f"{code} {out!r} {err!r}")
            return out

        expect(0, "get", ["get", "port"])
        expect(1, "a value the schema refuses (422)",
               ["set", "port", "99999"], names=f"PUT {s.d.url}/config/port")
        expect(0, "the same write with a valid value",
               ["set", "port", "65535"])
        expect(1, "get of a path that does not exist (404)",
               ["get", "nothere"], names=f"GET {s.d.url}/config/nothere")
        expect(2, "an unknown command (usage)", ["frobnicate"])
        expect(2, "set without its value (usage)", ["set", "port"])
        expect(2, "a --token-file that does not exist (usage)",
               ["--token-file", os.path.join(s.dir, "no-such-file"), "get"],
               names="--token-file " + os.path.join(s.dir, "no-such-file")
               + ": cannot open it")
        expect(3, "an address nothing listens on (unreachable)",
               ["get", "port"], url=dead, names=dead)
        expect(4, "a write with a wrong token (401)",
               ["set", "port", "8081"], token=WRONG,
               names=f"PUT {s.d.url}/config/port")
        expect(4, "a write with a read-only token (403)",
               ["set", "port", "8082"], token=READ)
        code, out, _ = s.run("--json", "history", "--limit", "1")
        head = json.loads(out)[0]["hash"] if code == 0 else ""
        expect(0, "a write --if-match the current hash",
               ["--if-match", head, "set", "port", "8083"])
        expect(5, "the same --if-match, now stale (409 conflict)",
               ["--if-match", head, "set", "port", "8084"],
               names=f"PUT {s.d.url}/config/port")
        # Same length, one character no hex digit: it would go into a
        # header, so it is refused before any request.
        expect(2, "an --if-match that is no hash (usage)",
               ["--if-match", head[:-1] + "\n", "set", "port", "8085"],
               names="--if-match")
        expect(7, "a server that never answers (no answer in time)",
               ["--timeout-ms", "300", "get", "port"], url=silent_url,
               names=silent_url)
    silent.close()
    s.d.stop()
    exit_unconfirmed(binary, ctl, workdir)


def exit_unconfirmed(binary, ctl, workdir):
    """6: an `all` write whose replica is gone commits but is not acked."""
    s = setup(binary, ctl, workdir, "unconfirmed")
    cport = free_port()
    p = s.start("--cluster-port", str(cport), "--node-name", "primary",
                "--write-timeout-ms", "800",
                "--data-dir", os.path.join(s.dir, "p"))
    if not p:
        return
    r = daemon(binary, ["--http", "127.0.0.1:0", "--token-file", s.tokens,
                        "--node-name", "r1", "--join",
                        f"127.0.0.1:{cport}"], s.dir)
    if not r.wait_listening():
        return

    def state():
        status, _, body = get_json(p, "/nodes")
        return {n["name"]: n.get("state") for n in body.get("nodes", [])} \
            if status == 200 else {}
    check("r1 connects", eventually(lambda: state().get("r1") == "connected"),
          repr(state()))
    # 6. nodes as a table while a replica is connected.
    code, out, _ = s.run("nodes")
    check("cfgctl nodes: a row per node, aligned, no `no replicas` line",
          code == 0 and aligned(out) and len(out.splitlines()) == 3
          and "no replicas" not in out, repr(out))
    code, out, _ = s.run("flag", "one", "on", "--create",
                         "--consistency", "all")
    check("an all write with r1 connected exits 0 and lists it as acked",
          code == 0 and "acked: r1" in out and "missing" not in out,
          f"{code} {out!r}")
    r.kill()
    check("the primary sees r1 gone",
          eventually(lambda: state().get("r1") == "disconnected"),
          repr(state()))
    for n, mode in enumerate(([], ["--json"])):
        name = f"gone{n}"
        code, out, err = s.run(*mode, "flag", name, "on", "--create",
                               "--consistency", "all")
        body = {}
        if mode:
            try:
                body = json.loads(out)
            except ValueError:
                pass
        shown = body.get("satisfied") is False and \
            body.get("missing") == ["r1"] if mode else \
            "missing: r1" in out and "committed" in err
        status, _, value = get_json(p, f"/config/features.{name}")
        check(f"{'--json' if mode else 'text'}: an all write r1 never acked "
              "exits 6, says who is missing, and is committed",
              code == 6 and shown and status == 200 and value is True,
              f"{code} {out!r} {err!r} {status} {value!r}")
    p.stop()


# -- 5. acks only when asked for ----------------------------------------------

def test_acks_only_when_asked(binary, ctl, workdir):
    s = setup(binary, ctl, workdir, "acks")
    if not s.start():
        return
    for args in (["set", "port", "8081"],
                 ["--consistency", "local", "set", "port", "8082"]):
        code, out, err = s.run(*args)
        check(f"cfgctl {' '.join(args)}: one line, no acked/missing noise",
              code == 0 and len(out.splitlines()) == 1
              and out.startswith("committed version") and "acked" not in out
              and "missing" not in out, f"{code} {out!r} {err!r}")
    code, out, _ = s.run("--consistency", "all", "set", "port", "8083")
    check("--consistency all prints the acks it asked for",
          code == 0 and "acked: none" in out, f"{code} {out!r}")
    s.d.stop()


# -- 6. nodes and sources as aligned tables ------------------------------------

def aligned(text):
    """Each row's cells start where the header's columns start."""
    lines = [l for l in text.splitlines() if l.strip()]
    if len(lines) < 2:
        return False
    header = lines[0]  # columns are 2+ spaces apart (`LAST ERROR` is one)
    starts = [m.start() for m in re.finditer(r"(?:^|(?<=  ))\S", header)]
    for line in lines[1:]:
        if line.startswith("no "):
            continue
        for x in starts[1:]:
            if len(line) <= x or line[x] == " " or line[x - 1] != " ":
                return False
    return True


def test_tables(binary, ctl, workdir):
    s = setup(binary, ctl, workdir, "tables")
    env = dict(os.environ, CFGT_POOL="4")
    if not s.start("--env-prefix", "CFGT_", env=env):
        return
    code, out, _ = s.run("nodes")
    lines = out.splitlines()
    check("cfgctl nodes on a primary alone: a header, its row, aligned",
          code == 0 and lines and lines[0].split()[:3]
          == ["NAME", "ROLE", "STATE"] and "primary" in lines[1]
          and aligned(out), repr(out))
    check("and one clear line: no replicas connected",
          lines and lines[-1] == "no replicas connected", repr(out))
    code, out, _ = s.run("sources")
    lines = out.splitlines()
    check("cfgctl sources: a header and one row per source, aligned",
          code == 0 and lines and lines[0].split()[:3]
          == ["KIND", "STATE", "LAYER"] and len(lines) == 3
          and aligned(out) and s.config in out, repr(out))
    s.d.stop()
    s2 = setup(binary, ctl, workdir, "tables-empty")
    if not s2.start(files=False):
        return
    code, out, _ = s2.run("sources")
    check("cfgctl sources without any: one clear line",
          code == 0 and out.startswith("no sources")
          and len(out.splitlines()) == 1, repr(out))
    s2.d.stop()


# -- 7. every command's --help --------------------------------------------------

def test_help(binary, ctl, workdir):
    top = subprocess.run([ctl, "--help"], capture_output=True, text=True,
                         timeout=30).stdout
    section = top.split("Subcommands:", 1)[-1].split("\n\n", 1)[0]
    subs = [l.split()[0] for l in section.splitlines() if l.strip()]
    check("cfgctl --help lists the commands", len(subs) >= 13, repr(subs))
    positionals = 0
    for sub in subs:
        text = subprocess.run([ctl, sub, "--help"], capture_output=True,
                              text=True, timeout=30).stdout
        check(f"cfgctl {sub} --help has an example",
              re.search(rf"^Example: cfgctl .*\b{sub}\b", text, re.M)
              is not None, repr(text))
        if "Positionals:" not in text:
            continue
        block = text.split("Positionals:", 1)[1].split("\n\n", 1)[0]
        rows = block.splitlines()
        for i, row in enumerate(rows):
            if not re.match(r"^  \S", row):
                continue
            positionals += 1
            help_text = row[30:].strip() if len(row) > 30 else ""
            if not help_text and i + 1 < len(rows) \
                    and rows[i + 1].startswith(" " * 30):
                help_text = rows[i + 1].strip()
            check(f"cfgctl {sub}: positional {row.split()[0]} has help",
                  help_text != "", repr(row))
    check("positionals were found and checked", positionals >= 12,
          str(positionals))


# -- 8. get --explain and the shadowed file edit -------------------------------

def test_explain(binary, ctl, workdir):
    s = setup(binary, ctl, workdir, "explain")
    env = dict(os.environ, CFGX_POOL="4")
    if not s.start("--env-prefix", "CFGX_", env=env):
        return
    s.run("set", "pool", "5")
    runtime_key = "apikey-9e8d7c6b5a4f3e2d"  # same length as API_KEY
    s.run("set", "api.key", runtime_key)
    code, out, err = s.run("get", "--explain", "pool")
    check("get --explain pool: runtime wins and shadows env and the file",
          code == 0 and out.strip()
          == f"runtime: 5 (shadows env: 4, file:{s.config}: 3)",
          f"{code} {out!r} {err!r}")
    code, out, _ = s.run("--json", "get", "--explain", "pool")
    body = json.loads(out) if code == 0 else {}
    check("--json: layer, value and the shadowed layers in order",
          body.get("layer") == "runtime" and body.get("value") == 5
          and [(x["layer"], x["value"]) for x in body.get("shadows", [])]
          == [("env", 4), (f"file:{s.config}", 3)], repr(out))
    code, out, _ = s.run("get", "--explain", "other")
    check("a path only the file sets: the file, shadowing nothing",
          code == 0 and out.strip() == f"file:{s.config}: 1", repr(out))
    code, out, _ = s.run("get", "--explain", "api.key")
    check("api.key without the secrets scope: runtime wins, both masked",
          code == 0 and out.startswith("runtime: ") and "shadows file:" in out
          and API_KEY not in out and runtime_key not in out, repr(out))
    code, out, _ = s.run("get", "--explain", "api.key", token=OPS)
    check("api.key with the secrets scope: both values shown",
          code == 0 and out.strip() == f"runtime: {runtime_key} (shadows "
          f"file:{s.config}: {API_KEY})", repr(out))
    code, out, err = s.run("get", "--explain", "nowhere")
    check("a path no layer sets: exit 1, `not set in any layer`",
          code == 1 and "nowhere: not set in any layer" in err,
          f"{code} {out!r} {err!r}")
    code, out, _ = s.run("unset", "other")
    code, out, _ = s.run("get", "--explain", "other")
    check("after unset: runtime removes it, shadowing the file",
          code == 0 and out.strip()
          == f"runtime: (removed) (shadows file:{s.config}: 1)", repr(out))

    # The file edits pool (shadowed by runtime and env) and port (not).
    v = version_of(s.d)
    edited = dict(CONFIG, pool=7, port=8090)
    write(s.config, json.dumps(edited))
    check("the file edit is committed",
          eventually(lambda: version_of(s.d) > v), str(version_of(s.d)))
    log = ""

    def warned():
        nonlocal log
        log = s.d.stderr()
        return "event=file_edit_shadowed" in log
    check("cfgd logs a warning for the shadowed path",
          eventually(warned) and re.search(
              r'event=file_edit_shadowed layer="file:[^"]*config.json" '
              r'path="pool" shadowed_by="runtime"', log) is not None,
          log[-2000:])
    check("and none for the path the edit did change",
          'path="port"' not in log, log[-2000:])
    s.d.stop()


# -- 9. diff of the last change -------------------------------------------------

def test_diff_last(binary, ctl, workdir):
    s = setup(binary, ctl, workdir, "diff")
    if not s.start():
        return
    code, out, err = s.run("diff")
    check("cfgctl diff with one version: exit 1 and a clear message",
          code == 1 and "holds only version 1" in err, f"{code} {out!r} {err!r}")
    status, _, body = get_json(s.d, "/diff?last=1")
    check("GET /diff?last=1 with one version is 404 naming why",
          status == 404 and "only version 1" in json.dumps(body),
          f"{status} {body!r}")
    s.run("set", "port", "8081")
    code, out, err = s.run("diff")
    check("cfgctl diff: the last change, 1 -> 2",
          code == 0 and out.splitlines() == [
              "last change: version 1 -> 2", "~ port: 8080 -> 8081"],
          f"{code} {out!r} {err!r}")
    s.run("set", "api.key", "apikey-1234567890abcdef")
    s.run("unset", "pool")
    status, _, body = get_json(s.d, "/diff?last=1")
    check("GET /diff?last=1: the last version's change only",
          status == 200 and body.get("from") == 3 and body.get("to") == 4
          and list(body.get("changes", {})) == ["pool"], f"{status} {body!r}")
    code, out, _ = s.run("diff")
    check("cfgctl diff shows a removal as one",
          code == 0 and "- pool: 3 -> (removed)" in out, repr(out))
    status, _, body = get_json(s.d, "/diff?last=2")
    text = json.dumps(body)
    check("GET /diff?last=2: from 2 to 4, the secret masked",
          status == 200 and body.get("from") == 2 and body.get("to") == 4
          and "api.key" in body.get("changes", {})
          and "apikey-1234567890abcdef" not in text and API_KEY not in text,
          f"{status} {body!r}")
    status, _, body = get_json(s.d, "/diff?last=2",
                               {"Authorization": "Bearer " + OPS})
    check("... and shown to a secrets token",
          status == 200 and "apikey-1234567890abcdef" in json.dumps(body),
          f"{status} {body!r}")
    for query, why in (("last=0", "last must be"), ("last=x", "last must be"),
                       ("last=1&from=1", "excludes")):
        status, _, body = get_json(s.d, "/diff?" + query)
        check(f"GET /diff?{query} is 400 saying why",
              status == 400 and why in json.dumps(body), f"{status} {body!r}")
    s.d.stop()


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    binary, ctl = sys.argv[1], sys.argv[2]
    sections = [test_history_dates, test_watch_changes, test_watch_reconnect,
                test_exit_codes, test_acks_only_when_asked, test_tables,
                test_help, test_explain, test_diff_last]
    def bound(f):
        def section(workdir):
            f(binary, ctl, workdir)
        section.__name__ = f.__name__
        return section
    return run_sections("cfgctl-ops-", [bound(f) for f in sections])


if __name__ == "__main__":
    sys.exit(main())
