#!/usr/bin/env python3
"""Process test of the cluster: 1 primary and 3 replica cfgd processes on
loopback, cluster-wide writes with consistency levels, and failures.

Usage: cfgd_cluster_test.py CFGD_BINARY CFGCTL_BINARY SOURCE_DIR
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from cfgd_harness import check, daemon, finish, get_json, write

TOKEN = "cluster-token-0123456789"
SECRET = "cluster-secret-0123456789abcdef"
WRONG_SECRET = "cluster-secret-0123456789abcdeF"  # same length, one byte off
WAIT = 20  # seconds for any condition


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def eventually(pred):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def post(d, path, body):
    req = urllib.request.Request(
        d.url + path, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json",
                 "Authorization": "Bearer " + TOKEN})
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, json.loads(res.read().decode())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def delete(d, path):
    req = urllib.request.Request(
        d.url + path, method="DELETE",
        headers={"Authorization": "Bearer " + TOKEN})
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, json.loads(res.read().decode())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def head(d):
    """(version, hash) of d's current config, or None."""
    try:
        status, hdrs, _ = get_json(d, "/config")
    except OSError:
        return None
    if status != 200:
        return None
    return int(hdrs.get("X-Config-Version", "0")), hdrs.get("ETag", "")


def nodes(d):
    try:
        status, _, body = get_json(d, "/nodes")
    except OSError:
        return {}
    if status != 200:
        return {}
    return {n["name"]: n for n in body.get("nodes", [])}


def cfgctl(binary, d, *args):
    env = dict(os.environ, CFGD_TOKEN=TOKEN)
    res = subprocess.run([binary, "--url", d.url] + list(args),
                         capture_output=True, text=True, timeout=60, env=env)
    return res.returncode, res.stdout, res.stderr


def secret_file(workdir, name, text):
    path = write(os.path.join(workdir, name), text + "\n")
    os.chmod(path, 0o600)
    return path


class cluster:
    """A primary and its replicas on loopback; with `secret`, the cluster
    link proves a shared secret (--cluster-listen, --cluster-secret-file),
    else it runs without one (--cluster-port: loopback only)."""

    def __init__(self, binary, source_dir, workdir, secret=True):
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.tokens = write(os.path.join(workdir, "tokens"), TOKEN + "\n")
        self.schema = os.path.join(source_dir, "examples", "schema.json")
        self.cfg = os.path.join(source_dir, "examples", "config.yaml")
        self.secret = secret_file(workdir, "cluster.secret", SECRET) \
            if secret else None

    def primary(self):
        link = ["--cluster-listen", f"127.0.0.1:{self.port}",
                "--cluster-secret-file", self.secret] if self.secret \
            else ["--cluster-port", str(self.port)]
        d = daemon(self.binary,
                   ["--http", "127.0.0.1:0", "--schema", self.schema,
                    "--file", self.cfg, "--token-file", self.tokens,
                    "--node-name", "primary", "--write-timeout-ms", "1500",
                    "--data-dir", os.path.join(self.workdir, "primary")]
                   + link,
                   self.workdir)
        return d if d.wait_listening() else None

    def replica(self, name, secret=None, extra=()):
        secret = secret or self.secret
        d = daemon(self.binary,
                   ["--http", "127.0.0.1:0", "--token-file", self.tokens,
                    "--node-name", name, "--join",
                    f"127.0.0.1:{self.port}"]
                   + (["--cluster-secret-file", secret] if secret else [])
                   + list(extra),
                   self.workdir)
        return d if d.wait_listening() else None


def put_many(d, count):
    """PUTs `count` versions over one keep-alive connection; returns how
    many were committed."""
    host, port = d.url.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    committed = 0
    try:
        for i in range(count):
            conn.request("PUT", "/config/load.counter", body=str(i),
                         headers={"Authorization": "Bearer " + TOKEN,
                                  "Content-Type": "application/json"})
            res = conn.getresponse()
            body = res.read()
            if res.status == 200 and \
                    json.loads(body).get("status") == "committed":
                committed += 1
    finally:
        conn.close()
    return committed


def converged(p, replicas):
    want = head(p)
    return want is not None and all(head(r) == want for r in replicas)


def test_cluster(binary, ctl, source_dir, workdir):
    c = cluster(binary, source_dir, workdir)
    p = c.primary()
    if not p:
        return
    names = ["r1", "r2", "r3"]
    rs = {n: c.replica(n) for n in names}
    if not all(rs.values()):
        return
    check("3 replicas converge to the primary's version and hash",
          eventually(lambda: converged(p, rs.values())),
          f"{head(p)} vs {[head(r) for r in rs.values()]}")
    check("the primary lists 3 connected replicas",
          eventually(lambda: all(nodes(p).get(n, {}).get("state")
                                 == "connected" for n in names)),
          repr(nodes(p)))

    code, out, err = cfgctl(ctl, p, "flag", "new_algorithm", "on",
                            "--consistency", "all")
    check("cfgctl flag --consistency all succeeds", code == 0,
          f"{code} {out!r} {err!r}")
    acked_line = [l for l in out.splitlines() if l.startswith("acked:")]
    check("it lists all 3 replicas as acked",
          acked_line and all(n in acked_line[0] for n in names), repr(out))
    for n, r in rs.items():
        status, _, value = get_json(r, "/config/features.new_algorithm")
        check(f"{n} serves the flag once the write returned",
              status == 200 and value is True, f"{status} {value!r}")

    # One replica dies.
    rs["r3"].kill()
    check("the primary sees r3 gone",
          eventually(lambda: nodes(p).get("r3", {}).get("state")
                     == "disconnected"), repr(nodes(p)))
    status, body = post(p, "/features/beta_ui?consistency=all&timeout_ms=1000",
                        {"enabled": True})
    check("an all write reports r3 missing after its timeout",
          status == 200 and body.get("satisfied") is False
          and body.get("missing") == ["r3"]
          and sorted(body.get("acked", [])) == ["r1", "r2"],
          f"{status} {body!r}")
    # A consistent write waits on an actor, never on cfgd's io thread: while
    # one waits 3 s for r3, reads and other writes are answered.
    slow = {}
    writer = threading.Thread(target=lambda: slow.update(res=post(
        p, "/features/slow_all?consistency=all&timeout_ms=3000&create=true",
        {"enabled": True})))
    writer.start()
    time.sleep(0.3)  # lets the slow write reach the primary first
    health, _, _ = get_json(p, "/healthz")
    local, _ = post(p, "/features/fast_local?create=true", {"enabled": True})
    answered_meanwhile = writer.is_alive()
    writer.join()
    check("while an all write waits for a dead replica, /healthz and a local "
          "write are answered",
          health == 200 and local == 200 and answered_meanwhile
          and slow.get("res", (0, {}))[1].get("missing") == ["r3"],
          f"healthz {health}, local write {local}, answered before the slow "
          f"write returned: {answered_meanwhile}, slow: {slow!r}")
    status, body = post(p, "/features/beta_ui?consistency=majority",
                        {"enabled": False})
    check("a majority write succeeds without r3",
          status == 200 and body.get("satisfied") is True, f"{status} {body!r}")
    # A write through a replica is forwarded and acknowledged.
    status, body = post(rs["r1"],
                        "/features/via_replica?consistency=majority&create=true",
                        {"enabled": True})
    check("a write on a replica commits on the primary",
          status == 200 and body.get("status") == "committed"
          and body.get("satisfied") is True, f"{status} {body!r}")
    rs["r3"] = c.replica("r3")
    if not rs["r3"]:
        return
    check("the restarted r3 converges to the primary's version and hash",
          eventually(lambda: converged(p, rs.values())),
          f"{head(p)} vs {[head(r) for r in rs.values()]}")

    # The primary dies: replicas keep serving and say they are stale.
    last = head(p)
    p.kill()
    check("replicas report stale without the primary",
          eventually(lambda: all(nodes(r).get(n, {}).get("stale") is True
                                 for n, r in rs.items())),
          repr([nodes(r) for r in rs.values()]))
    check("replicas keep serving the last config",
          all(head(r) == last for r in rs.values()),
          f"{last} vs {[head(r) for r in rs.values()]}")
    status, body = post(rs["r2"], "/features/x?create=true", {"enabled": True})
    check("a write on a replica without a primary answers 503",
          status == 503, f"{status} {body!r}")
    p = c.primary()
    if not p:
        return
    check("replicas resync with the restarted primary",
          eventually(lambda: converged(p, rs.values())
                     and all(nodes(r).get(n, {}).get("stale") is False
                             for n, r in rs.items())),
          f"{head(p)} vs {[head(r) for r in rs.values()]}")
    status, body = post(p, "/features/new_algorithm?consistency=all",
                        {"enabled": False})
    check("the restarted primary continues from its journal: the next "
          "write gets a higher version than any before",
          status == 200 and body.get("version", 0) > last[0],
          f"{status} {body!r} vs {last}")
    check("after the resync an all write is acked by all 3",
          status == 200 and body.get("satisfied") is True
          and sorted(body.get("acked", [])) == names, f"{status} {body!r}")
    code, out, err = cfgctl(ctl, p, "flag", "new_algorithm", "on",
                            "--consistency", "all")
    check("cfgctl flag --consistency all lists all 3 after the resync",
          code == 0 and all(n in out for n in names), f"{code} {out!r} {err!r}")

    # A replica that joins after 1,000 more writes (far more than the
    # primary's history of 100) converges by a full snapshot.
    before = head(p)
    committed = put_many(p, 1000)
    check("1,000 writes commit", committed == 1000, f"{committed}")
    check("the primary moved 1,000 versions",
          head(p)[0] == before[0] + 1000, f"{before} -> {head(p)}")
    rs["r4"] = c.replica("r4")
    if not rs["r4"]:
        return
    check("a replica started after 1,000 writes converges to the same "
          "version and hash",
          eventually(lambda: converged(p, rs.values())),
          f"{head(p)} vs {[head(r) for r in rs.values()]}")
    status, _, value = get_json(rs["r4"], "/config/load.counter")
    check("it serves the last written value", status == 200 and value == 999,
          f"{status} {value!r}")
    check("the primary lists r4 connected with no lag",
          eventually(lambda: nodes(p).get("r4", {}).get("state") == "connected"
                     and nodes(p).get("r4", {}).get("lag") == 0),
          repr(nodes(p).get("r4")))
    # A replica gone for good is forgotten on request, not while connected.
    status, body = delete(p, "/nodes/r4")
    check("a connected replica cannot be forgotten",
          status == 400 and "connected" in str(body), f"{status} {body!r}")
    rs.pop("r4").kill()
    check("the primary sees r4 gone",
          eventually(lambda: nodes(p).get("r4", {}).get("state")
                     == "disconnected"), repr(nodes(p)))
    status, body = delete(p, "/nodes/r4")
    check("DELETE /nodes/r4 forgets it", status == 200, f"{status} {body!r}")
    check("it is no longer listed", "r4" not in nodes(p), repr(nodes(p)))
    status, body = delete(p, "/nodes/r4")
    check("forgetting an unknown replica is a 404", status == 404,
          f"{status} {body!r}")
    status, body = post(p, "/features/after_forget?consistency=all&create=true",
                        {"enabled": True})
    check("an all write no longer waits for the forgotten replica",
          status == 200 and body.get("satisfied") is True
          and sorted(body.get("acked", [])) == names
          and body.get("missing") == [], f"{status} {body!r}")
    for d in [p] + list(rs.values()):
        check("a cluster node stops on SIGTERM", d.stop() == 0, d.stderr())


def metrics(d):
    req = urllib.request.Request(d.url + "/metrics",
                                 headers={"Authorization": "Bearer " + TOKEN})
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.read().decode()
    except (OSError, urllib.error.HTTPError):
        return ""


def start_fails(binary, args, workdir):
    """(exit code, stderr) of a cfgd that must refuse to start."""
    res = subprocess.run([binary, "--http", "127.0.0.1:0"] + args,
                         capture_output=True, text=True, timeout=60,
                         cwd=workdir)
    return res.returncode, res.stderr


def test_link(binary, source_dir, workdir):
    """Who gets in through the cluster link: the secret's file, the listen
    address, and a replica with a wrong secret."""
    os.makedirs(workdir)
    port = free_port()
    code, err = start_fails(binary, ["--cluster-listen", f"0.0.0.0:{port}"],
                            workdir)
    check("cfgd refuses a cluster port beyond loopback without a secret",
          code != 0 and "needs a cluster secret" in err, f"{code} {err!r}")
    loose = write(os.path.join(workdir, "loose.secret"), SECRET + "\n")
    os.chmod(loose, 0o644)
    code, err = start_fails(binary, ["--cluster-listen", f"0.0.0.0:{port}",
                                     "--cluster-secret-file", loose], workdir)
    check("cfgd refuses a cluster secret file others may read",
          code != 0 and "chmod 600" in err, f"{code} {err!r}")
    short = secret_file(workdir, "short.secret", "tiny")
    code, err = start_fails(binary, ["--cluster-port", str(port),
                                     "--cluster-secret-file", short], workdir)
    check("cfgd refuses a cluster secret under 16 bytes",
          code != 0 and "at least 16 bytes" in err, f"{code} {err!r}")
    c = cluster(binary, source_dir, workdir)
    p = c.primary()
    if not p:
        return
    wrong = secret_file(workdir, "wrong.secret", WRONG_SECRET)
    bad = c.replica("intruder", wrong)
    good = c.replica("member")
    if not bad or not good:
        return
    check("a replica with the secret converges",
          eventually(lambda: converged(p, [good])),
          f"{head(p)} vs {head(good)}")
    check("the primary refuses a wrong secret of the same length, counted",
          eventually(lambda: 'cfg_cluster_refused_total{reason="link_bad_proof"}'
                     in metrics(p)), metrics(p)[-600:])
    check("the replica with the wrong secret never syncs",
          get_json(bad, "/readyz")[0] == 503
          and "intruder" not in nodes(p), repr(nodes(p)))
    status, body = post(p, "/features/after_intruder?create=true&"
                           "consistency=all&timeout_ms=2000",
                        {"enabled": True})
    check("an all write waits for the authenticated replica only",
          status == 200 and body.get("satisfied") is True
          and body.get("acked") == ["member"], f"{status} {body!r}")
    for d in (bad, good, p):
        check("a node of the link test stops on SIGTERM", d.stop() == 0,
              d.stderr())


def test_frozen_primary(binary, source_dir, workdir):
    """A primary that freezes (SIGSTOP): TCP stays open and silent. The
    replica cuts the link after the link timeout, reports stale, and its
    dials (the kernel still completes TCP's handshake) fail after the
    handshake timeout and back off; thawed, the primary is followed again."""
    os.makedirs(workdir)
    c = cluster(binary, source_dir, workdir)
    p = c.primary()
    if not p:
        return
    r = c.replica("frost", extra=["--cluster-link-timeout-ms", "1000",
                                  "--cluster-handshake-timeout-ms", "1000"])
    if not r:
        return
    check("the replica converges with the primary",
          eventually(lambda: converged(p, [r])), f"{head(p)} vs {head(r)}")
    os.kill(p.proc.pid, signal.SIGSTOP)
    try:
        start = time.monotonic()
        stale = eventually(lambda: get_json(r, "/nodes")[2]["nodes"][0]
                           .get("stale") is True)
        took = time.monotonic() - start
        print(f"# frozen primary: replica stale after {took:.1f} s",
              flush=True)
        check("a frozen primary: the replica reports stale (link timeout "
              "1 s)", stale and took < 10, f"{took:.1f} s")
        check("the replica keeps serving its last config while stale",
              get_json(r, "/config")[0] == 200)
        # Its dials to the frozen primary connect (the kernel answers TCP)
        # and then time out in the handshake, again and again.
        check("its dials to the frozen primary time out and back off",
              eventually(lambda: "no handshake within 1000 ms" in r.stderr()),
              r.stderr()[-1500:])
    finally:
        os.kill(p.proc.pid, signal.SIGCONT)
    check("thawed, the primary is followed again (version and hash)",
          eventually(lambda: converged(p, [r])), f"{head(p)} vs {head(r)}")
    status, body = post(p, "/features/after_thaw?create=true&"
                           "consistency=all&timeout_ms=5000",
                        {"enabled": True})
    check("and an all write is acked by it",
          status == 200 and body.get("acked") == ["frost"],
          f"{status} {body!r}")
    for d in (r, p):
        check("a node of the frozen-primary test stops on SIGTERM",
              d.stop() == 0, d.stderr())


def test_readiness(binary, source_dir, workdir):
    """/readyz and reads while a replica has never synced, is in sync, is
    stale; a primary whose file source is degraded. The cluster runs
    without a secret: loopback only (--cluster-port)."""
    os.makedirs(workdir)
    c = cluster(binary, source_dir, workdir, secret=False)
    r = c.replica("early")  # no primary yet: it starts, never synced
    if not r:
        return
    status, _, body = get_json(r, "/readyz")
    check("a replica that never synced is not ready (503, saying so)",
          status == 503 and "never synced" in json.dumps(body),
          f"{status} {body!r}")
    status, _, body = get_json(r, "/config")
    check("a replica that never synced answers reads with 503, not {}",
          status == 503, f"{status} {body!r}")
    status, _, _ = get_json(r, "/healthz")
    check("it is alive all the same (/healthz 200)", status == 200)
    p = c.primary()
    if not p:
        return
    check("once synced the replica is ready and serves the config",
          eventually(lambda: get_json(r, "/readyz")[0] == 200
                     and get_json(r, "/config")[0] == 200),
          repr(get_json(r, "/readyz")))
    status, _, _ = get_json(p, "/readyz")
    check("the primary is ready", status == 200)
    p.kill()
    check("a stale replica is not ready, and still serves its last config",
          eventually(lambda: get_json(r, "/readyz")[0] == 503)
          and "stale" in json.dumps(get_json(r, "/readyz")[2])
          and get_json(r, "/config")[0] == 200,
          repr(get_json(r, "/readyz")))
    r.stop()
    # A local source that fails holds traffic back.
    cfg = write(os.path.join(workdir, "service.yaml"), "buffer_size: 2048\n")
    d = daemon(binary, ["--http", "127.0.0.1:0", "--file", cfg,
                        "--watch-debounce-ms", "20"], workdir)
    if not d.wait_listening():
        return
    check("a primary with a good file is ready",
          get_json(d, "/readyz")[0] == 200)
    write(cfg, "buffer_size: [unclosed\n")
    ready = lambda: get_json(d, "/readyz")
    check("a broken file makes it not ready, naming the kind of source but "
          "not its path (/readyz needs no token)",
          eventually(lambda: ready()[0] == 503)
          and "a file source is degraded" in json.dumps(ready()[2])
          and cfg not in json.dumps(ready()[2]), repr(ready()))
    write(cfg, "buffer_size: 4096\n")
    check("mended, it is ready again",
          eventually(lambda: get_json(d, "/readyz")[0] == 200),
          repr(get_json(d, "/readyz")))
    d.stop()


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    binary, ctl = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    with tempfile.TemporaryDirectory(prefix="cfgd-cluster-") as workdir:
        try:
            test_cluster(binary, ctl, sys.argv[3], workdir)
            test_link(binary, sys.argv[3], os.path.join(workdir, "link"))
            test_frozen_primary(binary, sys.argv[3],
                                os.path.join(workdir, "frozen"))
            test_readiness(binary, sys.argv[3],
                           os.path.join(workdir, "readiness"))
        except Exception as e:
            check("test completes", False, repr(e))
        finally:
            for d in daemon.started:
                d.kill()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
