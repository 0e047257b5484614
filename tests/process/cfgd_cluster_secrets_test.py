#!/usr/bin/env python3
"""Process test: secrets on the cluster link. A primary holds a `file://`
secret, an `x-secret` and a `writeOnly` value. A replica without
--cluster-secrets is sent every version masked: it serves `***` even to a
token with the `secrets` scope, in /config and in /ws pushes, and never logs
a secret; a replica with --cluster-secrets serves them to that token. Both
converge to the primary's version and true hash (/nodes, ETag).

usage: cfgd_cluster_secrets_test.py CFGD CFGCTL SOURCE_DIR
"""

import asyncio
import json
import os
import sys

from cfgd_harness import (check, daemon, get, get_json, run_sections,
                          run_to_exit)
from cfgd_secrets_test import (bearer, distinct, leaks, setup, wait_version,
                               write)
from cfgd_secrets_test import put_json as put
from cfgd_cluster_test import WAIT, eventually, free_port

def head(d, headers=None):
    status, hdrs, _ = get(d, "/config", headers)
    if status != 200:
        return None
    return int(hdrs.get("X-Config-Version", "0")), hdrs.get("ETag", "")


def config(d, tok):
    status, _, body = get_json(d, "/config", bearer(tok))
    return body if status == 200 else {}


def test_cluster_secrets(binary, workdir):
    s = setup(binary, workdir, "link")
    port = free_port()
    p = s.start("--cluster-port", str(port), "--node-name", "primary")
    if not p:
        return

    def replica(name, *more):
        d = daemon(binary, ["--http", "127.0.0.1:0", "--token-file", s.tokens,
                            "--node-name", name, "--join",
                            f"127.0.0.1:{port}", "--log-format", "json",
                            *more], s.dir)
        return d if d.wait_listening() else None

    masked, full = replica("masked"), replica("full", "--cluster-secrets")
    if not masked or not full:
        return
    both = {"masked": masked, "full": full}

    def converged():
        want = head(p)
        return want is not None and all(head(r) == want
                                        for r in both.values())

    check("both replicas converge to the primary's version and true hash",
          eventually(converged),
          f"{head(p)} vs {[head(r) for r in both.values()]}")
    cfg = config(masked, s.ops)
    check("a replica without --cluster-secrets serves *** to a secrets token",
          cfg.get("api", {}).get("key") == "***"
          and cfg.get("smtp", {}).get("password") == "***"
          and cfg.get("database", {}).get("password") == "***",
          json.dumps(cfg))
    check("it serves what is not secret",
          cfg.get("database", {}).get("host") == s.host, json.dumps(cfg))
    status, _, value = get_json(masked, "/config/api.key", bearer(s.ops))
    check("GET /config/api.key on it is *** for a secrets token",
          status == 200 and value == "***", f"{status} {value!r}")
    cfg = config(full, s.ops)
    check("a replica with --cluster-secrets serves them to a secrets token",
          cfg.get("api", {}).get("key") == s.api_key
          and cfg.get("smtp", {}).get("password") == s.smtp
          and cfg.get("database", {}).get("password") == s.db,
          json.dumps(cfg))
    status, _, body = get_json(full, "/config")
    check("and masks them for readers without the secrets scope",
          status == 200 and body["api"]["key"] == "***", f"{status} {body}")

    # A change while WebSocket clients with the secrets scope watch both: the
    # secret rotates (the masked replica sees no change in that), then a
    # value that is not secret changes.
    rotated = distinct("rotated")
    host = distinct("newhost")
    pushes = {"masked": [], "full": []}

    async def watch(d, out):
        import websockets  # Debian: python3-websockets
        async with websockets.connect(d.url.replace("http", "ws") + "/ws",
                                      extra_headers=bearer(s.ops)) as ws:
            while True:
                msg = await asyncio.wait_for(ws.recv(), WAIT)
                out.append(msg)
                if host in msg:
                    return

    before = head(p)

    async def scenario():
        tasks = [asyncio.ensure_future(watch(d, pushes[n]))
                 for n, d in both.items()]
        await asyncio.sleep(0.5)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, write, s.secret_file, rotated + "\n")
        await loop.run_in_executor(None, wait_version, p, before[0])
        status, body = await loop.run_in_executor(
            None, put, p, "/config/database.host", host, s.alice)
        check("alice sets a value that is not secret", status == 200, body)
        await asyncio.wait_for(asyncio.gather(*tasks), WAIT)

    try:
        asyncio.run(scenario())
    except Exception as e:
        check("both replicas push the rotated version", False,
              f"{e!r}: {pushes!r}")
    last = json.loads(pushes["masked"][-1]) if pushes["masked"] else {}
    check("the masked replica's push to a secrets token shows ***",
          last.get("config", {}).get("database", {}).get("password") == "***"
          and last["config"]["database"].get("host") == host,
          repr(pushes["masked"])[:2000])
    last = json.loads(pushes["full"][-1]) if pushes["full"] else {}
    check("the full replica's push to a secrets token shows the new value",
          last.get("config", {}).get("database", {}).get("password")
          == rotated, repr(pushes["full"])[:2000])
    check("after the changes both converge to the primary's version and hash",
          eventually(converged) and head(p)[0] >= before[0] + 2,
          f"{head(p)} vs {[head(r) for r in both.values()]}")
    want = head(p)

    def listed():
        status, _, body = get_json(p, "/nodes", bearer(s.ops))
        return {n["name"]: n for n in body.get("nodes", [])} \
            if status == 200 else {}

    check("the primary's /nodes lists both at its version and true hash",
          eventually(lambda: all(
              listed().get(n, {}).get("version") == want[0]
              and listed().get(n, {}).get("hash") == want[1].strip('"')
              for n in both)),
          repr(listed()))
    values = s.secret_values() + [rotated]
    answers = [json.dumps(config(masked, s.ops)),
               get(masked, "/history?limit=50", bearer(s.ops))[2],
               get(masked, f"/diff?from=1&to={want[0]}", bearer(s.ops))[2]] \
        + pushes["masked"]
    check("no secret value appears in the masked replica's answers or pushes",
          not leaks("\n".join(answers), values),
          repr(leaks("\n".join(answers), values)))
    check("no secret value appears in the masked replica's log",
          not leaks(masked.stderr(), values), masked.stderr()[-2000:])
    for d in [p, masked, full]:
        check("a node stops on SIGTERM", d.stop() == 0, d.stderr()[-2000:])
    code, err = run_to_exit(binary, ["--http", "127.0.0.1:0",
                                     "--cluster-secrets"])
    check("--cluster-secrets on a primary is refused at start",
          code not in (0, None) and "cluster_secrets" in err,
          f"{code} {err[-1000:]}")


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    return run_sections("cfgd-cluster-secrets-", [
        lambda w: test_cluster_secrets(binary, w)])


if __name__ == "__main__":
    sys.exit(main())
