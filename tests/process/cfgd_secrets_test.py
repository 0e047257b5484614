#!/usr/bin/env python3
"""Process test: secrets never leak, and token scopes.

A real cfgd with no read tokens serves a config holding three secrets: a
`file://` secret named by an environment variable, a value the schema marks
`"x-secret": true` and one it marks `"writeOnly": true`. None of their values
(nor the rotated one) may appear in any API answer, WebSocket push, log line,
`journal.db` or `journal.db-wal`, or cfgctl's output; a token with the
`secrets` scope reads them. Named tokens write under their name; a token of
the right length but wrong content is refused; the journal's key is checked.

usage: cfgd_secrets_test.py CFGD CFGCTL SOURCE_DIR
"""

import asyncio
import json
import os
import secrets as rnd
import subprocess
import sys
import time

from cfgd_harness import (check, daemon, get, get_json, http, run_sections,
                          run_to_exit, write)

WAIT = 10  # seconds for a change to show

SCHEMA = {
    "type": "object",
    "properties": {
        "api": {"type": "object", "properties": {
            "key": {"type": "string", "x-secret": True}}},
        "smtp": {"type": "object", "properties": {
            "password": {"type": "string", "writeOnly": True}}},
        "database": {"type": "object", "properties": {
            "password": {"type": "string"},
            "host": {"type": "string"}}},
        "features": {"type": "object"},
        "logging": {"type": "object"},
        "tenants": {"type": "object"},
    },
}


def token():
    return rnd.token_hex(20)


def distinct(tag):
    """A value found nowhere by chance."""
    return f"{tag}-{rnd.token_hex(16)}"


class setup:
    def __init__(self, binary, workdir, name):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        self.data = os.path.join(self.dir, "data")
        self.schema = write(os.path.join(self.dir, "schema.json"),
                            json.dumps(SCHEMA))
        self.api_key = distinct("apikey")
        self.smtp = distinct("smtp")
        self.db = distinct("dbpass")
        self.host = distinct("dbhost")  # not a secret: must be found
        self.config = write(os.path.join(self.dir, "config.json"), json.dumps({
            "api": {"key": self.api_key},
            "smtp": {"password": self.smtp},
            "database": {"host": self.host},
            "features": {"beta": {"enabled": False}},
            "logging": {"level": "INFO"}}))
        self.secret_file = write(os.path.join(self.dir, "db-password"),
                                 self.db + "\n")
        self.alice, self.ops, self.reader = token(), token(), token()
        self.bare = token()
        self.tokens = write(os.path.join(self.dir, "tokens"),
                            f"# named tokens\nalice:write:{self.alice}\n"
                            f"ops:read,secrets:{self.ops}\n{self.bare}\n")
        os.chmod(self.tokens, 0o600)
        self.env = dict(os.environ)
        self.env["CFGS_DATABASE__PASSWORD"] = "file://" + self.secret_file
        self.binary = binary

    def args(self, *more):
        return ["--http", "127.0.0.1:0", "--schema", self.schema, "--file",
                self.config, "--env-prefix", "CFGS_", "--env-poll-ms", "100",
                "--data-dir", self.data, "--token-file", self.tokens,
                "--log-format", "json", *more]

    def start(self, *more):
        d = daemon(self.binary, self.args(*more), self.dir, env=self.env)
        return d if d.wait_listening() else None

    def secret_values(self):
        return [self.api_key, self.smtp, self.db]


def bearer(tok):
    return {"Authorization": "Bearer " + tok}


def put_json(d, path, value, tok):
    """PUT `value` as JSON with token `tok` (the harness' http() sends no
    body): (status, body text)."""
    import urllib.error
    import urllib.request
    req = urllib.request.Request(
        d.url + path, data=json.dumps(value).encode(), method="PUT",
        headers={**bearer(tok), "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def leaks(text, values):
    return [v for v in values if v in text]


def wait_version(d, above, headers=None):
    deadline = time.time() + WAIT
    while time.time() < deadline:
        status, hdrs, _ = get(d, "/config", headers)
        if status == 200 and int(hdrs["X-Config-Version"]) > above:
            return int(hdrs["X-Config-Version"])
        time.sleep(0.05)
    return None


def test_masked_everywhere(binary, cfgctl, workdir):
    s = setup(binary, workdir, "masked")
    d = s.start()
    if not d:
        return
    seen = []  # every answer a client without the secrets scope got

    def read(path, headers=None):
        status, _, body = get(d, path, headers)
        seen.append(f"GET {path} -> {status} {body}")
        return status, body

    status, body = read("/config")
    cfg = json.loads(body)
    check("GET /config masks the file:// secret",
          cfg["database"]["password"] == "***", body)
    check("GET /config masks the x-secret and writeOnly values",
          cfg["api"]["key"] == "***" and cfg["smtp"]["password"] == "***",
          body)
    check("GET /config shows what is not secret",
          cfg["database"]["host"] == s.host, body)
    for path in ["/config/database", "/config/database.password",
                 "/config/api", "/config/api.key", "/config/smtp.password"]:
        status, body = read(path)
        check(f"GET {path} masks", status == 200 and "***" in body,
              f"{status} {body}")
    # A token with only `write` (and so `read`) is not `secrets`.
    status, body = read("/config", bearer(s.alice))
    check("a write token without the secrets scope sees them masked",
          status == 200 and json.loads(body)["api"]["key"] == "***", body)
    status, body = read("/config", bearer(s.bare))
    check("a bare write token (as today) sees them masked",
          status == 200 and json.loads(body)["api"]["key"] == "***", body)
    first = int(get(d, "/config")[1]["X-Config-Version"])

    # Changes: the secret file rotated (env source), a runtime write to a
    # schema-marked secret, and a write refused with the value in its error.
    async def watch(headers, out, n):
        import websockets  # Debian: python3-websockets
        async with websockets.connect(d.url.replace("http", "ws") + "/ws",
                                      extra_headers=headers) as ws:
            for _ in range(n):
                out.append(await asyncio.wait_for(ws.recv(), WAIT))

    rotated = distinct("rotated")
    new_key = distinct("newkey")
    masked_pushes, full_pushes = [], []

    def put(path, value, tok):
        return put_json(d, path, value, tok)

    async def scenario2():
        plain = asyncio.ensure_future(watch({}, masked_pushes, 3))
        full = asyncio.ensure_future(watch(bearer(s.ops), full_pushes, 3))
        await asyncio.sleep(0.5)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, write, s.secret_file, rotated + "\n")
        v = await loop.run_in_executor(None, wait_version, d, first)
        check("the rotated secret file makes a new version", v is not None)
        status, body = await loop.run_in_executor(
            None, put, "/config/api.key", new_key, s.alice)
        seen.append(f"PUT -> {status} {body}")
        check("alice (write scope) sets api.key", status == 200, body)
        await asyncio.wait_for(asyncio.gather(plain, full), WAIT)

    try:
        asyncio.run(scenario2())
    except Exception as e:  # a timeout names what was missing
        check("three pushes reach both WebSocket clients", False,
              f"{e!r}: {len(masked_pushes)} masked, {len(full_pushes)} full")
    seen.extend(masked_pushes)
    last_masked = json.loads(masked_pushes[-1]) if masked_pushes else {}
    check("the WebSocket push without a token masks every secret",
          last_masked.get("config", {}).get("api", {}).get("key") == "***"
          and last_masked["config"]["database"]["password"] == "***",
          repr(last_masked)[:300])
    last_full = json.loads(full_pushes[-1]) if full_pushes else {}
    check("the WebSocket push to a secrets token shows them",
          last_full.get("config", {}).get("api", {}).get("key") == new_key
          and last_full["config"]["database"]["password"] == rotated,
          repr(last_full)[:300])

    # A refused write whose error would quote the secret.
    status, body = put("/config/api", {"key": 1234567890123}, s.alice)
    seen.append(f"PUT -> {status} {body}")
    check("a refused write is refused (422)", status == 422, body)
    status, body = put("/config/smtp.password", 98765432109876, s.alice)
    seen.append(f"PUT -> {status} {body}")
    check("a refused write of a writeOnly value is refused", status == 422,
          body)

    status, body = read("/history")
    hist = json.loads(body)
    check("history names alice's write api:alice",
          any(r["origin"] == "api:alice" for r in hist), body)
    last = hist[0]["version"]
    status, body = read(f"/diff?from={first}&to={last}")
    diff = json.loads(body)
    check("GET /diff masks old and new secret values",
          status == 200 and "***" in body
          and "database.password" in diff["changes"]
          and diff["changes"]["database.password"] == {"old": "***",
                                                        "new": "***"},
          body)
    status, body = get(d, f"/diff?from={first}&to={last}", bearer(s.ops))[0:3:2]
    check("GET /diff shows them to a secrets token",
          rotated in body and s.db in body and new_key in body, body)
    status, _, body = get(d, "/config/api.key", bearer(s.ops))
    check("GET /config/api.key with a secrets token reads it",
          status == 200 and json.loads(body) == new_key, body)

    # cfgctl's output, without a token and with alice's.
    alice_file = write(os.path.join(s.dir, "alice.token"), s.alice + "\n")
    os.chmod(alice_file, 0o600)
    outputs = []
    for args in (["get"], ["get", "database"], ["get", "api.key"],
                 ["diff", str(first), str(last)], ["history"],
                 ["--token-file", alice_file, "get"],
                 ["--json", "diff", str(first), str(last)]):
        res = subprocess.run([cfgctl, "--url", d.url, *args],
                             capture_output=True, text=True, timeout=30)
        outputs.append(f"cfgctl {args}: {res.returncode}\n{res.stdout}"
                       f"{res.stderr}")
    check("cfgctl get prints *** for the secret",
          "***" in outputs[2], outputs[2])
    check("cfgctl history shows api:alice", "api:alice" in outputs[4],
          outputs[4])

    # The journal while cfgd runs (the WAL holds the newest versions).
    wal = os.path.join(s.data, "journal.db-wal")
    db = os.path.join(s.data, "journal.db")
    raw_running = b""
    for f in (db, wal):
        if os.path.exists(f):
            raw_running += open(f, "rb").read()
    check("the journal files exist and hold the non-secret value",
          s.host.encode() in raw_running, f"{len(raw_running)} bytes")
    code = d.stop()
    check("cfgd stops cleanly", code == 0, d.stderr()[-500:])
    raw_stopped = open(db, "rb").read()
    values = s.secret_values() + [rotated, new_key]
    for name, text in (("API answers and pushes", "\n".join(seen)),
                       ("cfgctl output", "\n".join(outputs)),
                       ("cfgd's log", d.stderr())):
        found = leaks(text, values)
        check(f"no secret value in {name}", not found, f"found {found}")
    for name, raw in (("journal.db and its WAL while running", raw_running),
                      ("journal.db after a clean stop", raw_stopped)):
        found = [v for v in values if v.encode() in raw]
        check(f"no secret value in {name}", not found, f"found {found}")
    check("the data dir has a 0600 secrets.key",
          oct(os.stat(os.path.join(s.data, "secrets.key")).st_mode & 0o777)
          == "0o600")

    # Restart: the sealed secrets come back as they were.
    d = s.start()
    if not d:
        return
    status, _, body = get(d, "/config", bearer(s.ops))
    cfg = json.loads(body)
    check("after a restart the secrets token reads the restored secrets",
          cfg["api"]["key"] == new_key and cfg["database"]["password"]
          == rotated, body)
    status, _, body = get(d, "/config")
    check("after a restart they are masked without it",
          json.loads(body)["api"]["key"] == "***", body)
    d.stop()

    # Another key: refused, naming both key ids.
    other = os.path.join(s.dir, "other.key")
    with open(other, "w") as f:
        f.write(rnd.token_hex(32) + "\n")
    os.chmod(other, 0o600)
    code, err = run_to_exit(binary, s.args("--secrets-key-file", other))
    check("a journal sealed with another key is refused",
          code == 1 and "sealed with key" in err and "journal.db" in err,
          f"{code} {err[-400:]}")
    os.chmod(other, 0o644)
    code, err = run_to_exit(binary, s.args("--secrets-key-file", other))
    check("a key file others may read is refused",
          code == 1 and "other.key" in err and "0644" in err,
          f"{code} {err[-400:]}")


def test_scopes(binary, cfgctl, workdir):
    s = setup(binary, workdir, "scopes")
    d = s.start()
    if not d:
        return
    # Same length, other content: only the content is wrong.
    wrong = s.ops[:-1] + ("0" if s.ops[-1] != "0" else "1")
    status, _, body = get(d, "/config/api.key", bearer(wrong))
    check("a wrong token of the right length is not a secrets token",
          status == 200 and json.loads(body) == "***", body)
    status, _, body = http("DELETE", d.url + "/config/database.host",
                           bearer(s.alice[:-1] + ("0" if s.alice[-1] != "0"
                                                  else "1")))
    check("a wrong write token of the right length is refused (401)",
          status == 401, body)
    status, _, body = http("DELETE", d.url + "/config/database.host",
                           bearer(s.ops))
    check("a token without the write scope cannot write (403)",
          status == 403 and "write scope" in body, body)
    status, _, body = http("DELETE", d.url + "/config/database.host",
                           {**bearer(s.bare), "X-Config-Origin": "bob"})
    check("a bare token still writes (as before), under X-Config-Origin",
          status == 200, body)
    status, _, body = http("DELETE", d.url + "/config/features.beta",
                           {**bearer(s.alice), "X-Config-Origin": "mallory"})
    _, _, hist = get_json(d, "/history?limit=2")
    check("a named token writes as itself, whatever X-Config-Origin says",
          [r["origin"] for r in hist] == ["api:alice", "api:bob"], hist)
    for query, want in (("timeout_ms=60000", 200), ("timeout_ms=60001", 400)):
        status, _, body = http("DELETE", d.url + "/config/logging?"
                               + query, bearer(s.alice))
        check(f"?{query} is {want} (capped by --max-timeout-ms, 60 s)",
              status == want and (want == 200 or "--max-timeout-ms" in body),
              f"{status} {body}")
    d.stop()
    d = s.start("--max-timeout-ms", "1000")
    if d:
        status, _, body = http("DELETE", d.url + "/config/database.host"
                               "?timeout_ms=1001", bearer(s.alice))
        check("--max-timeout-ms 1000 refuses ?timeout_ms=1001",
              status == 400 and "1..1000" in body, f"{status} {body}")
        d.stop()

    # Token files that are wrong say where, never the token.
    for text, want in ((f"alice:admin:{s.alice}\n", "line 1"),
                       (f"x\nalice:{s.alice}\n", "line 2"),
                       (f"al ice:read:{s.alice}\n", "token name"),
                       (f"a:read:{s.alice}\na:write:{s.ops}\n", "twice")):
        bad = write(os.path.join(s.dir, "bad-tokens"), text)
        os.chmod(bad, 0o600)
        code, err = run_to_exit(binary, ["--http", "127.0.0.1:0",
                                         "--token-file", bad])
        check(f"token file {text.splitlines()[-1][:14]!r}... is refused "
              f"naming {want}",
              code == 1 and want in err and bad in err and s.alice not in err
              and s.ops not in err, f"{code} {err[-300:]}")


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    binary, cfgctl = sys.argv[1], sys.argv[2]
    return run_sections("cfgd-secrets-", [
        lambda w: test_masked_everywhere(binary, cfgctl, w),
        lambda w: test_scopes(binary, cfgctl, w),
    ])


if __name__ == "__main__":
    sys.exit(main())
