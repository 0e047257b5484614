"""OFREP on a real cfgd, through the real OpenFeature server SDK and its OFREP
provider (Node, tests/ofrep/): boolean, string and object flags, a 25 %
rollout over 10,000 targeting keys that agrees key by key with `cfgctl eval`,
rule matches, disabled and missing flags, the event stream announcing a
change to `features` (and nothing for other changes), X-API-Key and bearer
tokens, the bulk ETag and 304, the error bodies, and the stream limit.

Usage: cfgd_ofrep_test.py CFGD CFGCTL SOURCE_DIR

Node and npm are required: without them, or without the packages (npm ci
from the committed lock, into the scratch directory), the test fails.
"""

import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from cfgd_harness import check, daemon, run_sections, write

TOKEN = "write-token-0123456789"
READ_TOKEN = "read-token-9876543210"
# As long as READ_TOKEN, so a length check alone could not refuse it.
WRONG_TOKEN = "read-token-9876543211"
KEYS = 10000

CONFIG = {
    "features": {
        "dark_mode": True,
        "quarter": {"rollout": 25},
        "theme": {"variants": {"blue": 1, "green": 1}},
        "banner": {"variants": {"small": 1, "large": 1},
                   "values": {"small": {"height": 10},
                              "large": {"height": 90}}},
        "beta": {"rollout": 0,
                 "rules": [{"attribute": "tenant", "op": "eq",
                            "values": ["acme"]}]},
        "killed": {"enabled": False},
    },
    "logging": {"level": "INFO"},
}


def post(d, path, body, headers=None):
    """POST `body` (bytes, or JSON-encoded); (status, headers, JSON|text)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    req = urllib.request.Request(d.url + path, data=data, method="POST",
                                 headers=h)
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            text = res.read().decode()
            status, hdrs = res.status, res.headers
    except urllib.error.HTTPError as e:
        text = e.read().decode() if e.fp else ""
        status, hdrs = e.code, e.headers
    try:
        return status, hdrs, json.loads(text) if text else None
    except ValueError:
        return status, hdrs, text


def send(d, method, path, body, token=TOKEN):
    req = urllib.request.Request(
        d.url + path, data=json.dumps(body).encode(), method=method,
        headers={"Authorization": "Bearer " + token,
                 "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status
    except urllib.error.HTTPError as e:
        return e.code


def api_key(token=READ_TOKEN):
    return {"X-API-Key": token}


def bearer(token=READ_TOKEN):
    return {"Authorization": "Bearer " + token}


def start(binary, workdir, extra=()):
    cfg = write(os.path.join(workdir, "flags.json"), json.dumps(CONFIG))
    tokens = write(os.path.join(workdir, "tokens"), TOKEN + "\n")
    reads = write(os.path.join(workdir, "read-tokens"), READ_TOKEN + "\n")
    os.chmod(tokens, 0o600)
    os.chmod(reads, 0o600)
    d = daemon(binary, ["--http", "127.0.0.1:0", "--file", cfg,
                        "--token-file", tokens, "--read-token-file", reads]
               + list(extra), workdir)
    return d if d.wait_listening() else None


class event_stream:
    """GET /ofrep/v1/events on a raw socket; events arrive on `events`."""

    def __init__(self, d, headers):
        host, port = d.url.rsplit("/", 1)[1].rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        lines = ["GET /ofrep/v1/events HTTP/1.1", f"Host: {host}:{port}",
                 "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.file = self.sock.makefile("rb")
        self.status_line = self.file.readline().decode().strip()
        self.headers = {}
        while True:
            line = self.file.readline().decode().strip()
            if not line:
                break
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.events = queue.Queue()
        if self.ok():
            self.sock.settimeout(None)
            threading.Thread(target=self._pump, daemon=True).start()

    def ok(self):
        return self.status_line.startswith("HTTP/1.1 200")

    def _pump(self):
        event = {}
        try:
            for raw in self.file:
                line = raw.decode().rstrip("\n")
                if not line:
                    if "data" in event:
                        self.events.put(event)
                    event = {}
                    continue
                if line.startswith(":"):
                    continue
                k, _, v = line.partition(":")
                event[k] = v[1:] if v.startswith(" ") else v
        except (OSError, ValueError):
            pass
        self.events.put(None)

    def next(self, timeout):
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class sdk:
    """The Node client (tests/ofrep/client.js): one request, one answer."""

    def __init__(self, node_dir, url, headers):
        self.proc = subprocess.Popen(
            ["node", os.path.join(node_dir, "client.js"), url,
             json.dumps(headers)],
            cwd=node_dir, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)

    def ask(self, request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the Node client ended: "
                               + self.proc.stderr.read())
        return json.loads(line)

    def eval(self, kind, flag, default, context):
        return self.ask({"op": "eval", "type": kind, "flag": flag,
                         "default": default, "context": context})

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def install_node_client(source_dir, workdir):
    """npm ci of tests/ofrep into the scratch directory; its path, or None
    (a failed check: this test does not skip)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not check("node and npm are installed (scripts/dev installs them)",
                 node is not None and npm is not None,
                 f"node={node} npm={npm}"):
        return None
    target = os.path.join(workdir, "ofrep-client")
    os.makedirs(target)
    for name in ("package.json", "package-lock.json", "client.js"):
        shutil.copy(os.path.join(source_dir, "tests", "ofrep", name), target)
    res = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=target,
                         capture_output=True, text=True, timeout=240)
    if not check("npm ci installs the OpenFeature SDK and OFREP provider",
                 res.returncode == 0, res.stdout + res.stderr):
        return None
    return target


def stopped(d):
    """Stops `d` and checks it exits cleanly: 0, and no sanitizer report
    (a sanitized build reports leaks at exit and UB as it happens)."""
    code = d.stop()
    err = d.stderr()
    check("cfgd exits 0 on SIGTERM with no sanitizer report",
          code == 0 and "runtime error:" not in err
          and "Sanitizer" not in err,
          f"exit {code}; stderr tail:\n{err[-2000:]}")


def metric_lines(d):
    """GET /metrics as {name: value} for samples without labels."""
    req = urllib.request.Request(d.url + "/metrics", headers=bearer())
    with urllib.request.urlopen(req, timeout=10) as res:
        text = res.read().decode()
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#"):
            out[parts[0]] = float(parts[1])
    return out


def cfgctl(ctl, d, *args):
    env = dict(os.environ)
    env["CFGD_TOKEN"] = READ_TOKEN
    res = subprocess.run([ctl, "--url", d.url] + list(args),
                         capture_output=True, text=True, timeout=120, env=env)
    return res.returncode, res.stdout, res.stderr


# -- the SDK against cfgd -----------------------------------------------------

def test_sdk(binary, ctl, source_dir, workdir):
    node_dir = install_node_client(source_dir, workdir)
    if node_dir is None:
        return
    d = start(binary, workdir)
    if d is None:
        return
    client = sdk(node_dir, d.url, api_key())
    try:
        sdk_types(client)
        sdk_rollout(client, ctl, d, workdir)
        sdk_change(client, d)
    finally:
        client.close()
        stopped(d)
    # The same SDK with a token of the right length that is not one.
    d = start(binary, workdir)
    if d is None:
        return
    wrong = sdk(node_dir, d.url, api_key(WRONG_TOKEN))
    try:
        r = wrong.eval("boolean", "dark_mode", False, {"targetingKey": "u"})
        check("the SDK with a wrong key gets its default, not the flag",
              r.get("value") is False and r.get("reason") == "ERROR", str(r))
    finally:
        wrong.close()
        d.stop()


def sdk_types(client):
    r = client.eval("boolean", "dark_mode", False, {"targetingKey": "u1"})
    check("boolean flag: true, STATIC",
          r.get("value") is True and r.get("reason") == "STATIC", str(r))
    r = client.eval("string", "theme", "none", {"targetingKey": "u1"})
    check("string flag: a variant name, SPLIT",
          r.get("value") in ("blue", "green") and r.get("reason") == "SPLIT"
          and r.get("variant") == r.get("value"), str(r))
    r = client.eval("object", "banner", {}, {"targetingKey": "u1"})
    check("object flag: the variant's value",
          r.get("value") in ({"height": 10}, {"height": 90})
          and r.get("variant") in ("small", "large"), str(r))
    r = client.eval("boolean", "beta", False,
                    {"targetingKey": "u1", "tenant": "acme"})
    check("a rule match is TARGETING_MATCH",
          r.get("value") is True and r.get("reason") == "TARGETING_MATCH",
          str(r))
    r = client.eval("boolean", "beta", True,
                    {"targetingKey": "u1", "tenant": "other"})
    check("no rule match at rollout 0: false, DEFAULT",
          r.get("value") is False and r.get("reason") == "DEFAULT", str(r))
    r = client.eval("boolean", "killed", True, {"targetingKey": "u1"})
    check("a disabled flag is false, DISABLED",
          r.get("value") is False and r.get("reason") == "DISABLED", str(r))
    r = client.eval("boolean", "no_such_flag", True, {"targetingKey": "u1"})
    check("a missing flag: the SDK's default with FLAG_NOT_FOUND",
          r.get("value") is True and r.get("errorCode") == "FLAG_NOT_FOUND",
          str(r))
    r = client.eval("boolean", "quarter", True, {})
    check("a rollout without a key: default with TARGETING_KEY_MISSING",
          r.get("value") is True
          and r.get("errorCode") == "TARGETING_KEY_MISSING", str(r))


def sdk_rollout(client, ctl, d, workdir):
    keys = [f"user-{i}" for i in range(KEYS)]
    started = time.monotonic()
    r = client.ask({"op": "many", "flag": "quarter", "keys": keys,
                    "default": False})
    took = time.monotonic() - started
    values = r.get("values", {})
    on = sum(1 for k in keys if values.get(k) is True)
    check(f"the SDK evaluated {KEYS} keys without errors ({took:.1f} s)",
          len(values) == KEYS and not r.get("errors"),
          f"{len(values)} values, errors "
          f"{list(r.get('errors', {}).items())[:3]}")
    check(f"a 25 % rollout lands within 24-26 % of 10,000 keys "
          f"({on} on, {100 * on / KEYS:.2f} %)",
          2400 <= on <= 2600, f"{on} of {KEYS}")
    keys_file = write(os.path.join(workdir, "keys.txt"),
                      "\n".join(keys) + "\n")
    code, out, err = cfgctl(ctl, d, "eval", "quarter", "--targeting-keys",
                            keys_file)
    local = {}
    for line in out.splitlines():
        row = json.loads(line)
        local[row["targetingKey"]] = row.get("value")
    check("cfgctl eval --targeting-keys answers one line per key",
          code == 0 and len(local) == KEYS,
          f"code {code}, {len(local)}; {err}")
    differ = [k for k in keys if local.get(k) != values.get(k)]
    check("cfgctl eval and the SDK agree key by key", not differ,
          f"{len(differ)} differ, e.g. {differ[:5]}")
    code, out, _ = cfgctl(ctl, d, "--json", "eval", "beta",
                          "targetingKey=u1", "tenant=acme")
    row = json.loads(out) if code == 0 else {}
    check("cfgctl eval --json: value, OFREP and library reasons",
          row.get("value") is True and row.get("reason") == "TARGETING_MATCH"
          and row.get("cfgactors_reason") == "rule[0]:tenant eq", out)
    code, out, _ = cfgctl(ctl, d, "eval", "killed", "targetingKey=u1")
    check("cfgctl eval prints value, variant and reason",
          code == 0 and "value: false" in out
          and "reason: DISABLED (disabled)" in out, out)


def sdk_change(client, d):
    stream = event_stream(d, api_key())
    if not check("the event stream opens with X-API-Key",
                 stream.ok() and stream.headers.get("content-type")
                 == "text/event-stream",
                 f"{stream.status_line} {stream.headers}"):
        return
    try:
        status = send(d, "PUT", "/config/logging.level", "DEBUG")
        check("a change outside features commits", status == 200, str(status))
        quiet = stream.next(1.5)
        check("a change outside features sends no event", quiet is None,
              str(quiet))
        status = send(d, "POST", "/features/killed", {"enabled": True})
        check("the flag is switched through the API", status == 200,
              str(status))
        event = stream.next(10)
        data = json.loads(event["data"]) if event else {}
        check("the change to features is announced as refetchEvaluation",
              event is not None and event.get("event") == "message"
              and data.get("type") == "refetchEvaluation" and "id" in event,
              str(event))
        modified = data.get("lastModified")
        check("its lastModified is the commit time in Unix seconds",
              isinstance(modified, int) and abs(modified - time.time()) < 60,
              str(data))
        r = client.eval("boolean", "killed", False, {"targetingKey": "u1"})
        check("after the event the SDK sees the new value",
              r.get("value") is True and r.get("reason") == "DEFAULT", str(r))
    finally:
        stream.close()


# -- the protocol on the wire -------------------------------------------------

def test_wire(binary, ctl, source_dir, workdir):
    d = start(binary, workdir, ["--ofrep-max-streams", "2"])
    if d is None:
        return
    path = "/ofrep/v1/evaluate/flags/dark_mode"
    ctx = {"context": {"targetingKey": "u1"}}
    status, hdrs, body = post(d, path, ctx)
    check("no token: 401", status == 401, f"{status} {body}")
    for name, headers in (("X-API-Key", api_key()), ("bearer", bearer())):
        status, _, body = post(d, path, ctx, headers)
        check(f"a read token as {name}: 200", status == 200
              and body.get("value") is True, f"{status} {body}")
    for name, headers in (("X-API-Key", api_key(WRONG_TOKEN)),
                          ("bearer", bearer(WRONG_TOKEN))):
        status, hdrs, body = post(d, path, ctx, headers)
        check(f"a wrong token of the right length as {name}: 401",
              status == 401 and hdrs.get("WWW-Authenticate"),
              f"{status} {body}")
    req = urllib.request.Request(d.url + "/config", headers=api_key())
    try:
        status = urllib.request.urlopen(req, timeout=10).status
    except urllib.error.HTTPError as e:
        status = e.code
    check("X-API-Key is for OFREP only: GET /config refuses it",
          status == 401, str(status))

    # The error bodies of the protocol.
    status, _, body = post(d, "/ofrep/v1/evaluate/flags/quarter",
                           {"context": {"targetingKey": "u", "tags": [1]}},
                           api_key())
    check("a list attribute: 400 INVALID_CONTEXT naming it",
          status == 400 and body.get("errorCode") == "INVALID_CONTEXT"
          and body.get("key") == "quarter" and "'tags'" in body.get(
              "errorDetails", ""), f"{status} {body}")
    status, _, body = post(d, "/ofrep/v1/evaluate/flags/quarter",
                           {"context": {"tenant": "acme"}}, api_key())
    check("a rollout without a key: 400 TARGETING_KEY_MISSING",
          status == 400 and body.get("errorCode") == "TARGETING_KEY_MISSING"
          and "targetingKey" in body.get("errorDetails", ""),
          f"{status} {body}")
    status, _, body = post(d, "/ofrep/v1/evaluate/flags/quarter",
                           b'{"context": {', api_key())
    check("a body that is not JSON: 400 PARSE_ERROR with the position",
          status == 400 and body.get("errorCode") == "PARSE_ERROR"
          and "request body:1:" in body.get("errorDetails", ""),
          f"{status} {body}")
    status, _, body = post(d, "/ofrep/v1/evaluate/flags/nope", ctx, api_key())
    check("a missing flag: 404 FLAG_NOT_FOUND",
          status == 404 and body == {"key": "nope",
                                     "errorCode": "FLAG_NOT_FOUND",
                                     "errorDetails":
                                         "no flag 'nope' under features"},
          f"{status} {body}")

    # Bulk: every flag, an ETag per context, 304 on a match.
    bulk = "/ofrep/v1/evaluate/flags"
    status, hdrs, body = post(d, bulk, ctx, api_key())
    etag = hdrs.get("ETag") if hdrs else None
    keys = sorted(f.get("key") for f in body.get("flags", [])) \
        if isinstance(body, dict) else []
    check("bulk lists every flag with an ETag",
          status == 200 and etag and keys == sorted(CONFIG["features"]),
          f"{status} {etag} {keys}")
    streams = body.get("eventStreams", []) if isinstance(body, dict) else []
    check("bulk names the event stream",
          streams and streams[0].get("type") == "sse"
          and streams[0].get("endpoint", {}).get("requestUri")
          == "/ofrep/v1/events", str(streams))
    status, hdrs, body = post(d, bulk, ctx,
                              dict(api_key(), **{"If-None-Match": etag}))
    check("bulk with a matching If-None-Match: 304",
          status == 304 and hdrs.get("ETag") == etag, f"{status} {body}")
    other = {"context": {"targetingKey": "u2"}}
    status, hdrs, _ = post(d, bulk, other,
                           dict(api_key(), **{"If-None-Match": etag}))
    check("another context has another ETag: 200",
          status == 200 and hdrs.get("ETag") not in (None, etag),
          f"{status} {hdrs.get('ETag') if hdrs else None}")
    send(d, "POST", "/features/killed", {"enabled": True})
    status, hdrs, _ = post(d, bulk, ctx,
                           dict(api_key(), **{"If-None-Match": etag}))
    check("after a flag change the old ETag no longer matches: 200",
          status == 200 and hdrs.get("ETag") != etag, str(status))
    status, _, body = post(d, bulk, {"context": {"a": {"b": 1}}}, api_key())
    check("bulk with a bad context: 400 INVALID_CONTEXT without key",
          status == 400 and body.get("errorCode") == "INVALID_CONTEXT"
          and "key" not in body, f"{status} {body}")

    # The event stream: auth and the limit.
    s = event_stream(d, {})
    check("the event stream without a token: 401",
          s.status_line.startswith("HTTP/1.1 401"), s.status_line)
    s.close()
    s = event_stream(d, bearer(WRONG_TOKEN))
    check("the event stream with a wrong token: 401",
          s.status_line.startswith("HTTP/1.1 401"), s.status_line)
    s.close()
    first, second = event_stream(d, bearer()), event_stream(d, api_key())
    third = event_stream(d, api_key())
    check("two event streams open (the limit)", first.ok() and second.ok(),
          f"{first.status_line} / {second.status_line}")
    check("a third is refused with 503", third.status_line.startswith(
        "HTTP/1.1 503"), third.status_line)
    third.close()
    metrics = metric_lines(d)
    check("/metrics counts the open streams and the refusal",
          metrics.get("cfg_ofrep_streams") == 2
          and metrics.get("cfg_ofrep_streams_refused_total") == 1
          and metrics.get("cfg_ofrep_streams_dropped_total") == 0,
          str({k: v for k, v in metrics.items() if "ofrep" in k}))
    first.close()
    # The closed stream's slot comes back once cfgd noticed.
    reopened = None
    for _ in range(50):
        reopened = event_stream(d, api_key())
        if reopened.ok():
            break
        reopened.close()
        time.sleep(0.1)
    check("a closed stream frees its slot", reopened.ok(),
          reopened.status_line)
    reopened.close()
    second.close()
    status, _, _ = post(d, path, ctx, api_key())
    check("cfgd still answers after the streams", status == 200, str(status))
    slow_reader(d)
    stopped(d)


def slow_reader(d):
    """A client that never reads is dropped; one that reads keeps going."""
    host, port = d.url.rsplit("/", 1)[1].rsplit(":", 1)
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    slow.connect((host, int(port)))
    slow.sendall((f"GET /ofrep/v1/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
                  f"X-API-Key: {READ_TOKEN}\r\n\r\n").encode())
    reader = event_stream(d, api_key())
    dropped, changes = 0, 0
    try:
        while changes < 5000 and not dropped:
            for _ in range(100):
                changes += 1
                send(d, "PUT", "/config/features.quarter.rollout",
                     changes % 100 + 0.5)
            dropped = metric_lines(d).get("cfg_ofrep_streams_dropped_total")
        check("a stream that is never read is dropped, not buffered",
              dropped == 1, f"dropped {dropped} after {changes} changes")
        # The reader has a backlog of events; the newest must still come.
        last = None
        while True:
            event = reader.next(3)
            if event is None:
                break
            last = event
        check("a stream that reads gets every change meanwhile",
              last is not None and last.get("id") is not None
              and int(last["id"]) >= changes, str(last))
    finally:
        slow.close()
        reader.close()


def test_secrets(binary, workdir):
    """A flag value the schema marks secret: masked for a token without the
    secrets scope, shown to one with it, single and bulk alike."""
    secret = "s3cr3t-" + "9" * 12
    config = {"features": {"creds": {"variants": {"on": 1},
                                     "values": {"on": {"key": secret}}}}}
    schema = {"type": "object", "properties": {"features": {
        "type": "object", "properties": {"creds": {
            "type": "object", "properties": {"values": {
                "type": "object", "properties": {"on": {
                    "type": "object", "properties": {"key": {
                        "type": "string", "x-secret": True}}}}}}}}}}}
    ops = "ops-token-0123456789ab"
    cfg = write(os.path.join(workdir, "secret-flags.json"), json.dumps(config))
    sch = write(os.path.join(workdir, "schema.json"), json.dumps(schema))
    tokens = write(os.path.join(workdir, "tokens"),
                   f"{TOKEN}\nops:read,secrets:{ops}\n")
    reads = write(os.path.join(workdir, "read-tokens"), READ_TOKEN + "\n")
    os.chmod(tokens, 0o600)
    os.chmod(reads, 0o600)
    d = daemon(binary, ["--http", "127.0.0.1:0", "--file", cfg, "--schema",
                        sch, "--token-file", tokens, "--read-token-file",
                        reads], workdir)
    if not d.wait_listening():
        return
    ctx = {"context": {"targetingKey": "u1"}}
    path = "/ofrep/v1/evaluate/flags/creds"
    status, _, body = post(d, path, ctx, api_key())
    check("a secret flag value is masked for a read token",
          status == 200 and body.get("value") == {"key": "***"}
          and secret not in json.dumps(body), f"{status} {body}")
    status, _, body = post(d, path, ctx, api_key(ops))
    check("... and shown to a token with the secrets scope",
          status == 200 and body.get("value") == {"key": secret},
          f"{status} {body}")
    status, _, body = post(d, "/ofrep/v1/evaluate/flags", ctx, bearer())
    check("bulk masks it too", status == 200
          and secret not in json.dumps(body), f"{status} {body}")
    stopped(d)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    binary, ctl = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    source_dir = os.path.abspath(sys.argv[3])
    return run_sections("cfgd-ofrep-", [
        lambda w: test_wire(binary, ctl, source_dir, w),
        lambda w: test_sdk(binary, ctl, source_dir, w),
        lambda w: test_secrets(binary, w)])


if __name__ == "__main__":
    sys.exit(main())
