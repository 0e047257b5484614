#!/usr/bin/env python3
"""Process test of dry runs: `?dry_run=1` on every cfgd write route and
`cfgctl --dry-run` on every cfgctl write command admit fully (schema,
If-Match) and answer the diff against the running version, or every reason;
no version is made and the journal's history is unchanged. Secrets in the
diff are masked for a token without the secrets scope, as reads mask them.

Usage: cfgd_dry_run_test.py CFGD_BINARY CFGCTL_BINARY SOURCE_DIR
"""

import json
import os
import secrets as rnd
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cfgd_harness import (check, daemon, get_json, run_sections,  # noqa: E402
                          write)

ALICE = "alice-" + rnd.token_hex(16)  # write, no secrets scope
OPS = "ops-" + rnd.token_hex(16)      # write and secrets


def send(d, method, path, body=None, token=ALICE, headers=None):
    data = None if body is None else json.dumps(body).encode()
    h = {"Content-Type": "application/json",
         "Authorization": "Bearer " + token, **(headers or {})}
    req = urllib.request.Request(d.url + path, data=data, method=method,
                                 headers=h)
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            text = res.read().decode()
            return res.status, json.loads(text) if text else None, text
    except urllib.error.HTTPError as e:
        text = e.read().decode() if e.fp else ""
        try:
            return e.code, json.loads(text), text
        except ValueError:
            return e.code, text, text


def cfgctl(binary, d, *args, token=ALICE):
    env = dict(os.environ, CFGD_TOKEN=token)
    res = subprocess.run([binary, "--url", d.url] + list(args),
                         capture_output=True, text=True, timeout=30, env=env)
    return res.returncode, res.stdout, res.stderr


def state(d):
    """(version, hash, history rows): what a dry run must leave alone."""
    _, _, health = get_json(d, "/healthz")
    _, _, rows = get_json(d, "/history?limit=100")
    _, hdrs, _ = get_json(d, "/config",
                          {"Authorization": "Bearer " + OPS})
    return (health.get("version") if isinstance(health, dict) else None,
            hdrs.get("ETag") if hdrs else None, rows)


def start(cfgd, source, workdir):
    schema = json.load(open(os.path.join(source, "examples", "schema.json")))
    schema["properties"]["database"]["properties"]["password"] = {
        "type": "string", "x-secret": True}
    schema_file = write(os.path.join(workdir, "schema.json"),
                        json.dumps(schema))
    tokens = write(os.path.join(workdir, "tokens"),
                   f"alice:write:{ALICE}\nops:write,secrets:{OPS}\n")
    os.chmod(tokens, 0o600)
    cfg = os.path.join(source, "examples", "config.yaml")
    d = daemon(cfgd, ["--http", "127.0.0.1:0", "--file", cfg, "--schema",
                      schema_file, "--token-file", tokens, "--data-dir",
                      os.path.join(workdir, "data")], workdir)
    return d if d.wait_listening() else None


def section_routes(cfgd, ctl, source, workdir):
    d = start(cfgd, source, workdir)
    if not check("cfgd starts", d):
        return
    # Something to unset and to roll back to.
    send(d, "PUT", "/config/extra", 5)
    send(d, "PUT", "/config/database.password", "s3cret-" + rnd.token_hex(4),
         token=OPS)
    before = state(d)
    check("two versions committed before the dry runs",
          before[0] == 3 and len(before[2]) == 3, before)

    def dry(name, method, path, body, want_changes):
        status, answer, _ = send(d, method, path, body)
        ok = (status == 200 and isinstance(answer, dict)
              and answer.get("status") == "accepted"
              and answer.get("dry_run") is True
              and answer.get("version") == 3
              and answer.get("changes") == want_changes
              and isinstance(answer.get("patch"), list)
              and len(answer["patch"]) == len(want_changes))
        check(f"dry run {name}: accepted with the diff", ok,
              f"{status} {answer}")
        check(f"dry run {name}: no version, history unchanged",
              state(d) == before, f"{state(d)} vs {before}")

    dry("PUT /config/<path>", "PUT", "/config/buffer_size?dry_run=1", 2048,
        {"buffer_size": {"old": 1024, "new": 2048}})
    dry("PATCH /config", "PATCH", "/config?dry_run=true",
        {"logging": {"level": "DEBUG"}},
        {"logging.level": {"old": "INFO", "new": "DEBUG"}})
    # The runtime layer holds extra and the password: a PUT /config that
    # leaves them out removes them.
    _, cur, _ = send(d, "GET", "/config/database.password", token=OPS)
    dry("PUT /config", "PUT", "/config?dry_run=1",
        {"extra": 6, "database": {"password": cur}},
        {"extra": {"old": 5, "new": 6}})
    dry("DELETE /config/<path>", "DELETE", "/config/extra?dry_run=1", None,
        {"extra": {"removed": 5}})
    dry("POST /features/<name>", "POST", "/features/beta_ui?dry_run=1",
        {"enabled": True},
        {"features.beta_ui": {"old": False, "new": True}})
    dry("POST /rollback/<version>", "POST", "/rollback/2?dry_run=1", None,
        {"database.password": {"removed": "***"}})

    # Refusals: every reason, nothing made. 2048 passed above; -204 has its
    # length and differs only in content.
    status, answer, _ = send(d, "PATCH", "/config?dry_run=1",
                             {"buffer_size": -204,
                              "logging": {"level": "LOUD"}})
    details = answer.get("details", []) if isinstance(answer, dict) else []
    check("a refused dry run answers 422 with every reason",
          status == 422 and len(details) == 2
          and any(x.startswith("buffer_size") for x in details)
          and any(x.startswith("logging.level") for x in details),
          f"{status} {answer}")
    check("a refused dry run makes no version", state(d) == before)
    status, answer, _ = send(d, "PUT", "/config/buffer_size?dry_run=1", 2048,
                             headers={"If-Match": '"' + "0" * 64 + '"'})
    check("a dry run with a stale If-Match is a conflict",
          status == 409, f"{status} {answer}")
    status, answer, _ = send(d, "PUT", "/config/buffer_size?dry_run=1", 2048,
                             headers={"If-Match": before[1]})
    check("a dry run with the current If-Match is accepted",
          status == 200 and answer.get("status") == "accepted",
          f"{status} {answer}")
    status, answer, _ = send(d, "PUT", "/config/buffer_size?dry_run=2", 2048)
    check("dry_run=2 is a 400 naming the parameter",
          status == 400 and "dry_run" in json.dumps(answer),
          f"{status} {answer}")
    status, _, _ = send(d, "POST", "/cluster/resync?dry_run=1")
    check("POST /cluster/resync refuses dry_run", status == 400, status)
    status, _, _ = send(d, "DELETE", "/nodes/nobody?dry_run=1")
    check("DELETE /nodes/<name> refuses dry_run", status == 400, status)

    # Secrets: masked for alice (no secrets scope), shown to ops. Both
    # values have the same length.
    value = "pw-" + rnd.token_hex(8)
    status, answer, text = send(d, "PUT",
                                "/config/database.password?dry_run=1", value)
    check("a dry run's diff masks a secret for a token without the "
          "secrets scope",
          status == 200 and value not in text
          and answer["changes"]["database.password"]["new"] == "***"
          and all(op.get("value") in ("***", None)
                  for op in answer["patch"]), text)
    status, answer, text = send(d, "PUT",
                                "/config/database.password?dry_run=1", value,
                                token=OPS)
    check("a secrets token sees the secret in the dry run's diff",
          status == 200
          and answer["changes"]["database.password"]["new"] == value, text)
    check("no dry run made a version", state(d) == before,
          f"{state(d)} vs {before}")

    # cfgctl --dry-run on every write command.
    def ctl_dry(name, *args, want_out):
        code, out, err = cfgctl(ctl, d, "--dry-run", *args)
        check(f"cfgctl --dry-run {name}: exit 0 and the diff",
              code == 0 and "dry run: accepted" in out and want_out in out,
              f"{code} {out!r} {err!r}")
        check(f"cfgctl --dry-run {name}: no version", state(d) == before)

    ctl_dry("set", "set", "buffer_size", "2048",
            want_out="buffer_size: 1024 -> 2048")
    ctl_dry("unset", "unset", "extra", want_out="extra: removed 5")
    ctl_dry("flag", "flag", "beta_ui", "on",
            want_out="features.beta_ui: false -> true")
    ctl_dry("rollback", "rollback", "2",
            want_out='database.password: removed "***"')
    pushed = write(os.path.join(workdir, "push.yaml"),
                   f"extra: 7\ndatabase:\n  password: {cur}\n")
    ctl_dry("push", "push", pushed, want_out="extra: 5 -> 7")
    code, out, err = cfgctl(ctl, d, "--dry-run", "set", "buffer_size",
                            "-204")
    check("cfgctl --dry-run of a refused write exits 1 naming the reason",
          code == 1 and "buffer_size" in err, f"{code} {out!r} {err!r}")
    code, out, err = cfgctl(ctl, d, "--dry-run", "--json", "set",
                            "buffer_size", "2048")
    check("cfgctl --dry-run --json prints the server's answer",
          code == 0 and json.loads(out).get("dry_run") is True, out)
    code, _, err = cfgctl(ctl, d, "--dry-run", "resync")
    check("cfgctl --dry-run resync is refused (exit 2)", code == 2, err)
    check("after everything: the same version and history",
          state(d) == before, f"{state(d)} vs {before}")

    # The WebSocket actions: `"dry_run": true` (reload has none).
    try:
        import asyncio
        import websockets  # Debian: python3-websockets
    except ImportError:
        check("python3-websockets is installed", False, sys.executable)
        return
    answers = []

    async def session():
        async with websockets.connect(
                d.url.replace("http", "ws") + "/ws", open_timeout=10,
                extra_headers={"Authorization": "Bearer " + ALICE}) as ws:
            await asyncio.wait_for(ws.recv(), 10)  # the current config
            for msg in ({"action": "set_log_level", "level": "DEBUG",
                         "dry_run": True},
                        {"action": "set_log_level", "level": "LOUD",
                         "dry_run": True},
                        {"action": "reload", "dry_run": True}):
                await ws.send(json.dumps(msg))
                while True:
                    got = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if got.get("action") in ("result", "error"):
                        answers.append(got)
                        break

    try:
        asyncio.run(session())
    except Exception as e:  # noqa: BLE001
        check("the WebSocket session completes", False, repr(e))
    check("a WebSocket dry run answers accepted with the changes",
          len(answers) == 3 and answers[0].get("status") == "accepted"
          and answers[0].get("dry_run") is True
          and answers[0].get("changes") == {
              "logging.level": {"old": "INFO", "new": "DEBUG"}}, answers)
    check("a refused WebSocket dry run names the reason",
          len(answers) == 3 and answers[1].get("status") == "rejected"
          and any("logging.level" in x
                  for x in answers[1].get("details", [])), answers)
    check("reload refuses a dry run",
          len(answers) == 3 and answers[2].get("action") == "error"
          and "reload" in json.dumps(answers[2]), answers)
    check("the WebSocket dry runs made no version", state(d) == before,
          f"{state(d)} vs {before}")
    d.stop()


def main():
    cfgd, ctl, source = sys.argv[1:4]
    return run_sections("cfgd-dry-run-", [
        lambda w: section_routes(cfgd, ctl, source, w)])


if __name__ == "__main__":
    sys.exit(main())
