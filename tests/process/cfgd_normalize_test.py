#!/usr/bin/env python3
"""Process test of the schema's `x-normalize` and its error messages, through
a real cfgd on its embedded defaults (examples/schema.json: `logging.level`
is `"x-normalize": "upper"` with an enum of upper-case levels) and cfgctl.

Usage: cfgd_normalize_test.py CFGD_BINARY CFGCTL_BINARY SOURCE_DIR

- PUT /config/logging.level "debug" commits "DEBUG": GET and cfgctl get
  show the normalized value, and so does the history's diff;
- "loud!" (as long as "debug", not a level) and 5 are 422s whose message
  lists the allowed levels; the level stays "DEBUG";
- `cfgctl validate` agrees offline: "debug" valid, "loud" refused with the
  allowed values; a bound prints as an integer (`100`, not `100.000000`).
"""

import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cfgd_harness import check, daemon, finish, get_json, write  # noqa: E402

TOKEN = "normalize-token-0123456789abcdef"
ALLOWED = '(allowed: "TRACE", "DEBUG", "INFO", "WARNING", "ERROR")'


def put(d, path, value):
    req = urllib.request.Request(
        d.url + path, data=json.dumps(value).encode(), method="PUT",
        headers={"Content-Type": "application/json",
                 "Authorization": "Bearer " + TOKEN})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.loads(res.read().decode() or "null")
    except urllib.error.HTTPError as e:
        text = e.read().decode() if e.fp else ""
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text


def cfgctl(binary, *args, url=None):
    argv = [binary] + (["--url", url] if url else []) + list(args)
    res = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                         env=dict(os.environ, CFGD_TOKEN=TOKEN))
    return res.returncode, res.stdout, res.stderr


def level(d):
    status, _, value = get_json(d, "/config/logging.level")
    return value if status == 200 else f"<{status}>"


def messages(body):
    """The reasons of a refusal: `path: message [rule]` each."""
    details = body.get("details", []) if isinstance(body, dict) else []
    return [x for x in details if isinstance(x, str)]


def test_server(cfgd, ctl, workdir):
    tokens = write(os.path.join(workdir, "tokens"), f"ops:write:{TOKEN}\n")
    os.chmod(tokens, 0o600)
    d = daemon(cfgd, ["--http", "127.0.0.1:0", "--token-file", tokens],
               workdir)
    if not d.wait_listening():
        return
    check("the embedded level is INFO", level(d) == "INFO", level(d))
    status, body = put(d, "/config/logging.level", "debug")
    check("PUT logging.level \"debug\" commits", status == 200,
          f"{status} {body!r}")
    check("GET shows the normalized \"DEBUG\"", level(d) == "DEBUG",
          level(d))
    rc, out, err = cfgctl(ctl, "get", "logging.level", url=d.url)
    check("cfgctl get shows DEBUG", rc == 0 and out.strip() == "DEBUG",
          f"{rc} {out!r} {err!r}")
    status, body = put(d, "/config/logging.level", "DEBUG")
    check("PUT \"DEBUG\" again changes nothing",
          status == 200 and isinstance(body, dict)
          and body.get("status") == "unchanged", f"{status} {body!r}")
    status, body = put(d, "/config/logging.level", "loud!")
    check("PUT \"loud!\" is refused with 422", status == 422,
          f"{status} {body!r}")
    # Judged after normalization: the message quotes the upper-cased value.
    check("the refusal lists the allowed levels",
          'logging.level: Failed to match against any enum values, got '
          '"LOUD!" ' + ALLOWED + ' [schema.enum]' in messages(body),
          repr(body))
    status, body = put(d, "/config/logging.level", 5)
    check("PUT 5 (not a string) is refused, not normalized",
          status == 422 and any(m.endswith("got 5 " + ALLOWED
                                           + " [schema.enum]")
                                for m in messages(body)), f"{status} {body!r}")
    check("the level stays DEBUG", level(d) == "DEBUG", level(d))
    status, body = put(d, "/config/buffer_size", 5)
    check("a bound prints as an integer",
          status == 422 and "buffer_size: Expected number greater than or "
          "equal to 100, got 5 [schema.minimum]" in messages(body),
          f"{status} {body!r}")
    d.stop()


def test_offline(ctl, source_dir, workdir):
    schema = os.path.join(source_dir, "examples", "schema.json")
    good = write(os.path.join(workdir, "good.json"), json.dumps(
        {"logging": {"level": "debug"}, "buffer_size": 100}))
    bad = write(os.path.join(workdir, "bad.json"), json.dumps(
        {"logging": {"level": "loud!"}, "buffer_size": 100}))
    rc, out, err = cfgctl(ctl, "validate", good, "--schema", schema)
    check("cfgctl validate: \"debug\" is valid", rc == 0,
          f"{rc} {out!r} {err!r}")
    rc, out, err = cfgctl(ctl, "--json", "validate", bad, "--schema", schema)
    try:
        verdict = json.loads(out)
    except ValueError:
        verdict = {}
    check("cfgctl validate: \"loud!\" is refused with the allowed levels",
          rc == 1 and verdict.get("valid") is False
          and any(e.get("path") == "logging.level"
                  and e.get("message", "").endswith(ALLOWED)
                  for e in verdict.get("errors", [])), f"{rc} {out!r}")


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    cfgd, ctl, source_dir = sys.argv[1:]
    with tempfile.TemporaryDirectory() as workdir:
        test_server(cfgd, ctl, workdir)
        test_offline(ctl, source_dir, workdir)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
