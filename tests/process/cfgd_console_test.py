#!/usr/bin/env python3
"""Process test: the serving side of the console (/ui) and GET /layers.

A real cfgd serves the console files compiled into it: /ui redirects to
/ui/, the index and assets come with their content types, the same bytes as
apps/cfgd/console, ETags (304 on If-None-Match) and the security headers
(strict CSP, nosniff, DENY, no-referrer); unknown files and path traversal
attempts are 404 and show no config. GET /layers lists the layers in
precedence order and masks secrets exactly as GET /config does: masked for
a read token, shown to a token with the `secrets` scope, gated like
/config.

usage: cfgd_console_test.py CFGD SOURCE_DIR
"""

import http.client
import json
import os
import secrets as rnd
import sys

from cfgd_harness import check, daemon, run_sections, write

CONSOLE_FILES = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "style.css": "text/css",
    "icon.svg": "image/svg+xml",
}

SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def raw(d, method, path, headers=None, host=None):
    """One request with the target sent exactly as given (no redirect
    followed, no normalisation of `..`): (status, headers, body bytes)."""
    addr = d.url[len("http://"):]
    name, port = addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(name, int(port), timeout=10)
    try:
        conn.putrequest(method, path, skip_host=True,
                        skip_accept_encoding=True)
        conn.putheader("Host", host or addr)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        res = conn.getresponse()
        return res.status, res.headers, res.read()
    finally:
        conn.close()


def secured(name, hdrs):
    """Checks the console's security headers on one answer."""
    ok = all(hdrs.get(k) == v for k, v in SECURITY.items())
    check(f"{name}: nosniff, DENY, no-referrer", ok, dict(hdrs))
    csp = hdrs.get("Content-Security-Policy", "")
    directives = {p.split()[0]: p.split()[1:]
                  for p in (x.strip() for x in csp.split(";")) if p}
    strict = (directives.get("default-src") == ["'self'"]
              and directives.get("script-src") == ["'self'"]
              and directives.get("frame-ancestors") == ["'none'"]
              and "unsafe-inline" not in csp and "unsafe-eval" not in csp
              and directives.get("connect-src", [None])[0] == "'self'")
    check(f"{name}: a strict Content-Security-Policy", strict, csp)
    return directives


def test_serving(binary, source_dir, workdir):
    d = daemon(binary, ["--http", "127.0.0.1:0"], workdir)
    if not d.wait_listening():
        return
    host = d.url[len("http://"):]

    status, hdrs, _ = raw(d, "GET", "/ui")
    check("GET /ui redirects to /ui/",
          status in (301, 302, 307, 308) and hdrs.get("Location") == "/ui/",
          f"{status} {hdrs.get('Location')}")
    secured("the redirect", hdrs)

    console_dir = os.path.join(source_dir, "apps", "cfgd", "console")
    status, hdrs, index = raw(d, "GET", "/ui/")
    with open(os.path.join(console_dir, "index.html"), "rb") as f:
        check("GET /ui/ is index.html, byte for byte",
              status == 200 and index == f.read(), f"{status}")
    check("GET /ui/ is text/html",
          hdrs.get("Content-Type", "").startswith("text/html"),
          hdrs.get("Content-Type"))
    directives = secured("GET /ui/", hdrs)
    check("the CSP lets the page reach its own WebSocket",
          f"ws://{host}" in directives.get("connect-src", []),
          directives.get("connect-src"))
    check("the page has no inline script (the CSP would block it)",
          b"<script>" not in index and b"onclick=" not in index
          and b"style=" not in index, "inline script or style in index.html")

    for name, kind in CONSOLE_FILES.items():
        status, hdrs, body = raw(d, "GET", "/ui/" + name)
        with open(os.path.join(console_dir, name), "rb") as f:
            want = f.read()
        check(f"GET /ui/{name}: 200, the file's bytes",
              status == 200 and body == want, f"{status}, {len(body)} bytes")
        check(f"GET /ui/{name} is {kind}",
              hdrs.get("Content-Type", "").startswith(kind),
              hdrs.get("Content-Type"))
        secured(f"GET /ui/{name}", hdrs)
        etag = hdrs.get("ETag", "")
        check(f"/ui/{name} has a strong ETag",
              etag.startswith('"') and etag.endswith('"') and len(etag) > 8,
              etag)
        status, hdrs2, body = raw(d, "GET", "/ui/" + name,
                                  {"If-None-Match": etag})
        check(f"/ui/{name} with its ETag: 304, no body",
              status == 304 and body == b"" and hdrs2.get("ETag") == etag,
              f"{status} {body[:40]!r}")
        status, _, _ = raw(d, "GET", "/ui/" + name,
                           {"If-None-Match": '"x", W/' + etag})
        check(f"/ui/{name}: a weak match in a list is 304 too", status == 304,
              f"{status}")
        status, _, body = raw(d, "GET", "/ui/" + name,
                              {"If-None-Match": '"other"'})
        check(f"/ui/{name}: another ETag is 200", status == 200 and body,
              f"{status}")

    status, hdrs, body = raw(d, "HEAD", "/ui/app.js")
    check("HEAD /ui/app.js: 200, headers only",
          status == 200 and body == b""
          and hdrs.get("Content-Type", "").startswith("text/javascript"),
          f"{status}")

    for target in ["/ui/nope.js", "/ui/../config", "/ui/%2e%2e/",
                   "/ui/%2e%2e/config", "/ui/..%2fconfig", "/ui/..%2Fconfig",
                   "/ui/%2E%2E%2Fconfig", "/ui//etc/passwd",
                   "/ui/%2fetc%2fpasswd", "/ui/app.js/", "/ui/APP.JS",
                   "/ui/./app.js", "/ui/app.js%00", "/ui/index.html/.."]:
        status, hdrs, body = raw(d, "GET", target)
        check(f"GET {target} is 404 and shows no config",
              status == 404 and b"buffer_size" not in body
              and b"root:" not in body, f"{status} {body[:80]!r}")
        if target == "/ui/../config":
            secured("a 404 under /ui/", hdrs)
    status, _, _ = raw(d, "GET", "/uix")
    check("GET /uix is no console path (404)", status == 404, f"{status}")
    status, _, _ = raw(d, "POST", "/ui/", {"Content-Length": "0"})
    check("POST /ui/ is 405", status == 405, f"{status}")
    status, _, body = raw(d, "GET", "/ui/", host="evil.example:80")
    check("the Host guard applies to /ui (403 for a foreign Host)",
          status == 403 and b"<html" not in body, f"{status}")
    status, _, _ = raw(d, "GET", "/ui/",
                       {"Origin": "http://evil.example"})
    check("the Origin guard applies to /ui (403)", status == 403, f"{status}")
    d.stop()

    # On a wildcard address any Host is answered: one that would add a
    # directive to the policy is left out of it.
    w = daemon(binary, ["--http", "0.0.0.0:0"], workdir)
    if not w.wait_listening():
        return
    w.url = w.url.replace("0.0.0.0", "127.0.0.1")
    status, hdrs, _ = raw(w, "GET", "/ui/", host="a;script-src_*")
    csp = hdrs.get("Content-Security-Policy", "")
    check("a Host with `;` never reaches the CSP",
          status == 200 and "script-src_*" not in csp
          and csp.count("script-src") == 1, f"{status} {csp}")
    w.stop()


SCHEMA = {
    "type": "object",
    "properties": {
        "api": {"type": "object", "properties": {
            "key": {"type": "string", "x-secret": True}}},
        "database": {"type": "object", "properties": {
            "host": {"type": "string"}}},
        "features": {"type": "object"},
    },
}


def request(d, method, path, token=None, body=None):
    headers = {}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
        headers["Content-Length"] = str(len(data))
    addr = d.url[len("http://"):]
    name, port = addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(name, int(port), timeout=10)
    try:
        conn.request(method, path, body=data, headers=headers)
        res = conn.getresponse()
        text = res.read().decode()
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        return res.status, text, value
    finally:
        conn.close()


def test_layers(binary, source_dir, workdir):
    base = os.path.join(workdir, "layers")
    os.makedirs(base)
    file_secret = "filekey-" + rnd.token_hex(12)
    runtime_secret = "runkey-" + rnd.token_hex(12)
    host = "dbhost-" + rnd.token_hex(6)
    schema = write(os.path.join(base, "schema.json"), json.dumps(SCHEMA))
    config = write(os.path.join(base, "config.json"), json.dumps({
        "api": {"key": file_secret}, "database": {"host": host},
        "features": {"beta": False}}))
    alice, ops, reader = (rnd.token_hex(20) for _ in range(3))
    tokens = write(os.path.join(base, "tokens"),
                   f"alice:write:{alice}\nops:read,secrets:{ops}\n")
    readers = write(os.path.join(base, "read-tokens"), f"reader:read:{reader}\n")
    # A secret the environment marks (a `file://` value), not the schema.
    env_secret = "envpass-" + rnd.token_hex(12)
    secret_file = write(os.path.join(base, "db-password"), env_secret + "\n")
    env = dict(os.environ)
    env["CFGL_DATABASE__PASSWORD"] = "file://" + secret_file
    os.chmod(tokens, 0o600)
    os.chmod(readers, 0o600)
    d = daemon(binary, ["--http", "127.0.0.1:0", "--schema", schema, "--file",
                        config, "--env-prefix", "CFGL_", "--token-file",
                        tokens, "--read-token-file", readers], base, env=env)
    if not d.wait_listening():
        return

    # /whoami: what a token may do, without trying a write.
    status, _, me = request(d, "GET", "/whoami")
    check("GET /whoami without a token: anonymous, reads need a token",
          status == 200 and me == {"name": "", "scopes": [],
                                   "reads_need_token": True,
                                   "writes_enabled": True}, me)
    status, _, me = request(d, "GET", "/whoami", reader)
    check("GET /whoami with a read token: its name, read only",
          status == 200 and me["name"] == "reader"
          and me["scopes"] == ["read"], me)
    status, _, me = request(d, "GET", "/whoami", alice)
    check("GET /whoami with a write token: its name, read and write",
          status == 200 and me["name"] == "alice"
          and me["scopes"] == ["read", "write"], me)
    status, _, me = request(d, "GET", "/whoami", ops)
    check("GET /whoami with a secrets token: read and secrets",
          status == 200 and me["name"] == "ops"
          and me["scopes"] == ["read", "secrets"], me)
    # Same length, one character changed: only the content tells.
    wrong = alice[:-1] + ("0" if alice[-1] != "0" else "1")
    status, text, me = request(d, "GET", "/whoami", wrong)
    check("GET /whoami with a wrong token of the right length is 401",
          status == 401 and alice not in text, (status, text))

    status, _, _ = request(d, "GET", "/layers")
    status_config, _, _ = request(d, "GET", "/config")
    check("GET /layers without a token is refused like /config (401)",
          status == 401 and status_config == 401,
          f"/layers {status}, /config {status_config}")
    status, _, _ = request(d, "GET", "/layers", token="not-a-token")
    check("GET /layers with a bad token is 401", status == 401, f"{status}")

    status, _, _ = request(d, "PUT", "/config/api.key", alice, runtime_secret)
    check("a writer sets the secret again, in the runtime layer",
          status == 200, f"{status}")

    status, text, value = request(d, "GET", "/layers", reader)
    check("GET /layers with a read token: 200", status == 200, text)
    layers = value.get("layers", []) if isinstance(value, dict) else []
    names = [layer.get("name") for layer in layers]
    check("the layers come lowest precedence first: file, env, runtime",
          len(names) == 3 and names[0] == "file:" + config
          and names[1] == "env" and names[2] == "runtime", names)
    check("each layer says its kind and precedence",
          [(x.get("kind"), x.get("precedence")) for x in layers]
          == [("file", 0), ("env", 1), ("runtime", 2)], layers)
    check("GET /layers names its version",
          isinstance(value, dict) and value.get("version", 0) >= 2, value)
    check("a read token sees no secret value in /layers, in any layer",
          file_secret not in text and runtime_secret not in text
          and env_secret not in text, text)
    masked = [x.get("data", {}).get("api", {}).get("key") for x in layers]
    check("the schema's secret is masked in each layer that sets it (***)",
          masked == ["***", None, "***"], masked)
    env_layer = layers[1].get("data", {}) if len(layers) == 3 else {}
    check("the environment's file:// secret is masked in its layer",
          env_layer.get("database", {}).get("password") == "***", env_layer)
    _, _, cfg = request(d, "GET", "/config", reader)
    check("/config masks the same secret the same way",
          isinstance(cfg, dict) and cfg.get("api", {}).get("key") == "***",
          cfg)
    check("a value that is no secret is shown",
          host in text, "database.host missing")

    status, text, value = request(d, "GET", "/layers", ops)
    layers = value.get("layers", []) if isinstance(value, dict) else []
    shown = [x.get("data", {}).get("api", {}).get("key") for x in layers]
    check("a token with the secrets scope sees each layer's own secret",
          status == 200 and shown == [file_secret, None, runtime_secret]
          and env_secret in text, shown)
    status, text, _ = request(d, "GET", "/layers", alice)
    check("a write token (no secrets scope) sees them masked",
          status == 200 and file_secret not in text
          and runtime_secret not in text and env_secret not in text, text)

    status, text, value = request(d, "DELETE", "/config/database.host", alice)
    status, text, value = request(d, "GET", "/layers", reader)
    runtime = (value.get("layers", [{}])[-1].get("data", {})
               if isinstance(value, dict) else {})
    check("a removed key shows as the runtime layer's tombstone (null)",
          "host" in runtime.get("database", {})
          and runtime["database"]["host"] is None, runtime)
    d.stop()


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, source_dir = sys.argv[1], sys.argv[2]
    return run_sections("cfgd-console-", [
        lambda w: test_serving(binary, source_dir, w),
        lambda w: test_layers(binary, source_dir, w),
    ])


if __name__ == "__main__":
    sys.exit(main())
