#!/usr/bin/env python3
"""Process test of "who and why": the author (a named token's name) and the
reason (`X-Change-Reason`, `cfgctl --reason`, a WebSocket action's `reason`)
of every write, end to end through a real cfgd.

Usage: cfgd_reason_test.py CFGD_BINARY CFGCTL_BINARY SOURCE_DIR

Sections (run one with CFGD_REASON_SECTION=name):
- single: one cfgd with a data dir and named tokens: GET /history and
  `cfgctl history` (--json and text) show author and reason; `cfgctl
  --reason`; a rollback is `rollback:<v>` with its author; a reason too long,
  with a control character or not UTF-8 is a 400 naming the header; the log
  line escapes the reason; the history survives a restart (the journal).
- etcd: two cfgd on a real etcd (etcd_cluster.py): a reason written on one
  node shows in the other's /history.
"""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cfgd_harness import check, daemon, finish, get_json, write  # noqa: E402

ALICE = "alice-token-0123456789abcdef"
BOB = "bob-token-0123456789abcdef"
UNNAMED = "unnamed-token-0123456789abcdef"
HEADER = "X-Change-Reason"
# Non-ASCII, a quote and a backslash: what a log line must escape and the
# history must keep byte for byte.
REASON = 'OPS-42: pool too small \u2014 "undo" \\ now'


def as_header(text):
    """`text` as http.client sends a header value: Latin-1 of its UTF-8
    bytes, so the wire carries the UTF-8 bytes unchanged."""
    return text.encode().decode("latin-1")


def send(d, method, path, body=None, token=ALICE, reason=None):
    data = None if body is None else json.dumps(body).encode()
    h = {"Content-Type": "application/json",
         "Authorization": "Bearer " + token}
    if reason is not None:
        h[HEADER] = as_header(reason)
    req = urllib.request.Request(d.url + path, data=data, method=method,
                                 headers=h)
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            text = res.read().decode()
            return res.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        text = e.read().decode() if e.fp else ""
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text


def cfgctl(binary, d, *args, token=ALICE):
    env = dict(os.environ, CFGD_TOKEN=token)
    res = subprocess.run([binary, "--url", d.url] + list(args),
                         capture_output=True, text=True, timeout=30, env=env)
    return res.returncode, res.stdout, res.stderr


def history(d):
    status, _, rows = get_json(d, "/history?limit=50")
    return rows if status == 200 and isinstance(rows, list) else []


def row_of(d, version):
    return next((r for r in history(d) if r.get("version") == version), None)


def start(binary, source_dir, workdir, data_dir):
    cfg = os.path.join(source_dir, "examples", "config.yaml")
    schema = os.path.join(source_dir, "examples", "schema.json")
    tokens = write(os.path.join(workdir, "tokens"),
                   f"alice:write:{ALICE}\nbob:write:{BOB}\n{UNNAMED}\n")
    os.chmod(tokens, 0o600)
    d = daemon(binary, ["--http", "127.0.0.1:0", "--file", cfg, "--schema",
                        schema, "--token-file", tokens, "--data-dir",
                        data_dir], workdir)
    return d if d.wait_listening() else None


def section_single(cfgd, ctl, source_dir, workdir):
    data_dir = os.path.join(workdir, "data")
    d = start(cfgd, source_dir, workdir, data_dir)
    if not check("cfgd starts with named tokens and a data dir", d):
        return

    # -- the header on each write route --------------------------------------
    status, body = send(d, "PUT", "/config/buffer_size", 2048, reason=REASON)
    v_put = body.get("version") if status == 200 else None
    row = row_of(d, v_put)
    check("PUT with X-Change-Reason: /history shows author and reason",
          row is not None and row.get("author") == "alice"
          and row.get("reason") == REASON and row.get("origin") == "api:alice",
          f"{status} {body} -> {row}")
    routes = [("PATCH", "/config", {"buffer_size": 3000}),
              ("DELETE", "/config/logging.format", None),
              ("POST", "/features/new_algorithm", {"enabled": True}),
              ("PUT", "/config", {"buffer_size": 4000})]
    for method, path, value in routes:
        why = f"because of {method} {path}"
        status, body = send(d, method, path, value, token=BOB, reason=why)
        row = row_of(d, body.get("version")) if status == 200 else None
        check(f"{method} {path} records bob and its reason",
              row is not None and row.get("author") == "bob"
              and row.get("reason") == why, f"{status} {body} -> {row}")
    status, body = send(d, "PUT", "/config/buffer_size", 5000, token=UNNAMED)
    row = row_of(d, body.get("version")) if status == 200 else None
    check("an unnamed token and no header: empty author and reason",
          row is not None and row.get("author") == ""
          and row.get("reason") == "", f"{status} {body} -> {row}")

    # -- refused reasons -------------------------------------------------------
    before = len(history(d))
    for label, why in [("501 bytes", "x" * 501),
                       ("a tab", "a\tb"),
                       ("a C1 control", "csi \u009b")]:
        status, body = send(d, "PUT", "/config/buffer_size", 6000, reason=why)
        details = " ".join(body.get("details", [])) if isinstance(body, dict) \
            else str(body)
        check(f"a reason with {label} is a 400 naming the header",
              status == 400 and HEADER in details, f"{status} {body}")
    # Other C0 controls never reach the route: the HTTP parser refuses a
    # header value holding one (400 "bad value").
    status, body = send(d, "PUT", "/config/buffer_size", 6000,
                        reason="colour \x1b[31m")
    check("a reason with an escape is a 400", status == 400,
          f"{status} {body}")
    # Not UTF-8: raw bytes on the wire.
    import http.client
    host, port = d.url.rsplit("/", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.putrequest("PUT", "/config/buffer_size")
    conn.putheader("Authorization", "Bearer " + ALICE)
    conn.putheader("Content-Type", "application/json")
    conn.putheader(HEADER, b"bad \xc3\x28 utf8")
    conn.putheader("Content-Length", "4")
    conn.endheaders(b"6000")
    res = conn.getresponse()
    text = res.read().decode(errors="replace")
    conn.close()
    check("a reason that is not UTF-8 is a 400 naming the problem",
          res.status == 400 and HEADER in text and "UTF-8" in text,
          f"{res.status} {text}")
    status, body = send(d, "PUT", "/config/buffer_size", 6000,
                        reason="x" * 500)
    check("a reason of exactly 500 bytes is taken", status == 200,
          f"{status} {body}")
    check("no refused write made a version",
          len(history(d)) == before + 1, f"{before} -> {len(history(d))}")

    # -- cfgctl ---------------------------------------------------------------
    code, out, err = cfgctl(ctl, d, "--json", "--reason", "raise it: load",
                            "set", "buffer_size", "7000", token=BOB)
    v_ctl = json.loads(out).get("version") if code == 0 else None
    code, out, err = cfgctl(ctl, d, "history", "--json", "--limit", "5")
    rows = json.loads(out) if code == 0 else []
    row = next((r for r in rows if r.get("version") == v_ctl), None)
    check("cfgctl --reason: cfgctl history --json shows author and reason",
          row is not None and row.get("author") == "bob"
          and row.get("reason") == "raise it: load", f"{code} {out} {err}")
    code, out, err = cfgctl(ctl, d, "flag", "new_algorithm", "off",
                            "--reason", "flag after the command")
    rows = history(d)
    check("--reason also follows the command (a global option)",
          code == 0 and rows and rows[0].get("reason")
          == "flag after the command" and rows[0].get("author") == "alice",
          f"{code} {err} {rows[:1]}")
    code, out, err = cfgctl(ctl, d, "history", "--limit", "3")
    check("cfgctl history (text) has AUTHOR and REASON columns",
          code == 0 and "AUTHOR" in out and "REASON" in out
          and "flag after the command" in out and "alice" in out,
          f"{code} {out!r} {err}")
    check("cfgctl history (text) shows the commit time, not 1970",
          code == 0 and time.strftime("%Y-") in out and "1970-" not in out,
          repr(out))
    code, out, err = cfgctl(ctl, d, "--reason", "two\nlines", "set",
                            "buffer_size", "7100")
    check("cfgctl refuses a reason with a control character before sending",
          code != 0 and "--reason" in err, f"{code} {out} {err}")

    # -- rollback ---------------------------------------------------------------
    status, body = send(d, "POST", f"/rollback/{v_put}", token=ALICE,
                        reason="back to 2048")
    v_rb = body.get("version") if status == 200 else None
    row = row_of(d, v_rb)
    check("a rollback's origin is rollback:<v>, its author and reason kept",
          row is not None and row.get("origin") == f"rollback:{v_put}"
          and row.get("author") == "alice"
          and row.get("reason") == "back to 2048", f"{status} {body} {row}")
    send(d, "PUT", "/config/buffer_size", 2500)  # else it changes nothing
    code, out, err = cfgctl(ctl, d, "--json", "rollback", str(v_put),
                            token=UNNAMED)
    v_rb2 = json.loads(out).get("version") if code == 0 else None
    row = row_of(d, v_rb2)
    check("a rollback without a named token: rollback:<v>, the channel as "
          "author", row is not None and row.get("origin") == f"rollback:{v_put}"
          and row.get("author") == "api:cfgctl", f"{code} {out} {err} {row}")

    # -- WebSocket actions -------------------------------------------------------
    try:
        import websockets  # Debian: python3-websockets
    except ImportError:
        websockets = None
        check("python3-websockets is installed", False, sys.executable)
    if websockets:
        replies = []

        async def ws_write(reason):
            async with websockets.connect(
                    d.url.replace("http", "ws") + "/ws", open_timeout=10,
                    extra_headers={"Authorization": "Bearer " + BOB}) as ws:
                await asyncio.wait_for(ws.recv(), 20)  # the current config
                await ws.send(json.dumps({"action": "set_feature",
                                          "feature": "beta_ui",
                                          "enabled": True,
                                          "reason": reason}))
                while True:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 20))
                    if msg.get("action") in ("result", "error"):
                        replies.append(msg)
                        return
        asyncio.run(ws_write("from the console"))
        asyncio.run(ws_write("bad\x07bell"))
        rows = history(d)
        check("a WebSocket action's reason and author reach the history",
              replies and replies[0].get("action") == "result"
              and rows and rows[0].get("reason") == "from the console"
              and rows[0].get("author") == "bob", f"{replies} {rows[:1]}")
        check("a WebSocket action with a bad reason is refused by name",
              len(replies) == 2 and replies[1].get("action") == "error"
              and "reason" in " ".join(replies[1].get("details", [])),
              f"{replies}")

    # -- the log line -----------------------------------------------------------
    log = d.stderr()
    escaped = REASON.replace("\\", "\\\\").replace('"', '\\"')
    check("the commit log line names the author and escapes the reason",
          f'author="alice" reason="{escaped}"' in log,
          "no such line in the log")

    # -- a restart keeps who and why (the journal) ---------------------------------
    want = {r["version"]: (r["origin"], r["author"], r["reason"])
            for r in history(d)}
    d.stop()
    d = start(cfgd, source_dir, workdir, data_dir)
    if not check("cfgd restarts on the same data dir", d):
        return
    got = {r["version"]: (r["origin"], r["author"], r["reason"])
           for r in history(d) if r["version"] in want}
    check("after a restart the history has the same authors and reasons",
          got == want and want.get(v_put) == ("api:alice", "alice", REASON),
          f"{want} != {got}")
    d.stop()


def section_etcd(cfgd, ctl, source_dir, workdir):
    import etcd_cluster
    import cfgd_etcd_test as etcd_test
    etcd_test.TOKEN = ALICE  # the nodes' requests
    with etcd_cluster.etcd_cluster(size=1, tls=True, auth=True,
                                   base_dir=workdir) as etcd:
        env = etcd_test.environment(cfgd, ctl, workdir, etcd)
        write(env.tokens, f"alice:write:{ALICE}\n")
        a, b = env.nodes[0], env.nodes[1]
        try:
            if not check("two cfgd start on etcd", a.start() and b.start()):
                return
            status, _, body = a.put("etcd.reason", 1,
                                    {HEADER: as_header(REASON)})
            version = body.get("version") if status == 200 else None

            def on_b():
                _, _, rows = b.get("/history?limit=20")
                return next((r for r in rows or []
                             if r.get("version") == version), None)
            row = etcd_test.eventually(on_b, timeout=20)
            check("a reason written on node A shows in node B's /history",
                  row is not None and row.get("author") == "alice"
                  and row.get("reason") == REASON,
                  f"{status} {body} -> {row}")
        finally:
            for n in (a, b):
                if n.d is not None:
                    n.d.kill()


SECTIONS = [("single", section_single), ("etcd", section_etcd)]


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    cfgd, ctl, source_dir = sys.argv[1:4]
    only = os.environ.get("CFGD_REASON_SECTION")
    for name, fn in SECTIONS:
        if only and name != only:
            continue
        print(f"# section {name}", flush=True)
        workdir = tempfile.mkdtemp(prefix=f"cfgd-reason-{name}-")
        started = time.monotonic()
        try:
            fn(cfgd, ctl, source_dir, workdir)
        except Exception as e:  # a broken section fails, the others run
            check(f"section {name} runs", False, repr(e))
        finally:
            for d in daemon.started:
                d.kill()
        print(f"# section {name}: {time.monotonic() - started:.1f} s",
              flush=True)
        shutil.rmtree(workdir, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
