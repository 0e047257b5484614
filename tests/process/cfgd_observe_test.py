#!/usr/bin/env python3
"""Process test of what an operator observes: JSON log lines with a field per
key=value (a commit, a refused write with every reason), Prometheus metrics
that move (sources, HTTP routes, build info, commit latency, durability,
promtool-clean), the not-durable warning of a primary without a data dir, and
a replica that refuses a primary restarted with a new history.

Usage: cfgd_observe_test.py CFGD_BINARY CFGCTL_BINARY SOURCE_DIR
"""

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

from cfgd_harness import LISTENING, check, daemon, get_json, run_sections, \
    write
from cfgd_cluster_test import TOKEN, cfgctl, cluster, converged, \
    eventually, head, metrics, nodes
from cfgd_rollback_test import start_primary

AUTH = {"Authorization": "Bearer " + TOKEN}
REASON = 'say "hi" a=b c\\d ünï ✓'


def send(d, method, path, body=None):
    """(status, parsed body or text) of a request with the write token."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(d.url + path, data=data, method=method,
                                 headers={**AUTH,
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            text = res.read().decode()
            status = res.status
    except urllib.error.HTTPError as e:
        text, status = e.read().decode(), e.code
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def setup(workdir, source_dir, name):
    """A config file of our own (the test edits it), the schema, a token."""
    cfg = os.path.join(workdir, f"{name}.yaml")
    shutil.copy(os.path.join(source_dir, "examples", "config.yaml"), cfg)
    tokens = write(os.path.join(workdir, f"{name}.tokens"), TOKEN + "\n")
    schema = os.path.join(source_dir, "examples", "schema.json")
    return cfg, schema, tokens


def stdout_lines(d):
    out = []
    while True:
        try:
            line = d.lines.get(timeout=5)
        except queue.Empty:
            break
        if line is None:
            break
        out.append(line)
    return out


def test_json_logs(binary, ctl, source_dir, workdir):
    cfg, schema, tokens = setup(workdir, source_dir, "logs")
    d = daemon(binary, ["--http", "127.0.0.1:0", "--schema", schema,
                        "--file", cfg, "--token-file", tokens,
                        "--log-format", "json"], workdir)
    if not d.wait_listening():
        return
    env = dict(os.environ, CFGD_TOKEN=TOKEN)
    res = subprocess.run([ctl, "--url", d.url, "--json", "--reason", REASON,
                          "set", "buffer_size", "2048"],
                         capture_output=True, text=True, timeout=60, env=env)
    try:
        committed = json.loads(res.stdout)["version"]
    except (ValueError, KeyError, TypeError):
        committed = None
    check("cfgctl set --reason commits", res.returncode == 0 and committed,
          res.stdout + res.stderr)
    # Two reasons, in values of the same shape as good ones.
    status, body = send(d, "PATCH", "/config",
                        {"buffer_size": 5, "database": {"port": 70000}})
    check("a write with two bad values is refused (422) with 2 reasons",
          status == 422 and len(body.get("details", [])) == 2,
          f"{status} {body!r}")
    check("cfgd stops on SIGTERM", d.stop() == 0, d.stderr()[-2000:])
    rest = stdout_lines(d)
    check("stdout holds nothing but JSON lines after the listening line",
          all(_is_json(line) for line in rest), repr(rest))
    lines = d.stderr().splitlines()
    parsed = [_parse(line) for line in lines]
    bad = [l for l, p in zip(lines, parsed) if not isinstance(p, dict)]
    check(f"every stderr line ({len(lines)}) is a JSON object", lines
          and not bad, repr(bad[:5]))
    records = [p for p in parsed if isinstance(p, dict)]
    check("every line has ts, level and msg",
          all({"ts", "level", "msg"} <= r.keys() for r in records),
          repr(records[:3]))
    commit = [r for r in records if r.get("event") == "config_committed"
              and r.get("version") == committed]
    c = commit[0] if commit else {}
    check("the commit line has its version as a number",
          isinstance(c.get("version"), int)
          and not isinstance(c.get("version"), bool), repr(c))
    check("the commit line has hash, origin and author as strings",
          re.fullmatch(r"[0-9a-f]{12}", str(c.get("hash")))
          and c.get("origin", "").startswith("api:")
          and isinstance(c.get("author"), str), repr(c))
    check("the commit's reason round-trips (quotes, spaces, =, unicode)",
          c.get("reason") == REASON, repr(c))
    check("the commit line's msg is its event",
          c.get("msg") == "config_committed" and c.get("level") == "info",
          repr(c))
    refused = [r for r in records if r.get("event") == "config_rejected"]
    r = refused[-1] if refused else {}
    errors = r.get("errors")
    check("the refused write logs every reason as a JSON array of strings",
          isinstance(errors, list) and len(errors) == 2
          and all(isinstance(e, str) for e in errors)
          and any("buffer_size" in e for e in errors)
          and any("database.port" in e for e in errors), repr(r))
    check("the refusal has its count and version as numbers, level warning",
          r.get("count") == 2 and r.get("version") == committed
          and r.get("level") == "warning", repr(r))
    check("the not-durable warning is a JSON line of level warning",
          any(x.get("event") == "primary_not_durable"
              and x.get("level") == "warning" for x in records),
          repr(records[:5]))


def _parse(line):
    try:
        return json.loads(line)
    except ValueError:
        return None


def _is_json(line):
    return isinstance(_parse(line), dict)


def sample(text, name, **labels):
    """The value of the sample `name{labels}` (labels in any order), or
    None."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)", line)
        if not m or m.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(m.group(4))
    return None


def scrape(d):
    return metrics(d)


def test_metrics(binary, source_dir, workdir):
    cfg, schema, tokens = setup(workdir, source_dir, "metrics")
    d = daemon(binary, ["--http", "127.0.0.1:0", "--schema", schema,
                        "--file", cfg, "--token-file", tokens,
                        "--data-dir", os.path.join(workdir, "metrics-data"),
                        "--file-poll-ms", "100"], workdir)
    if not d.wait_listening():
        return
    check("a primary with a data dir does not warn that it is not durable",
          "primary_not_durable" not in d.stderr(), d.stderr()[-2000:])
    _, _, health = get_json(d, "/healthz", AUTH)
    check("/healthz of a primary with a data dir says durable: true",
          isinstance(health, dict) and health.get("durable") is True, health)
    m0 = scrape(d)
    for _ in range(2):
        get_json(d, "/config", AUTH)
    get_json(d, "/config/buffer_size", AUTH)
    get_json(d, "/no/such/path/3f9c1", AUTH)
    m1 = scrape(d)

    def delta(name, **labels):
        return (sample(m1, name, **labels) or 0) - \
            (sample(m0, name, **labels) or 0)

    req = "cfg_http_requests_total"
    check("2 GET /config count on route /config, code 200",
          delta(req, method="GET", route="/config", code="200") == 2,
          m1[-3000:])
    check("GET /config/buffer_size counts on the route pattern /config/*",
          delta(req, method="GET", route="/config/*", code="200") == 1,
          m1[-3000:])
    check("an unknown path counts as route other, code 404",
          delta(req, method="GET", route="other", code="404") == 1,
          m1[-3000:])
    check("the first scrape counts on route /metrics",
          delta(req, method="GET", route="/metrics", code="200") == 1,
          m1[-3000:])
    check("no raw path becomes a label", "3f9c1" not in m1 and
          "/config/buffer_size" not in m1, m1[-3000:])
    check("the duration histogram counts the same requests",
          (sample(m1, "cfg_http_request_duration_seconds_count",
                  method="GET", route="/config", code="200") or 0)
          == sample(m1, req, method="GET", route="/config", code="200"),
          m1[-3000:])
    check("cfg_build_info names version, commit and CAF",
          re.search(r'^cfg_build_info\{version="\d+\.\d+\.\d+",'
                    r'commit="[0-9a-f]{7,40}|unknown",caf="0\.17\.\d+"\} 1$',
                    m1, re.M) is not None, m1[:1500])
    check("cfg_history_durable is 1 with a data dir",
          sample(m1, "cfg_history_durable") == 1, m1[:3000])
    commits = sample(m1, "cfg_commit_duration_seconds_count")
    check("cfg_commit_duration_seconds counts the commits, and the "
          "deprecated name the same",
          commits and commits >= 1 and commits
          == sample(m1, "cfg_reload_duration_seconds_count")
          == sample(m1, "cfg_updates_total", status="committed"),
          m1[:3000])
    copies = sample(m1, "cfg_tree_copies_total")
    check("cfg_tree_copies_total counts trees merged whole: none, every "
          "version built along its change",
          copies == 0, m1[:3000])
    src = sample(m1, "cfg_source_successes_total", kind="file")
    errs0 = sample(m1, "cfg_source_errors_total", kind="file")
    check("the file source has its counters, labelled by kind",
          src is not None and src >= 1 and errs0 == 0 and
          (sample(m1, "cfg_source_last_success_timestamp_seconds",
                  kind="file") or 0) > 1.6e9, m1[-4000:])
    # A broken file: its error counter moves, the config stays.
    with open(cfg) as f:
        good = f.read()
    write(cfg, good.replace("buffer_size: 1024", "buffer_size: [1024"))
    check("a broken file increments its source's error counter",
          eventually(lambda: (sample(scrape(d), "cfg_source_errors_total",
                                     kind="file") or 0) > errs0),
          scrape(d)[-4000:])
    m2 = scrape(d)
    check("... and sets its last error time",
          (sample(m2, "cfg_source_last_error_timestamp_seconds",
                   kind="file") or 0) > 1.6e9, m2[-4000:])
    changed0 = sample(m2, "cfg_source_last_change_timestamp_seconds",
                      kind="file") or 0
    write(cfg, good.replace("buffer_size: 1024", "buffer_size: 4096"))
    check("a fixed file that makes a version moves its success counter and "
          "its last change time",
          eventually(lambda: (sample(scrape(d), "cfg_source_successes_total",
                                     kind="file") or 0) > src
                     and (sample(scrape(d),
                                 "cfg_source_last_change_timestamp_seconds",
                                 kind="file") or 0) > changed0),
          scrape(d)[-4000:])
    text = scrape(d)
    promtool = shutil.which("promtool")
    if check("promtool is installed (Debian package prometheus)",
             promtool is not None):
        res = subprocess.run([promtool, "check", "metrics"], input=text,
                             capture_output=True, text=True, timeout=60)
        check("promtool check metrics passes", res.returncode == 0,
              res.stdout + res.stderr)
    check("cfgd stops on SIGTERM", d.stop() == 0, d.stderr()[-2000:])


def test_not_durable(binary, source_dir, workdir):
    cfg, schema, tokens = setup(workdir, source_dir, "volatile")
    d = daemon(binary, ["--http", "127.0.0.1:0", "--schema", schema,
                        "--file", cfg, "--token-file", tokens], workdir)
    if not d.wait_listening():
        return
    warned = [l for l in d.stderr().splitlines()
              if "event=primary_not_durable" in l]
    check("a primary without a data dir warns at startup on stderr",
          len(warned) == 1 and "level=warning" in warned[0]
          and "not durable" in warned[0], d.stderr()[-2000:])
    check("/metrics shows cfg_history_durable 0",
          sample(scrape(d), "cfg_history_durable") == 0, scrape(d)[:3000])
    _, _, health = get_json(d, "/healthz", AUTH)
    check("/healthz says durable: false",
          isinstance(health, dict) and health.get("durable") is False, health)
    check("cfgd stops on SIGTERM", d.stop() == 0, d.stderr()[-2000:])


def me(r, name):
    return nodes(r).get(name, {})


def write_to(ctl, p, version):
    i = 0
    while head(p) and head(p)[0] < version and i < 20:
        cfgctl(ctl, p, "set", "observe.n", str(i))
        i += 1
    return head(p)


def test_replica_keeps_its_history(binary, ctl, source_dir, workdir):
    c = cluster(binary, source_dir, workdir)
    p = start_primary(c, None)
    if not p:
        return
    r = c.replica("r1")
    if not r:
        return
    at = write_to(ctl, p, 5)
    check("the primary is at version 5", at and at[0] == 5, repr(at))
    check("the replica converges", eventually(lambda: converged(p, [r])),
          f"{head(p)} vs {head(r)}")
    kept = head(r)
    _, _, value = get_json(r, "/config/observe.n", AUTH)
    old_id = me(r, "r1").get("cluster_id", "")
    p.kill()
    p = start_primary(c, None)
    if not p:
        return
    m = re.search(r"event=primary_not_durable .*cluster_id=([0-9a-f]+)",
                  p.stderr())
    new_id = m.group(1) if m else "?"
    check("the restarted primary starts a new, lower history",
          head(p) and head(p)[0] < 5 and new_id != old_id,
          f"{head(p)} {new_id} {old_id}")
    check("the replica reports stale, naming both cluster ids",
          eventually(lambda: me(r, "r1").get("stale") is True
                     and new_id in me(r, "r1").get("reason", "")
                     and old_id in me(r, "r1").get("reason", "")),
          repr(me(r, "r1")))
    check("the replica keeps version 5, its hash and its values",
          head(r) == kept
          and get_json(r, "/config/observe.n", AUTH)[2] == value,
          f"{head(r)} vs {kept}")
    code, out, err = cfgctl(ctl, r, "nodes")
    check("cfgctl nodes on the replica shows stale and the reason",
          code == 0 and re.search(r"^r1\s+replica\s+stale\s", out, re.M)
          and new_id in out,
          out + err)
    check("the replica logs the refusal with both ids",
          eventually(lambda: "event=replica_refused_rollback" in r.stderr()
                     and new_id in r.stderr()), r.stderr()[-2000:])
    for d in (p, r):
        d.stop()

    # The same restart with a data dir: followed, never stale.
    c = cluster(binary, source_dir, workdir)
    data = os.path.join(workdir, "durable")
    p = start_primary(c, data)
    r = c.replica("r2") if p else None
    if not r:
        return
    at = write_to(ctl, p, 5)
    check("durable: the replica converges at version 5",
          at and at[0] == 5 and eventually(lambda: converged(p, [r])),
          f"{head(p)} vs {head(r)}")
    kept = head(r)
    p.kill()
    p = start_primary(c, data)
    if not p:
        return
    check("durable: the restarted primary resumes at version 5",
          head(p) == kept, f"{head(p)} vs {kept}")
    cfgctl(ctl, p, "set", "observe.after", "1")
    check("durable: the replica follows it, not stale",
          eventually(lambda: converged(p, [r])
                     and me(r, "r2").get("stale") is False
                     and head(r)[0] == kept[0] + 1),
          repr(me(r, "r2")))
    check("durable: no refusal logged",
          "replica_refused_rollback" not in r.stderr(), r.stderr()[-2000:])
    for d in (p, r):
        d.stop()


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    binary, ctl = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    source_dir = sys.argv[3]
    return run_sections("cfgd-observe-", [
        lambda w: test_json_logs(binary, ctl, source_dir, w),
        lambda w: test_metrics(binary, source_dir, w),
        lambda w: test_not_durable(binary, source_dir, w),
        lambda w: test_replica_keeps_its_history(binary, ctl, source_dir, w),
    ])


if __name__ == "__main__":
    sys.exit(main())
