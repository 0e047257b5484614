#!/usr/bin/env python3
"""Process test of cfgd's etcd mode: a real 3-member etcd cluster (TLS with
client certificates made here, etcd's users on) and 3 cfgd that are equal.

Usage: cfgd_etcd_test.py CFGD_BINARY CFGCTL_BINARY SOURCE_DIR

Sections (run one with CFGD_ETCD_SECTION=name):
- chaos: three writers (one per node, ~20 writes/s each, some to the same
  keys) while nodes are SIGKILLed and restarted 10 times; every write
  answered 2xx is on every node afterwards, versions acknowledged are
  unique and each node's history strictly increases, all nodes end on the
  same version and hash, and the longest gap between two acknowledged
  writes is printed.
- freeze: SIGSTOP one node for 20 s while the others write, a write sent to
  the frozen node meanwhile: it commits nothing on a stale head, catches
  up, converges.
- quorum: one etcd member killed, writes continue; a second, writes answer
  503 with Retry-After and reads serve the last version, stale; members
  back, writes resume, nodes converge.
- certificates: a client without a valid certificate gets nothing from
  etcd, and neither does a cfgd given one.
- sources: the same file on every node makes one version per change;
  nodes whose environment differs for one layer are reported, not flapping.
- idempotency: a retried write with the same key (same node, another node,
  cfgctl) answers one version, not two.
- consistency: `all` lists every node as acked; with one node frozen it
  names the missing one.
"""

import base64
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cfgd_harness import (check, checks, daemon, finish, get_json,  # noqa: E402
                          http, write)
import etcd_cluster  # noqa: E402

TOKEN = "etcd-test-token-0123456789abcdef"
CLUSTER = "test"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url, method="GET", body=None, headers=None, timeout=10):
    """(status, headers, parsed JSON or text); status 0 when no answer."""
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Authorization": "Bearer " + TOKEN,
            "Content-Type": "application/json"}
    hdrs.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            text = res.read().decode()
            return res.status, res.headers, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        text = e.read().decode() if e.fp else ""
        try:
            value = json.loads(text) if text else None
        except ValueError:
            value = text
        return e.code, e.headers, value
    except (OSError, ValueError) as e:
        return 0, {}, str(e)


class node:
    """One cfgd of the cluster, restartable on the same port and data dir."""

    def __init__(self, env, name):
        self.env = env
        self.name = name
        self.port = free_port()
        self.data_dir = os.path.join(env.workdir, name + "-data")
        self.url = f"http://127.0.0.1:{self.port}"
        self.d = None
        self.extra = []
        self.env_vars = {}

    def args(self):
        cacert, cert, key = self.env.cert
        return (["--http", f"127.0.0.1:{self.port}", "--token-file",
                 self.env.tokens, "--node-name", self.name, "--data-dir",
                 self.data_dir, "--etcd", ",".join(self.env.etcd.endpoints()),
                 "--cluster-name", CLUSTER, "--etcd-cacert", cacert,
                 "--etcd-cert", cert, "--etcd-key", key, "--etcd-user",
                 "cfgd", "--etcd-password-file",
                 self.env.etcd.password_file()]
                + self.extra)

    def start(self):
        env = dict(os.environ, **self.env_vars) if self.env_vars else None
        self.d = daemon(self.env.cfgd, self.args(), self.env.workdir, env)
        return self.d.wait_listening() is not None

    def kill(self, sig=signal.SIGKILL):
        self.d.proc.send_signal(sig)
        if sig == signal.SIGKILL:
            self.d.proc.wait(timeout=10)

    def stop(self):
        if self.d and self.d.proc.poll() is None:
            self.d.stop()

    def alive(self):
        return self.d is not None and self.d.proc.poll() is None

    def get(self, path):
        return request(self.url + path)

    def put(self, path, value, headers=None, timeout=10):
        return request(self.url + "/config/" + path, "PUT", value, headers,
                       timeout)

    def delete(self, path, timeout=10):
        return request(self.url + "/config/" + path, "DELETE", None, None,
                       timeout)

    def head(self):
        """(version, hash) this node serves, or (None, None)."""
        status, hdrs, body = self.get("/config")
        if status != 200:
            return None, None
        return int(hdrs["X-Config-Version"]), hdrs.get("ETag", "").strip('"')

    def history(self):
        """Every version number in the node's history, newest first."""
        out = []
        before = 0
        while True:
            q = "/history?limit=500" + (f"&before={before}" if before else "")
            status, _, rows = self.get(q)
            if status != 200 or not isinstance(rows, list):
                raise RuntimeError(f"{self.name} GET {q}: {status} {rows!r}")
            if not rows:
                return out
            out.extend(r["version"] for r in rows)
            before = rows[-1]["version"]


class environment:
    def __init__(self, cfgd, cfgctl, workdir, etcd):
        self.cfgd = cfgd
        self.cfgctl = cfgctl
        self.workdir = workdir
        self.etcd = etcd
        self.cert = etcd.gateway_cert()
        self.tokens = write(os.path.join(workdir, "tokens"), TOKEN + "\n")
        os.chmod(self.tokens, 0o600)
        self.nodes = [node(self, f"n{i + 1}") for i in range(3)]

    def start_all(self):
        return all(n.start() for n in self.nodes)

    def stop_all(self):
        for n in self.nodes:
            n.stop()


def eventually(fn, timeout=30, step=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


def converged(nodes, timeout=30):
    """All live nodes serve one version and hash; returns it or None."""
    def same():
        heads = {n.head() for n in nodes}
        if len(heads) == 1 and None not in next(iter(heads)):
            return next(iter(heads))
        return None
    return eventually(same, timeout)


def value_at(config, dotted):
    for part in dotted.split("."):
        if not isinstance(config, dict) or part not in config:
            return None
        config = config[part]
    return config


# -- chaos --------------------------------------------------------------

class writer(threading.Thread):
    """Writes w.<id>.s<seq> = seq (a key of its own) and shared.k<seq % 4>
    (keys all writers write) ~20 times a second, to its node or, while that
    node is down, to the next one. Records every acknowledged write."""

    def __init__(self, env, index, stop):
        super().__init__(daemon=True)
        self.env = env
        self.index = index
        self.stop = stop
        self.acked = []  # (version, path, value, node), committed
        self.unchanged = []  # (version, path, value)
        self.answers_503 = 0
        self.times = []  # monotonic time of each acknowledged write

    def run(self):
        seq = 0
        order = self.env.nodes[self.index:] + self.env.nodes[:self.index]
        while not self.stop.is_set():
            seq += 1
            if seq % 3 == 0:
                path = f"shared.k{seq % 4}"
                value = f"w{self.index}-{seq}"
            else:
                path = f"w.w{self.index}.s{seq}"
                value = seq
            for n in order:
                if not n.alive():
                    continue
                status, _, body = n.put(path, value, timeout=15)
                if status == 200 and isinstance(body, dict):
                    # `unchanged`: a retry found its own earlier attempt
                    # committed (its answer was lost to a SIGKILL); the
                    # version is then the node's current one.
                    if body.get("status") == "committed":
                        self.acked.append((body["version"], path, value,
                                           n.name))
                    else:
                        self.unchanged.append((body["version"], path, value))
                    self.times.append(time.monotonic())
                    break
                if status == 503:
                    self.answers_503 += 1
            time.sleep(0.05)


def section_chaos(env):
    """Three writers, ten SIGKILLs and restarts; nothing acknowledged lost."""
    if not check("three cfgd start on etcd", env.start_all()):
        return
    stop = threading.Event()
    writers = [writer(env, i, stop) for i in range(3)]
    for w in writers:
        w.start()
    rng = random.Random(int(os.environ.get("CFGD_ETCD_SEED", "0")) or None)
    restarts = 0
    started = time.monotonic()
    for _ in range(10):
        time.sleep(rng.uniform(0.8, 1.6))
        victim = rng.choice(env.nodes)
        victim.kill()
        time.sleep(rng.uniform(0.2, 1.0))
        if victim.start():
            restarts += 1
    time.sleep(1.5)
    stop.set()
    for w in writers:
        w.join(timeout=30)
    took = time.monotonic() - started
    check("each SIGKILLed node restarts on its data dir (10 times)",
          restarts == 10, f"{restarts} restarts")
    acked = [a for w in writers for a in w.acked]
    unchanged = [a for w in writers for a in w.unchanged]
    times = sorted(t for w in writers for t in w.times)
    gap = max((b - a for a, b in zip(times, times[1:])), default=took)
    print(f"# chaos: {len(acked)} writes acknowledged in {took:.1f} s "
          f"({len(acked) / took:.1f}/s), 503s: "
          f"{sum(w.answers_503 for w in writers)}, retries answered "
          f"unchanged: {len(unchanged)}, longest gap between two "
          f"acknowledged writes: {gap:.2f} s", flush=True)
    check("writes were acknowledged throughout (longest gap < 5 s)",
          len(acked) > 100 and gap < 5, f"{len(acked)} writes, gap {gap:.2f}")
    versions = [a[0] for a in acked]
    check("no two acknowledged writes share a version",
          len(versions) == len(set(versions)),
          f"{len(versions) - len(set(versions))} duplicates")
    head = converged(env.nodes)
    check("all nodes end on the same version and hash", head is not None,
          str([n.head() for n in env.nodes]))
    for n in env.nodes:
        status, _, config = n.get("/config")
        missing = [a for a in acked + unchanged if a[1].startswith("w.")
                   and value_at(config, a[1]) != a[2]]
        check(f"{n.name}: every acknowledged write is there",
              status == 200 and not missing,
              f"{len(missing)} missing, e.g. {missing[:3]}")
        hist = n.history()
        check(f"{n.name}: its history strictly increases, no duplicate",
              all(a > b for a, b in zip(hist, hist[1:])),
              f"{hist[:20]}")
        known = set(hist)
        absent = [v for v in versions if v not in known]
        check(f"{n.name}: every acknowledged version is in its history",
              not absent, f"{len(absent)} absent, e.g. {absent[:5]}")
    # The shared keys end on a value some write put there, no older than the
    # newest acknowledged write to them.
    status, _, config = env.nodes[0].get("/config")
    for k in range(4):
        path = f"shared.k{k}"
        mine = sorted((a for a in acked if a[1] == path), reverse=True)
        if not mine:
            continue
        final = value_at(config, path)
        writes_to = {a[2]: a[0] for a in acked if a[1] == path}
        check(f"{path} holds the newest acknowledged write or a later one",
              final in writes_to and writes_to[final] >= mine[0][0]
              or final not in writes_to,
              f"final {final!r}, newest acknowledged {mine[0]}")
    env.stop_all()


# -- freeze -------------------------------------------------------------

def section_freeze(env):
    """SIGSTOP a node for 20 s: nothing committed on a stale head."""
    if not check("three cfgd start on etcd", env.start_all()):
        return
    n1, n2, n3 = env.nodes
    status, _, body = n3.put("freeze.before", 1)
    check("the node to freeze takes a write", status == 200, f"{status} {body}")
    n3.kill(signal.SIGSTOP)
    frozen_answer = {}

    def write_to_frozen():
        frozen_answer["r"] = n3.put("freeze.during_stop", "from-n3",
                                    timeout=60)

    t = threading.Thread(target=write_to_frozen, daemon=True)
    t.start()
    versions_meanwhile = []
    acked_meanwhile = []
    refused_meanwhile = []
    deadline = time.monotonic() + 20
    i = 0
    while time.monotonic() < deadline:
        i += 1
        status, _, body = n1.put(f"freeze.meanwhile.s{i}", i)
        if status == 200:
            versions_meanwhile.append(body["version"])
            acked_meanwhile.append(i)
        else:
            refused_meanwhile.append((i, status, body))
        time.sleep(0.2)
    if refused_meanwhile:
        print(f"# refused while a node was frozen: {refused_meanwhile}",
              flush=True)
    check("the others commit while it is frozen",
          len(versions_meanwhile) > 20, f"{len(versions_meanwhile)} writes")
    n3.kill(signal.SIGCONT)
    t.join(timeout=60)
    status, _, body = frozen_answer.get("r", (0, {}, None))
    head = converged(env.nodes, 30)
    check("the frozen node catches up and converges", head is not None,
          str([n.head() for n in env.nodes]))
    if status == 200:
        check("its write landed on the newest head, not the stale one",
              body["version"] > max(versions_meanwhile),
              f"version {body['version']}, newest meanwhile "
              f"{max(versions_meanwhile)}")
        _, _, config = n1.get("/config")
        check("the version it committed holds every write made meanwhile",
              all(value_at(config, f"freeze.meanwhile.s{k}") == k
                  for k in acked_meanwhile) and
              value_at(config, "freeze.during_stop") == "from-n3",
              json.dumps(value_at(config, "freeze"))[:300])
    else:
        print(f"# the write sent to the frozen node: {status} {body}",
              flush=True)
        check("its write was answered (committed on the new head, or "
              "refused)", status in (409, 503), f"{status} {body}")
    for n in env.nodes:
        hist = n.history()
        check(f"{n.name}: history strictly increases after the freeze",
              all(a > b for a, b in zip(hist, hist[1:])), f"{hist[:20]}")
    env.stop_all()


# -- quorum -------------------------------------------------------------

def section_quorum(env):
    """etcd loses one member, then its quorum, then gets both back."""
    if not check("three cfgd start on etcd", env.start_all()):
        return
    n1, n2, n3 = env.nodes
    leader = env.etcd.leader()
    first, second = [i for i in range(3) if i != leader][0], leader
    env.etcd.kill(first)
    ok = [n.put("quorum.one_down", n.name)[0] for n in env.nodes]
    check("one etcd member down: every node still commits",
          ok == [200, 200, 200], str(ok))
    before = converged(env.nodes)
    env.etcd.kill(second)
    started = time.monotonic()
    status, hdrs, body = n2.put("quorum.none", 1, timeout=30)
    took = time.monotonic() - started
    print(f"# no quorum: a write answered {status} after {took:.1f} s",
          flush=True)
    check("two members down: a write answers 503 with Retry-After",
          status == 503 and hdrs.get("Retry-After") is not None,
          f"{status} {dict(hdrs) if hdrs else hdrs} {body}")
    check("reads serve the last version meanwhile",
          all(n.head() == before for n in env.nodes),
          f"{[n.head() for n in env.nodes]} vs {before}")
    stale = eventually(lambda: all(
        n.get("/readyz")[0] == 503 for n in env.nodes), 15)
    check("every node reports stale (/readyz 503)", stale,
          str([n.get("/readyz") for n in env.nodes]))
    status, _, text = http("GET", n1.url + "/metrics",
                           {"Authorization": "Bearer " + TOKEN})
    check("cfg_stale 1 and etcd errors counted in /metrics",
          status == 200 and "cfg_stale 1" in str(text)
          and "cfg_etcd_errors_total" in str(text), str(text)[-600:])
    env.etcd.restart(first)
    env.etcd.restart(second)
    resumed = eventually(lambda: n3.put("quorum.back", 1)[0] == 200, 30, 0.5)
    check("members back: writes resume", resumed)
    check("nodes converge", converged(env.nodes) is not None,
          str([n.head() for n in env.nodes]))
    ready = eventually(lambda: all(
        n.get("/readyz")[0] == 200 for n in env.nodes), 20)
    check("every node is ready again", ready,
          str([n.get("/readyz") for n in env.nodes]))
    env.stop_all()


# -- certificates -------------------------------------------------------

def section_certificates(env):
    """No valid client certificate: nothing from etcd."""
    endpoint = env.etcd.endpoints()[0]
    cacert = env.etcd.client_cert()[0]
    for label, cert in (("no certificate", (cacert, None, None)),
                        ("a certificate of another CA",
                         env.etcd.rogue_cert())):
        try:
            status, body = etcd_cluster.gateway_post(
                endpoint, "kv/range", {"key": etcd_cluster.b64("/cfgactors/"),
                                       "range_end": etcd_cluster.b64(
                                           "/cfgactors0")}, cert=cert)
            check(f"a client with {label} gets nothing from etcd", False,
                  f"answered {status} {str(body)[:200]}")
        except etcd_cluster.tls_refused as e:
            check(f"a client with {label} gets nothing from etcd", True)
            print(f"#   {label}: {e}", flush=True)
    rogue = node(env, "rogue")
    env.cert = env.etcd.rogue_cert()
    rogue.extra = []
    started = rogue.start()
    env.cert = env.etcd.gateway_cert()
    check("a cfgd with a rogue certificate starts, stale", started)
    if started:
        status, hdrs, body = rogue.put("rogue.write", 1, timeout=20)
        check("its writes answer 503", status == 503, f"{status} {body}")
        status, _, body = rogue.get("/readyz")
        check("it is not ready", status == 503, f"{status} {body}")
        rogue.stop()
        log = rogue.d.stderr()
        check("its log names the endpoint and the TLS failure",
              "etcd" in log and endpoint.split("://")[1] in log, log[-800:])


# -- idempotency --------------------------------------------------------

def section_idempotency(env):
    """One key, one version, on any node and through cfgctl."""
    if not check("three cfgd start on etcd", env.start_all()):
        return
    n1, n2, _ = env.nodes
    key = {"Idempotency-Key": "order-7f3a9c"}
    s1, _, b1 = n1.put("idem.x", 1, key)
    s2, _, b2 = n1.put("idem.x", 1, key)
    n1.put("idem.other", 1)
    s3, _, b3 = n2.put("idem.x", 1, key)
    check("a retry answers the first version (same node, other node)",
          s1 == s2 == s3 == 200 and b1["version"] == b2["version"]
          == b3["version"], f"{b1} {b2} {b3}")
    # Same key, other content: still the first answer (the key names the
    # write, not its content).
    s4, _, b4 = n2.put("idem.x", 2, key)
    check("a key names the write: a retry with another body changes nothing",
          s4 == 200 and b4["version"] == b1["version"], f"{b4}")
    _, _, config = n2.get("/config")
    check("the value is the first write's", value_at(config, "idem.x") == 1,
          json.dumps(value_at(config, "idem")))
    # A key of the same length, another content: a new write.
    s5, _, b5 = n2.put("idem.x", 3, {"Idempotency-Key": "order-7f3a9d"})
    check("another key of the same length is another write",
          s5 == 200 and b5["version"] > b1["version"], f"{b5}")
    env_vars = dict(os.environ, CFGD_TOKEN=TOKEN)
    runs = [subprocess.run([env.cfgctl, "--url", n.url, "--json",
                            "--idempotency-key", "cli-key-1", "set",
                            "idem.cli", "5"], capture_output=True, text=True,
                           env=env_vars, timeout=30) for n in (n1, n2, n1)]
    outs = [json.loads(r.stdout) if r.returncode == 0 else r.stderr
            for r in runs]
    check("cfgctl --idempotency-key: three runs, one version",
          all(isinstance(o, dict) for o in outs)
          and len({o["version"] for o in outs}) == 1, str(outs))
    hist = n1.history()
    check("the history holds each keyed write once",
          len(hist) == len(set(hist)), str(hist[:20]))
    status, _, body = n1.put("idem.x", 9, {"Idempotency-Key": "bad key"})
    check("a key with a space is refused (400)", status == 400,
          f"{status} {body}")
    records(env, n1, n2)
    env.stop_all()


def stored_record(env, version):
    """The bytes etcd holds for `version`."""
    out = env.etcd.etcdctl(
        "get", f"/cfgactors/{CLUSTER}/versions/{version:020d}", "-w", "json",
        timeouts=(2, 30)).stdout
    kvs = json.loads(out).get("kvs", [])
    return base64.b64decode(kvs[0]["value"]) if kvs else b""


def record_text(env, version):
    """The record etcd holds for `version` as text: a record stored
    deflated (a zlib stream, first byte 0x78) inflated with Python's zlib."""
    stored = stored_record(env, version)
    return (zlib.decompress(stored) if stored[:1] == b"\x78"
            else stored).decode()


def records(env, n1, n2):
    """A one-key write into a large section is a record of that key; a
    version too large for etcd is refused naming both sizes."""
    big = {f"s{i // 100}": {f"k{j}": j for j in range(i, i + 100)}
           for i in range(0, 20000, 100)}
    s1, _, b1 = n1.put("big", big, timeout=30)
    s2, _, b2 = n2.put("big.s3.k301", -1)
    if not check("a 20,000-key section and one key of it are committed",
                 s1 == s2 == 200, f"{s1} {str(b1)[:200]} {s2} {b2}"):
        return
    whole, one = record_text(env, b1["version"]), record_text(env, b2["version"])
    print(f"#   records: the section's {len(whole)} bytes, the one key's "
          f"{len(one)}", flush=True)
    check("records that fit etcd's request are stored as their text (nodes "
          "of earlier builds read them)",
          stored_record(env, b1["version"]).decode() == whole
          and stored_record(env, b2["version"]).decode() == one
          and '"big":{"s0":' in whole)
    check("the record of a one-key write holds that key (format 2), not the "
          "section", '"format":2' in one and '"big.s3.k301":-1' in one
          and len(one) < 2000 and len(whole) > 200000,
          f"{len(one)} bytes: {one[:400]}")
    _, _, config = n1.get("/config")
    check("the other node installed it on its base",
          eventually(lambda: (n1.get("/config/big.s3.k301")[2] == -1)),
          json.dumps(value_at(config, "big.s3")))
    # 2 MB of text, over etcd's 1.5 MiB request limit, deflates well: the
    # version commits and the other node installs it.
    large = {f"h{i}": f"tenant {i} " + "limits " * 140 for i in range(2000)}
    s3, _, b3 = n1.put("large", large, timeout=30)
    check("a version whose text passes etcd's limit commits deflated",
          s3 == 200, f"{s3} {str(b3)[:400]}")
    if s3 == 200:
        stored = stored_record(env, b3["version"])
        text = record_text(env, b3["version"])
        print(f"#   the large version's record: {len(text)} bytes of text, "
              f"{len(stored)} stored", flush=True)
        check("its record's text passes the limit, what is stored (deflated) "
              "does not", stored[:1] == b"\x78"
              and len(text) > 1572864 > len(stored),
              f"{stored[:20]!r} {len(text)} {len(stored)}")
        check("the other node installs it",
              eventually(lambda: n2.get("/config/large.h1999")[2]
                         == large["h1999"], 20))
    # Random text deflates little: 1.8 MB of it is stored in 1.4 MB, which
    # etcd takes (its limit counts the bytes it stores, not the base64 the
    # gateway's JSON carries them in: 1.87 MB here).
    rng = random.Random(9)
    dense = {f"h{i}": base64.b64encode(rng.randbytes(750)).decode()
             for i in range(1800)}
    s6, _, b6 = n1.put("dense", dense, timeout=30)
    check("a record stored in 1.4 MB commits (under etcd's 1.5 MiB)",
          s6 == 200, f"{s6} {str(b6)[:400]}")
    if s6 == 200:
        print(f"#   the dense version's record: "
              f"{len(stored_record(env, b6['version']))} bytes stored",
              flush=True)
        # Out again: with it, the next whole record (large, dense and
        # huge) would not fit.
        s7, _, b7 = n1.delete("dense", timeout=30)
        check("and is deleted", s7 == 200, f"{s7} {str(b7)[:200]}")
    # 3 MB of random text is still refused, naming the sizes.
    rng = random.Random(7)
    huge = {f"h{i}": base64.b64encode(rng.randbytes(750)).decode()
            for i in range(3000)}
    s4, _, b4 = n1.put("huge", huge, timeout=30)
    check("a version too large for etcd even deflated is refused (413), "
          "naming both sizes and the option", s4 == 413
          and "--max-request-bytes" in str(b4) and "1572864" in str(b4),
          f"{s4} {str(b4)[:400]}")
    s5, _, b5 = n2.put("after.huge", 1)
    check("and the cluster takes the next write", s5 == 200, f"{s5} {b5}")


# -- consistency --------------------------------------------------------

def section_consistency(env):
    """`all` counts the nodes in etcd; a frozen one is named missing. A
    replica on n1's host follows n1 over the cluster link (etcd -> one cfgd
    per host -> local replicas)."""
    cluster_port = free_port()
    env.nodes[0].extra = ["--cluster-port", str(cluster_port)]
    if not check("three cfgd start on etcd", env.start_all()):
        return
    n1, _, n3 = env.nodes
    local = daemon(env.cfgd, ["--http", "127.0.0.1:0", "--token-file",
                              env.tokens, "--node-name", "n1-local",
                              "--join", f"127.0.0.1:{cluster_port}"],
                   env.workdir)
    if check("a replica joins n1 over the cluster link",
             local.wait_listening() is not None):
        status, _, body = n3.put("tree.from_n3", "hello")
        seen = eventually(lambda: value_at(
            get_json(local, "/config")[2], "tree.from_n3") == "hello", 15)
        check("a write on n3 reaches n1's local replica through etcd and n1",
              status == 200 and seen, f"{status} {body}")
        status, _, body = request(local.url + "/config/tree.from_local",
                                  "PUT", "up")
        seen = eventually(lambda: value_at(n3.get("/config")[2],
                                           "tree.from_local") == "up", 15)
        check("a write on the local replica reaches n3 (forwarded to n1, "
              "committed in etcd)", status == 200 and seen,
              f"{status} {body}")
        local.stop()
    status, _, nodes = n1.get("/nodes")
    names = sorted(x["name"] for x in nodes.get("nodes", [])) \
        if isinstance(nodes, dict) else []
    check("GET /nodes lists every node from etcd",
          status == 200 and names == ["n1", "n2", "n3"], f"{nodes}")
    status, _, body = request(n1.url + "/config/cons.a?consistency=all",
                              "PUT", 1)
    check("an `all` write is acked by every node",
          status == 200 and body.get("satisfied") is True
          and sorted(body.get("acked", [])) == ["n1", "n2", "n3"], f"{body}")
    n3.kill(signal.SIGSTOP)
    status, _, body = request(
        n1.url + "/config/cons.b?consistency=all&timeout_ms=1000", "PUT", 1)
    n3.kill(signal.SIGCONT)
    check("with a node frozen, `all` names it missing",
          status == 200 and body.get("satisfied") is False
          and body.get("missing") == ["n3"], f"{body}")
    status, _, body = request(
        n1.url + "/config/cons.c?consistency=majority", "PUT", 1)
    check("a `majority` write is satisfied", status == 200
          and body.get("satisfied") is True, f"{body}")
    # A node that stops revokes its lease: gone from /nodes at once, not
    # after the lease's 5 s.
    n3.stop()
    started = time.monotonic()
    gone = eventually(lambda: sorted(
        x["name"] for x in n1.get("/nodes")[2].get("nodes", [])) == ["n1",
                                                                      "n2"],
        10, 0.05)
    took = time.monotonic() - started
    check("a node stopped with SIGTERM leaves /nodes within 2 s",
          gone and took < 2, f"{took:.2f} s")
    env.stop_all()


# -- sources ------------------------------------------------------------

def section_sources(env):
    """The same file on every node makes one version per change; nodes whose
    environment says otherwise for the same layer are reported."""
    shared = write(os.path.join(env.workdir, "shared.yaml"),
                   "mounted:\n  limit: 1\n")
    for n in env.nodes:
        n.extra = ["--file", shared]
    if not check("three cfgd start on etcd with the same file",
                 env.start_all()):
        return
    start = converged(env.nodes)
    check("they agree on one version", start is not None,
          str([n.head() for n in env.nodes]))
    before = env.nodes[0].history()
    write(shared, "mounted:\n  limit: 2\n")
    seen = eventually(lambda: all(
        value_at(n.get("/config")[2], "mounted.limit") == 2
        for n in env.nodes), 15)
    time.sleep(1.0)  # every node's watcher has fired and proposed by now
    head = converged(env.nodes)
    after = env.nodes[0].history()
    new = [v for v in after if v not in before]
    check("one change of the file on three nodes makes one version",
          seen and head is not None and len(new) == 1,
          f"new versions {new}, heads {[n.head() for n in env.nodes]}")
    env.stop_all()
    # Two nodes read the environment differently for the same layer.
    for n, mode in zip(env.nodes[:2], ("blue", "green")):
        n.extra = ["--env-prefix", "APPX_", "--env-poll-ms", "200"]
        n.env_vars = {"APPX_MODE": mode}
    env.nodes[2].extra = []
    if not check("three cfgd start again, two with their own environment",
                 env.start_all()):
        return
    def conflicts():
        total = 0
        for n in env.nodes:
            _, _, text = http("GET", n.url + "/metrics",
                              {"Authorization": "Bearer " + TOKEN})
            for line in str(text).splitlines():
                if line.startswith("cfg_layer_conflicts_total "):
                    total += float(line.split()[1])
        return total
    reported = eventually(lambda: conflicts() > 0, 15)
    logs = "".join(n.d.stderr() for n in env.nodes)
    check("another node's env layer is reported (metric and warning)",
          reported and "event=layer_conflict" in logs,
          f"conflicts {conflicts()}, log: {logs[-600:]}")
    settled = converged(env.nodes)
    time.sleep(2.0)
    check("and does not flap: no new versions while nothing changes",
          settled is not None and converged(env.nodes) == settled,
          f"{settled} -> {[n.head() for n in env.nodes]}")
    env.stop_all()


SECTIONS = [("chaos", section_chaos), ("freeze", section_freeze),
            ("quorum", section_quorum), ("sources", section_sources),
            ("certificates", section_certificates),
            ("idempotency", section_idempotency),
            ("consistency", section_consistency)]


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    cfgd, cfgctl = sys.argv[1], sys.argv[2]
    only = os.environ.get("CFGD_ETCD_SECTION")
    for name, fn in SECTIONS:
        if only and name != only:
            continue
        print(f"# section {name}", flush=True)
        workdir = tempfile.mkdtemp(prefix=f"cfgd-etcd-{name}-")
        failed_before = checks.failed
        started = time.monotonic()
        try:
            with etcd_cluster.etcd_cluster(size=3, tls=True, auth=True,
                                           base_dir=workdir) as etcd:
                env = environment(cfgd, cfgctl, workdir, etcd)
                try:
                    fn(env)
                finally:
                    for n in env.nodes:
                        if n.d is not None and n.d.proc.poll() is None:
                            n.d.proc.send_signal(signal.SIGCONT)
                            n.d.kill()
        except Exception as e:  # a broken section fails, the others run
            check(f"section {name} runs", False, repr(e))
        print(f"# section {name}: {time.monotonic() - started:.1f} s",
              flush=True)
        # Logs stay for a section that failed, named in its checks.
        if checks.failed == failed_before:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"# section {name} kept {workdir}", flush=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
