#!/usr/bin/env python3
"""Process test of cfgd's read-only HTTP API and its startup errors.

Usage: cfgd_http_test.py CFGD_BINARY SOURCE_DIR

Starts the real daemon on 127.0.0.1:0, reads the port from its one stdout
line, and checks the API over real sockets; then checks that bad inputs are
refused with the right exit codes. Every wait has a timeout. Prints one line
per check and a final `N passed, M failed`; exits non-zero on any failure.
"""

import json
import os
import re
import signal
import sys

from cfgd_harness import (check, daemon, get, get_json, http, is_error_json,
                          run_sections, run_to_exit, write)

# -- the embedded example config ----------------------------------------------

def test_embedded(binary, workdir):
    d = daemon(binary, ["--http", "127.0.0.1:0"], workdir)
    if not d.wait_listening():
        return
    check("the listening line reports version 1", d.version == 1,
          f"version {d.version}")

    status, hdrs, cfg = get_json(d, "/config")
    check("GET /config answers 200 JSON", status == 200
          and hdrs.get("Content-Type", "").startswith("application/json"),
          f"{status} {hdrs.get('Content-Type')}")
    level = (cfg.get("logging", {}).get("level") if isinstance(cfg, dict)
             else None)
    check("GET /config has logging.level INFO", level == "INFO", repr(cfg))
    etag = hdrs.get("ETag", "")
    check("GET /config has an ETag of the hash",
          re.fullmatch(r'"[0-9a-f]{64}"', etag) is not None, repr(etag))
    check("GET /config has X-Config-Version: 1",
          hdrs.get("X-Config-Version") == "1",
          repr(hdrs.get("X-Config-Version")))

    status, hdrs, body = get(d, "/config", {"If-None-Match": etag})
    check("If-None-Match with the ETag answers 304 without a body",
          status == 304 and body == "" and hdrs.get("ETag") == etag,
          f"{status} {body!r} {hdrs.get('ETag')!r}")
    status, _, _ = get(d, "/config", {"If-None-Match": '"0000"'})
    check("If-None-Match with another ETag answers 200", status == 200,
          str(status))

    status, _, value = get_json(d, "/config/logging.level")
    check("GET /config/logging.level is \"INFO\"",
          status == 200 and value == "INFO", f"{status} {value!r}")
    status, _, value = get_json(d, "/config/database")
    check("GET /config/database is the subtree",
          status == 200 and isinstance(value, dict)
          and value.get("port") == 5432, f"{status} {value!r}")
    status, _, value = get_json(d, "/config/no.such")
    check("GET /config/no.such is a 404 JSON error",
          status == 404 and is_error_json(value), f"{status} {value!r}")
    status, _, value = get_json(d, "/config/a..b")
    check("a malformed path is a 400 JSON error",
          status == 400 and is_error_json(value), f"{status} {value!r}")

    status, _, rows = get_json(d, "/history")
    ok = (status == 200 and isinstance(rows, list) and len(rows) == 1)
    check("GET /history has one row", ok, f"{status} {rows!r}")
    if ok:
        row = rows[0]
        check("the history row is version 1 with the config's hash",
              row.get("version") == 1 and f'"{row.get("hash")}"' == etag
              and row.get("origin") == "defaults:embedded"
              and isinstance(row.get("timestamp_ms"), int), repr(row))
    status, _, rows = get_json(d, "/history?limit=0")
    check("GET /history?limit=0 is a 400", status == 400, str(status))

    status, _, diff = get_json(d, "/diff?from=1&to=1")
    check("GET /diff?from=1&to=1 is an empty patch",
          status == 200 and isinstance(diff, dict) and diff.get("patch") == []
          and diff.get("changes") == {} and diff.get("from") == 1
          and diff.get("to") == 1, f"{status} {diff!r}")
    status, _, value = get_json(d, "/diff?from=1&to=99")
    check("GET /diff to a version not in history is a 404 JSON error",
          status == 404 and is_error_json(value), f"{status} {value!r}")
    status, _, value = get_json(d, "/diff?from=x")
    check("GET /diff?from=x is a 400 JSON error",
          status == 400 and is_error_json(value), f"{status} {value!r}")
    status, _, value = get_json(d, "/diff?from=1")
    check("GET /diff without `to` is a 400", status == 400,
          f"{status} {value!r}")

    status, _, value = get_json(d, "/healthz")
    check("GET /healthz is ok at version 1",
          status == 200 and isinstance(value, dict)
          and value.get("status") == "ok" and value.get("version") == 1,
          f"{status} {value!r}")

    status, _, value = get_json(d, "/no/such/route")
    check("an unknown route is a 404 JSON error",
          status == 404 and value == {"error": "not found", "details": []},
          f"{status} {value!r}")
    status, hdrs, body = http("POST", d.url + "/config")
    check("a wrong method is a 405 with Allow",
          status == 405 and "GET" in hdrs.get("Allow", ""),
          f"{status} {hdrs.get('Allow')!r} {body!r}")

    code = d.stop(signal.SIGTERM)
    check("SIGTERM stops cfgd with exit code 0", code == 0,
          f"exit {code}; stderr:\n{d.stderr()}")


# -- files and a schema from the command line ---------------------------------

def test_files(binary, source_dir, workdir):
    base = write(os.path.join(workdir, "base.yaml"),
                 "logging:\n  level: DEBUG\n  format: json\n"
                 "buffer_size: 2048\nservers:\n  - host: a.example\n")
    override = write(os.path.join(workdir, "override.json"),
                     '{"buffer_size": 4096}\n')
    schema = os.path.join(source_dir, "examples", "schema.json")
    d = daemon(binary, ["--http", "127.0.0.1:0", "--file", base,
                        "--file", override, "--schema", schema], workdir)
    if not d.wait_listening():
        return
    status, _, value = get_json(d, "/config/logging.level")
    check("--file: the file's values are served",
          status == 200 and value == "DEBUG", f"{status} {value!r}")
    status, _, value = get_json(d, "/config/buffer_size")
    check("--file: a later file wins over an earlier one",
          status == 200 and value == 4096, f"{status} {value!r}")
    status, _, value = get_json(d, "/config/servers%5B0%5D.host")
    check("a percent-encoded path with an index is decoded",
          status == 200 and value == "a.example", f"{status} {value!r}")
    status, _, value = get_json(d, "/config/schema_version")
    check("--file: the embedded config is not used",
          status == 404, f"{status} {value!r}")
    status, _, rows = get_json(d, "/history")
    check("--file: the first version names both files as origin",
          status == 200 and isinstance(rows, list) and len(rows) == 1
          and rows[0].get("origin") == f"file:{base},file:{override}",
          f"{status} {rows!r}")
    code = d.stop(signal.SIGINT)
    check("SIGINT stops cfgd with exit code 0", code == 0,
          f"exit {code}; stderr:\n{d.stderr()}")


def test_options_file(binary, workdir):
    cfg = write(os.path.join(workdir, "plain.yaml"), "greeting: hello\n")
    opts = write(os.path.join(workdir, "cfgd.yaml"),
                 f"file: [{cfg}]\nhttp: 127.0.0.1:0\nlog-format: json\n"
                 "node-name: test-node\nhistory: 5\n")
    d = daemon(binary, ["--config-file", opts], workdir)
    if not d.wait_listening():
        return
    status, _, value = get_json(d, "/config/greeting")
    check("--config-file: its files are loaded",
          status == 200 and value == "hello", f"{status} {value!r}")
    status, _, value = get_json(d, "/healthz")
    check("--config-file: node-name is applied",
          isinstance(value, dict) and value.get("node") == "test-node",
          f"{status} {value!r}")
    code = d.stop()
    check("--config-file run stops with exit code 0", code == 0,
          f"exit {code}")
    lines = [l for l in d.stderr().splitlines() if l.strip()]

    def json_line(line):
        try:
            x = json.loads(line)
        except ValueError:
            return False
        return isinstance(x, dict) and {"ts", "level", "msg"} <= x.keys()

    check("--config-file: log-format json gives JSON lines with ts, level, msg",
          lines and all(json_line(l) for l in lines), "\n".join(lines))


# -- startup failures ---------------------------------------------------------

def test_bad_inputs(binary, source_dir, workdir):
    schema = os.path.join(source_dir, "examples", "schema.json")

    # A mapping key indented under a scalar: the error is on that line.
    lines = ["# a comment", "logging:", "  level: INFO", "buffer_size: 2048",
             "  oops: 1", "tail: x"]
    bad = write(os.path.join(workdir, "malformed.yaml"),
                "\n".join(lines) + "\n")
    bad_line = lines.index("  oops: 1") + 1
    code, err = run_to_exit(binary, ["--http", "127.0.0.1:0", "--file", bad])
    check("a malformed YAML file exits 1", code == 1, f"exit {code}: {err}")
    check("the parse error names file:line:column",
          re.search(re.escape(bad) + f":{bad_line}:[1-9][0-9]*: ", err)
          is not None, f"expected {bad}:{bad_line}:<column>: in {err!r}")

    violating = write(os.path.join(workdir, "violating.yaml"),
                      "logging:\n  level: LOUD\nbuffer_size: 5\n")
    code, err = run_to_exit(binary, ["--http", "127.0.0.1:0", "--file",
                                     violating, "--schema", schema])
    check("a config violating the schema exits 1", code == 1,
          f"exit {code}: {err}")
    check("the rejection names every offending path",
          "logging.level" in err and "buffer_size" in err, err)

    missing = os.path.join(workdir, "does-not-exist.yaml")
    code, err = run_to_exit(binary, ["--http", "127.0.0.1:0", "--file",
                                     missing])
    check("a missing file exits 1 naming it", code == 1 and missing in err,
          f"exit {code}: {err}")

    code, err = run_to_exit(binary, ["--http", "127.0.0.1:0", "--schema",
                                     missing])
    check("a missing schema exits 1 naming it", code == 1 and missing in err,
          f"exit {code}: {err}")

    code, err = run_to_exit(binary, ["--log-format", "xml"])
    check("--log-format xml exits 2", code == 2 and "log-format" in err,
          f"exit {code}: {err}")
    code, err = run_to_exit(binary, ["--http", "nonsense"])
    check("--http nonsense exits 2", code == 2 and "http" in err,
          f"exit {code}: {err}")
    opts = write(os.path.join(workdir, "unknown-key.yaml"), "colour: blue\n")
    code, err = run_to_exit(binary, ["--config-file", opts])
    check("an unknown key in --config-file exits 2 naming it",
          code == 2 and "colour" in err, f"exit {code}: {err}")

    # Whoever may write a token file may grant themselves access.
    tokens = write(os.path.join(workdir, "tokens"), "a-token-0123456789\n")
    for mode, name in ((0o666, "everyone"), (0o620, "the group")):
        os.chmod(tokens, mode)
        code, err = run_to_exit(binary, ["--http", "127.0.0.1:0",
                                         "--token-file", tokens])
        check(f"a token file writable by {name} exits 1 naming it and its "
              "mode", code == 1 and tokens in err and f"{mode:04o}" in err,
              f"exit {code}: {err}")
    huge = write(os.path.join(workdir, "huge-tokens"), "t" * (70 * 1024))
    os.chmod(huge, 0o600)
    code, err = run_to_exit(binary, ["--http", "127.0.0.1:0",
                                     "--token-file", huge])
    check("a token file over 64 KiB exits 1 naming it",
          code == 1 and huge in err and "64 KiB" in err, f"exit {code}: {err}")
    os.chmod(tokens, 0o600)
    d = daemon(binary, ["--http", "127.0.0.1:0", "--token-file", tokens],
               workdir)
    check("a token file of mode 0600 is accepted", d.wait_listening())
    d.stop()


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, source_dir = os.path.abspath(sys.argv[1]), sys.argv[2]
    return run_sections("cfgd-test-", [
        lambda w: test_embedded(binary, w),
        lambda w: test_files(binary, source_dir, w),
        lambda w: test_options_file(binary, w),
        lambda w: test_bad_inputs(binary, source_dir, w)])

if __name__ == "__main__":
    sys.exit(main())
