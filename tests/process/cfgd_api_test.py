#!/usr/bin/env python3
"""Process test of cfgd's write API, auth, /ws, /metrics and cfgctl.

Usage: cfgd_api_test.py CFGD_BINARY CFGCTL_BINARY SOURCE_DIR

Starts real cfgd processes with a token file and drives them with HTTP
requests, with cfgctl, and with a client written like the seed's Python
RemoteConfig and WebSocketConfig (standard library + python3-websockets).
"""

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from cfgd_harness import check, daemon, get_json, http, run_sections, write

TOKEN = "write-token-0123456789"
READ_TOKEN = "read-token-9876543210"
WAIT = 20


def auth(token=TOKEN):
    return {"Authorization": "Bearer " + token}


def send(d, method, path, body=None, token=TOKEN, headers=None):
    """A write; returns (status, headers, parsed body or text)."""
    data = None if body is None else (
        body if isinstance(body, bytes) else json.dumps(body).encode())
    h = {"Content-Type": "application/json"}
    if token:
        h.update(auth(token))
    h.update(headers or {})
    req = urllib.request.Request(d.url + path, data=data, method=method,
                                 headers=h)
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            text = res.read().decode()
            return res.status, res.headers, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        text = e.read().decode() if e.fp else ""
        try:
            return e.code, e.headers, json.loads(text)
        except ValueError:
            return e.code, e.headers, text


def oversized_put(d, path, length):
    """Announces a body of `length` bytes and sends none: the server must
    refuse from the header alone. Returns the status code."""
    host, port = d.url.rsplit("/", 1)[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall((f"PUT {path} HTTP/1.1\r\nHost: {host}\r\n"
                   f"Authorization: Bearer {TOKEN}\r\n"
                   f"Content-Type: application/json\r\n"
                   f"Content-Length: {length}\r\n\r\n").encode())
        head = s.recv(4096).decode(errors="replace")
    parts = head.split(" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def announce_body(d, path, length, token):
    """Opens a connection that announces a `length`-byte PUT body with
    `token` and sends no body byte; returns the socket, or None."""
    host, port = d.url.rsplit("/", 1)[1].rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall((f"PUT {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Authorization: Bearer {token}\r\n"
               f"Content-Type: application/json\r\n"
               f"Content-Length: {length}\r\n\r\n").encode())
    return s


def status_of(sock):
    """The status code of the response waiting on `sock`, None if none
    came before the socket's timeout."""
    try:
        head = sock.recv(4096).decode(errors="replace")
    except OSError:
        return None
    parts = head.split(" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def raw(d, method, path, headers, body=None):
    """A request with exactly these headers (Host too); returns the status."""
    import http.client
    host, port = d.url.rsplit("/", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers)
        res = conn.getresponse()
        res.read()
        return res.status
    finally:
        conn.close()


def connect(d, source="127.0.0.1"):
    host, port = d.url.rsplit("/", 1)[1].rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=10,
                                    source_address=(source, 0))


def healthz_from(d, source):
    """GET /healthz from the loopback address `source`; the status, or None
    when the connection was refused."""
    with connect(d, source) as s:
        host = d.url.rsplit("/", 1)[1]
        s.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n"
                  f"Connection: close\r\n\r\n".encode())
        return status_of(s)


def rss_kb(d):
    with open(f"/proc/{d.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def version(d, token=None):
    status, hdrs, _ = get_json(d, "/config", auth(token) if token else None)
    return int(hdrs.get("X-Config-Version", "0")) if status == 200 else None


def start(binary, source_dir, workdir, extra=()):
    schema = os.path.join(source_dir, "examples", "schema.json")
    cfg = os.path.join(source_dir, "examples", "config.yaml")
    tokens = write(os.path.join(workdir, "tokens"),
                   "# write tokens\n" + TOKEN + "\n")
    d = daemon(binary, ["--http", "127.0.0.1:0", "--schema", schema,
                        "--file", cfg, "--token-file", tokens] + list(extra),
               workdir)
    return d if d.wait_listening() else None


# -- writes and auth ----------------------------------------------------------

def test_flags_api(binary, ctl, source_dir, workdir):
    d = start(binary, source_dir, workdir)
    if not d:
        return
    before = version(d)
    status, _, body = send(d, "POST", "/features/new_algorithm",
                           {"enabled": True, "rollout": 10})
    _, _, flag = get_json(d, "/config/features.new_algorithm")
    check("a whole flag object keeps its rollout",
          status == 200 and flag == {"enabled": True, "rollout": 10},
          f"{status} {body!r} -> {flag!r}")
    status, _, body = send(d, "POST", "/features/new_algorithm",
                           {"enabled": False})
    _, _, flag = get_json(d, "/config/features.new_algorithm")
    check("{enabled} alone flips a flag and keeps its rollout",
          status == 200 and flag == {"enabled": False, "rollout": 10},
          f"{status} {body!r} -> {flag!r}")
    mark = version(d)
    status, _, body = send(d, "POST", "/features/new_algoritm",
                           {"enabled": True})
    check("an unknown flag name is refused (404) naming it",
          status == 404 and "new_algoritm" in json.dumps(body),
          f"{status} {body!r}")
    status, _, body = send(d, "POST", "/features/new_algorithm",
                           {"enabled": True, "rolout": 50})
    check("an unknown field is refused naming its path",
          status == 422 and "features.new_algorithm.rolout" in json.dumps(body),
          f"{status} {body!r}")
    status, _, body = send(d, "POST", "/features/new_algorithm",
                           {"enabled": "yes"})
    check("a non-bool enabled is refused (400)", status == 400,
          f"{status} {body!r}")
    status, _, body = send(d, "POST", "/features/a.b", {"enabled": True})
    check("a dotted flag name is refused (400)", status == 400,
          f"{status} {body!r}")
    check("the refused flag writes made no version", version(d) == mark,
          f"{version(d)} vs {mark}")
    status, _, body = send(d, "POST", "/features/brand_new?create=true",
                           {"enabled": True})
    check("?create=true creates a flag", status == 200, f"{status} {body!r}")
    code, out, err = cfgctl(ctl, d, "flag", "other_new", "on")
    check("cfgctl flag on an unknown name exits 1", code == 1,
          f"{code} {out!r} {err!r}")
    code, out, err = cfgctl(ctl, d, "flag", "other_new", "on", "--create")
    check("cfgctl flag --create creates it", code == 0,
          f"{code} {out!r} {err!r}")
    check("every accepted write made a version",
          version(d) == before + 4, f"{version(d)} vs {before}")
    d.stop()


def test_connection_limits(binary, source_dir, workdir):
    d = start(binary, source_dir, workdir,
              ["--max-connections", "12", "--max-connections-per-peer", "5"])
    if not d:
        return
    idle = [connect(d) for _ in range(5)]  # 5 idle clients from 127.0.0.1
    time.sleep(0.2)  # lets cfgd accept them before the next one
    check("a 6th connection from one address is answered 503",
          healthz_from(d, "127.0.0.1") == 503)
    check("another address is still served",
          healthz_from(d, "127.0.0.2") == 200)
    idle += [connect(d, f"127.0.0.{3 + i // 5}") for i in range(7)]
    time.sleep(0.2)
    check("past --max-connections every new connection is answered 503",
          healthz_from(d, "127.0.0.9") == 503)
    for s in idle:
        s.close()
    time.sleep(0.2)  # lets cfgd see them closed
    check("once clients leave, new ones are served",
          healthz_from(d, "127.0.0.1") == 200)
    d.stop()


def test_hosts_and_origins(binary, source_dir, workdir):
    d = start(binary, source_dir, workdir,
              ["--allowed-origin", "https://admin.example.com"])
    if not d:
        return
    ours = d.url.rsplit("/", 1)[1]
    port = ours.rsplit(":", 1)[1]
    body = b'"WARNING"'
    writing = {**auth(), "Content-Type": "application/json"}
    check("our own Host is answered",
          raw(d, "GET", "/config", {"Host": ours}) == 200)
    check("localhost with our port is answered (loopback)",
          raw(d, "GET", "/config", {"Host": "localhost:" + port}) == 200)
    check("a foreign Host (DNS rebinding) is refused on reads",
          raw(d, "GET", "/config", {"Host": "evil.example:" + port}) == 403)
    check("a foreign Host is refused on writes, token or not",
          raw(d, "PUT", "/config/logging.level",
              {"Host": "evil.example:" + port, **writing}, body) == 403)
    check("a foreign Origin is refused on reads",
          raw(d, "GET", "/config",
              {"Host": ours, "Origin": "http://evil.example"}) == 403)
    check("a foreign Origin is refused on writes, token or not",
          raw(d, "PUT", "/config/logging.level",
              {"Host": ours, "Origin": "http://evil.example", **writing},
              body) == 403)
    check("our own origin is answered",
          raw(d, "GET", "/config",
              {"Host": ours, "Origin": "http://" + ours}) == 200)
    check("an --allowed-origin is answered",
          raw(d, "PUT", "/config/logging.level",
              {"Host": ours, "Origin": "https://admin.example.com",
               **writing}, body) == 200)
    upgrade = {"Host": ours, "Upgrade": "websocket", "Connection": "Upgrade",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
               "Sec-WebSocket-Version": "13"}
    check("/ws from a foreign Origin is refused",
          raw(d, "GET", "/ws", {**upgrade, "Origin": "http://evil.example"})
          == 403)
    check("/ws from a foreign Host is refused",
          raw(d, "GET", "/ws", {**upgrade, "Host": "evil.example:" + port})
          == 403)
    check("/ws from our own origin upgrades",
          raw(d, "GET", "/ws", {**upgrade, "Origin": "http://" + ours})
          == 101)
    d.stop()


def test_refused_on_headers(binary, source_dir, workdir):
    d = start(binary, source_dir, workdir)
    if not d:
        return
    # A wrong token of the right length: refused from the headers alone,
    # before a single body byte was sent.
    wrong = "x" * len(TOKEN)
    with announce_body(d, "/config", 4_000_000, wrong) as s:
        code = status_of(s)
    check("a write with a wrong token is refused before its body is read",
          code == 401, f"status {code}")
    # Many such clients cannot make cfgd buffer their bodies.
    before = rss_kb(d)
    socks = [announce_body(d, "/config", 4_000_000, wrong) for _ in range(200)]
    codes = [status_of(s) for s in socks]
    started = time.monotonic()
    health, _, _ = get_json(d, "/healthz")
    health_s = time.monotonic() - started
    grown_mb = (rss_kb(d) - before) / 1024
    for s in socks:
        s.close()
    check("200 unauthenticated clients announcing 4 MB bodies are all "
          "refused (401) and cfgd's memory grows < 50 MB",
          codes.count(401) == 200 and grown_mb < 50,
          f"codes {sorted(set(map(str, codes)))}, RSS +{grown_mb:.1f} MB")
    check("a legit request is served meanwhile", health == 200,
          f"{health} after {health_s:.3f} s")
    # The right token: the header is admitted and the body awaited.
    with announce_body(d, "/config/buffer_size", 4, TOKEN) as s:
        s.sendall(b"2048")
        code = status_of(s)
    check("the right token's body is read and committed", code == 200,
          f"status {code}")
    d.stop()


def test_writes(binary, source_dir, workdir):
    d = start(binary, source_dir, workdir)
    if not d:
        return
    v = version(d)

    status, hdrs, body = send(d, "PUT", "/config/logging.level", "DEBUG",
                              token=None)
    check("a write without a token is 401 with WWW-Authenticate",
          status == 401 and "Bearer" in hdrs.get("WWW-Authenticate", ""),
          f"{status} {hdrs.get('WWW-Authenticate')!r} {body!r}")
    status, _, body = send(d, "PUT", "/config/logging.level", "DEBUG",
                           token="wrong-token")
    check("a write with a wrong token is 401", status == 401,
          f"{status} {body!r}")
    check("refused writes make no version", version(d) == v,
          f"{v} -> {version(d)}")

    status, hdrs, body = send(d, "PUT", "/config/logging.level", "DEBUG")
    check("PUT /config/logging.level with the token commits",
          status == 200 and body.get("status") == "committed"
          and body.get("version") == v + 1, f"{status} {body!r}")
    check("the write answer carries X-Config-Version",
          hdrs.get("X-Config-Version") == str(v + 1),
          repr(hdrs.get("X-Config-Version")))
    _, _, level = get_json(d, "/config/logging.level")
    check("the new value is served", level == "DEBUG", repr(level))
    v += 1
    # cfgd follows logging.level itself: debug lines appear from now on.
    get_json(d, "/healthz")
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and \
            "event=http_request" not in d.stderr():
        time.sleep(0.05)
    err = d.stderr()
    check("logging.level DEBUG turns on cfgd's debug lines",
          "event=log_level_changed level=DEBUG" in err
          and "event=http_request" in err, err[-2000:])

    status, _, body = send(d, "PATCH", "/config",
                           {"logging": {"level": "LOUD"}, "buffer_size": 5})
    details = " ".join(body.get("details", [])) if isinstance(body, dict) \
        else ""
    check("an invalid PATCH is 422 naming both reasons",
          status == 422 and "logging.level" in details
          and "buffer_size" in details, f"{status} {body!r}")
    check("the invalid write makes no version", version(d) == v,
          f"{v} -> {version(d)}")

    status, _, body = send(d, "PATCH", "/config", b'{"buffer_size": 20')
    check("a malformed body is 400 naming line and column",
          status == 400 and isinstance(body, dict)
          and "body:1:" in " ".join(body.get("details", [])),
          f"{status} {body!r}")
    status = oversized_put(d, "/config/buffer_size", 5 << 20)
    check("an oversized body is 413 before it is read", status == 413,
          f"{status}")
    check("refused bodies make no version", version(d) == v,
          f"{v} -> {version(d)}")

    status, _, body = send(d, "POST", "/features/new_algorithm",
                           {"enabled": True})
    _, _, flag = get_json(d, "/config/features.new_algorithm")
    check("POST /features/new_algorithm switches the flag",
          status == 200 and flag is True, f"{status} {body!r} {flag!r}")
    v += 1

    status, hdrs, _ = get_json(d, "/config")
    etag = hdrs.get("ETag")
    status, _, body = send(d, "PUT", "/config/buffer_size", 4096,
                           headers={"If-Match": etag})
    check("If-Match with the current ETag commits", status == 200,
          f"{status} {body!r}")
    v += 1
    status, _, body = send(d, "PUT", "/config/buffer_size", 8192,
                           headers={"If-Match": etag})
    check("If-Match with a stale ETag is 409", status == 409,
          f"{status} {body!r}")

    status, _, body = send(d, "DELETE", "/config/sample_rate")
    _, _, cfg = get_json(d, "/config")
    check("DELETE /config/sample_rate removes it",
          status == 200 and "sample_rate" not in cfg, f"{status} {body!r}")
    v += 1
    status, _, body = send(d, "DELETE", "/config/no.such.key")
    check("DELETE of a missing path is 404", status == 404,
          f"{status} {body!r}")

    status, _, body = send(d, "POST", "/rollback/1")
    _, _, cfg = get_json(d, "/config")
    check("POST /rollback/1 restores version 1 as a new version",
          status == 200 and body.get("version") == v + 1
          and cfg.get("logging", {}).get("level") == "INFO"
          and cfg.get("sample_rate") == 0.1, f"{status} {body!r}")
    status, _, body = send(d, "POST", "/rollback/999")
    check("rollback to an unknown version is 404", status == 404,
          f"{status} {body!r}")
    status, _, body = send(d, "PUT", "/config?consistency=most", {"a": 1})
    check("a bad consistency is 400", status == 400, f"{status} {body!r}")
    check("stop with exit code 0", d.stop() == 0)


def test_read_tokens(binary, source_dir, workdir):
    rt = write(os.path.join(workdir, "read-tokens"), READ_TOKEN + "\n")
    d = start(binary, source_dir, workdir, ["--read-token-file", rt])
    if not d:
        return
    status, _, _ = get_json(d, "/config")
    check("with read tokens, GET /config without one is 401", status == 401,
          str(status))
    status, _, _ = get_json(d, "/config", auth(READ_TOKEN))
    check("the read token reads", status == 200, str(status))
    status, _, _ = get_json(d, "/config", auth(TOKEN))
    check("the write token reads too", status == 200, str(status))
    status, _, _ = send(d, "PUT", "/config/buffer_size", 300,
                        token=READ_TOKEN)
    check("the read token cannot write (403: known, without the write scope)",
          status == 403, str(status))
    status, _, _ = get_json(d, "/healthz")
    check("/healthz stays open", status == 200, str(status))
    d.stop()


# -- cfgctl -------------------------------------------------------------------

def cfgctl(binary, d, *args, token=TOKEN):
    env = dict(os.environ)
    env.pop("CFGD_TOKEN", None)
    if token:
        env["CFGD_TOKEN"] = token
    res = subprocess.run([binary, "--url", d.url] + list(args),
                         capture_output=True, text=True, timeout=30, env=env)
    return res.returncode, res.stdout, res.stderr


def test_cfgctl(binary, ctl, source_dir, workdir):
    d = start(binary, source_dir, workdir)
    if not d:
        return
    code, out, err = cfgctl(ctl, d, "get", "logging.level")
    check("cfgctl get logging.level prints INFO", code == 0
          and out.strip() == "INFO", f"{code} {out!r} {err!r}")
    code, out, err = cfgctl(ctl, d, "set", "buffer_size", "2048")
    check("cfgctl set buffer_size 2048 commits", code == 0
          and out.startswith("committed version 2"), f"{code} {out!r} {err!r}")
    code, out, _ = cfgctl(ctl, d, "--json", "get", "buffer_size")
    check("the value was sent as a number", code == 0
          and json.loads(out) == 2048, repr(out))
    code, out, err = cfgctl(ctl, d, "set", "logging.level", "LOUD")
    check("cfgctl set of an invalid value exits 1 with the reason",
          code == 1 and "logging.level" in err, f"{code} {out!r} {err!r}")
    code, out, err = cfgctl(ctl, d, "set", "buffer_size", "300", token=None)
    check("cfgctl without a token exits 4 (not authorized)", code == 4,
          f"{code} {err!r}")
    code, out, err = cfgctl(ctl, d, "flag", "beta_ui", "on")
    check("cfgctl flag beta_ui on commits", code == 0, f"{code} {err!r}")
    code, out, err = cfgctl(ctl, d, "unset", "sample_rate")
    check("cfgctl unset commits", code == 0, f"{code} {err!r}")
    code, out, err = cfgctl(ctl, d, "history")
    check("cfgctl history lists the versions with their origins",
          code == 0 and "cfgctl" in out and out.count("\n") >= 5,
          f"{code} {out!r}")
    code, out, err = cfgctl(ctl, d, "diff", "1", "2")
    check("cfgctl diff 1 2 shows buffer_size 1024 -> 2048",
          code == 0 and "~ buffer_size: 1024 -> 2048" in out, repr(out))
    code, out, err = cfgctl(ctl, d, "rollback", "1")
    check("cfgctl rollback 1 commits", code == 0, f"{code} {err!r}")
    code, out, err = cfgctl(ctl, d, "get", "buffer_size")
    check("after the rollback buffer_size is 1024", out.strip() == "1024",
          repr(out))
    code, out, err = cfgctl(ctl, d, "--json", "nodes")
    nodes = json.loads(out).get("nodes", []) if code == 0 else []
    check("cfgctl nodes lists this node as the primary",
          len(nodes) == 1 and nodes[0].get("role") == "primary",
          f"{code} {out!r} {err!r}")
    code, out, err = cfgctl(ctl, d, "diff", "1", "999")
    check("cfgctl diff with an unknown version exits 1", code == 1,
          f"{code} {err!r}")
    code = subprocess.run([ctl, "--url", "http://127.0.0.1:1", "get"],
                          capture_output=True, timeout=30).returncode
    check("cfgctl against nothing exits 3", code == 3, str(code))
    code = subprocess.run([ctl, "frobnicate"], capture_output=True,
                          timeout=30).returncode
    check("an unknown command exits 2", code == 2, str(code))

    # validate, offline
    schema = os.path.join(source_dir, "examples", "schema.json")
    good = os.path.join(source_dir, "examples", "config.yaml")
    res = subprocess.run([ctl, "validate", good, "--schema", schema],
                         capture_output=True, text=True, timeout=30)
    check("cfgctl validate passes the example config", res.returncode == 0,
          res.stdout + res.stderr)
    broken = write(os.path.join(workdir, "broken.yaml"),
                   "logging:\n  level: INFO\n  format: [text\n")
    res = subprocess.run([ctl, "validate", broken, "--schema", schema],
                         capture_output=True, text=True, timeout=30)
    check("cfgctl validate on a broken file prints line:column and exits 1",
          res.returncode == 1 and (broken + ":") in res.stdout
          and any(ch.isdigit() for ch in res.stdout.split(broken)[1][:6]),
          f"{res.returncode} {res.stdout!r}")
    invalid = write(os.path.join(workdir, "invalid.yaml"),
                    "logging:\n  level: LOUD\nbuffer_size: 5\n")
    res = subprocess.run([ctl, "validate", invalid, "--schema", schema],
                         capture_output=True, text=True, timeout=30)
    check("cfgctl validate lists every schema violation and exits 1",
          res.returncode == 1 and "logging.level" in res.stdout
          and "buffer_size" in res.stdout, res.stdout)

    # watch: one line per change
    proc = subprocess.Popen([ctl, "--url", d.url, "watch", "logging"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    lines = []
    reader = threading.Thread(
        target=lambda: [lines.append(l.rstrip("\n")) for l in proc.stdout],
        daemon=True)
    reader.start()
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and not lines:
        time.sleep(0.05)
    cfgctl(ctl, d, "set", "buffer_size", "4096")     # not under logging
    cfgctl(ctl, d, "set", "logging.level", "DEBUG")
    cfgctl(ctl, d, "set", "logging.level", "ERROR")
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and len(lines) < 3:
        time.sleep(0.05)
    proc.terminate()
    proc.wait(timeout=10)
    check("cfgctl watch logging prints one line per change under logging",
          len(lines) == 3 and "INFO -> DEBUG" in lines[1]
          and "DEBUG -> ERROR" in lines[2], repr(lines))
    d.stop()


# -- the seed's own clients ---------------------------------------------------

def test_seed_clients(binary, ctl, source_dir, workdir):
    try:
        import websockets  # Debian: python3-websockets
    except ImportError:
        check("python3-websockets is installed", False,
              f"{sys.executable} cannot import websockets")
        return
    d = start(binary, source_dir, workdir)
    if not d:
        return

    # RemoteConfig: poll with a token and the ETag.
    status, hdrs, cfg = get_json(d, "/config", auth())
    etag = hdrs.get("ETag")
    status2, _, _ = http("GET", d.url + "/config",
                         dict(auth(), **{"If-None-Match": etag}))
    check("RemoteConfig: polling with If-None-Match is 304",
          status == 200 and status2 == 304, f"{status} {status2}")
    new = dict(cfg)
    new["buffer_size"] = 3000
    status, _, body = send(d, "PUT", "/config", new)
    check("RemoteConfig.push_config: PUT /config answers 200",
          status == 200, f"{status} {body!r}")

    # WebSocketConfig: register, then receive update_config pushes.
    got = []

    async def client():
        async with websockets.connect(d.url.replace("http", "ws") + "/ws",
                                      open_timeout=10) as ws:
            await ws.send(json.dumps({"action": "register",
                                      "service": "seed-client",
                                      "version": "1.0.0"}))
            first = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            got.append(first)
            # A change made with cfgctl while connected.
            await asyncio.get_running_loop().run_in_executor(
                None, cfgctl, ctl, d, "set", "logging.level", "WARNING")
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
                got.append(msg)
                if msg.get("config", {}).get("logging", {}).get("level") \
                        == "WARNING":
                    return

    try:
        asyncio.run(client())
    except Exception as e:
        check("WebSocketConfig session completes", False, repr(e))
    check("WebSocketConfig: the first message is update_config with the "
          "current config", got and got[0].get("action") == "update_config"
          and got[0].get("config", {}).get("buffer_size") == 3000, repr(got[:1]))
    check("WebSocketConfig: a cfgctl change arrives as update_config",
          len(got) >= 2 and got[-1].get("action") == "update_config"
          and got[-1]["config"]["logging"]["level"] == "WARNING"
          and got[-1].get("version", 0) > got[0].get("version", 0),
          repr(got[-1:]))

    # A client with the write token may push the seed's actions.
    results = []

    async def writer():
        async with websockets.connect(
                d.url.replace("http", "ws") + "/ws", open_timeout=10,
                extra_headers={"Authorization": "Bearer " + TOKEN}) as ws:
            await asyncio.wait_for(ws.recv(), WAIT)  # the current config
            await ws.send(json.dumps({"action": "set_feature",
                                      "feature": "beta_ui", "enabled": True}))
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
                if msg.get("action") == "result":
                    results.append(msg)
                    return

    async def reader_only():
        async with websockets.connect(d.url.replace("http", "ws") + "/ws",
                                      open_timeout=10) as ws:
            await asyncio.wait_for(ws.recv(), WAIT)
            await ws.send(json.dumps({"action": "set_log_level",
                                      "level": "ERROR"}))
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
                if msg.get("action") == "error":
                    results.append(msg)
                    return

    try:
        asyncio.run(writer())
        asyncio.run(reader_only())
    except Exception as e:
        check("WebSocket action sessions complete", False, repr(e))
    check("a write-token client's set_feature commits",
          len(results) >= 1 and results[0].get("status") == "committed",
          repr(results))
    check("a client without a write token is refused",
          len(results) >= 2 and results[1].get("error") == "unauthorized",
          repr(results))
    _, _, level = get_json(d, "/config/logging.level")
    check("the refused action changed nothing", level == "WARNING",
          repr(level))
    d.stop()


# -- metrics ------------------------------------------------------------------

def test_metrics(binary, source_dir, workdir):
    d = start(binary, source_dir, workdir)
    if not d:
        return
    send(d, "PUT", "/config/logging.level", "DEBUG")
    send(d, "PUT", "/config/logging.level", "LOUD")
    status, hdrs, text = http("GET", d.url + "/metrics")
    check("GET /metrics is text format 0.0.4", status == 200 and
          "version=0.0.4" in hdrs.get("Content-Type", ""),
          f"{status} {hdrs.get('Content-Type')}")
    for needle in ('cfg_updates_total{status="committed"} 2',
                   'cfg_updates_total{status="rejected"} 1',
                   "cfg_version 2", "cfg_reload_duration_seconds_count 2",
                   "cfg_subscribers ", 'cfg_sources{source="file:',
                   'cfg_replicas{state="connected"} 0', "cfg_stale 0"):
        check(f"/metrics has {needle!r}", needle in text, text[:2000])
    promtool = shutil.which("promtool")
    if not check("promtool is installed (Debian package prometheus)",
                 promtool is not None):
        return
    res = subprocess.run([promtool, "check", "metrics"], input=text,
                         capture_output=True, text=True, timeout=60)
    check("promtool check metrics passes", res.returncode == 0,
          res.stdout + res.stderr)
    d.stop()


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    binary, ctl = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    source_dir = sys.argv[3]
    return run_sections("cfgd-api-", [
        lambda w: test_writes(binary, source_dir, w),
        lambda w: test_refused_on_headers(binary, source_dir, w),
        lambda w: test_hosts_and_origins(binary, source_dir, w),
        lambda w: test_connection_limits(binary, source_dir, w),
        lambda w: test_flags_api(binary, ctl, source_dir, w),
        lambda w: test_read_tokens(binary, source_dir, w),
        lambda w: test_cfgctl(binary, ctl, source_dir, w),
        lambda w: test_seed_clients(binary, ctl, source_dir, w),
        lambda w: test_metrics(binary, source_dir, w)])

if __name__ == "__main__":
    sys.exit(main())
