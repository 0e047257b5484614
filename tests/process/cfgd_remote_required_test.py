#!/usr/bin/env python3
"""Process test of cfgd --remote-required: cfgd neither listens nor reports
ready (/readyz) until the first fetch of --remote succeeded, then serves the
remote's values at once; it exits non-zero with a clear message when the
remote fails for good (403, 404) or not in time (--remote-required-timeout-ms),
and refuses timing flags that are not positive.

Usage: cfgd_remote_required_test.py CFGD_BINARY SOURCE_DIR
"""

import os
import socket
import sys
import time
import urllib.error
import urllib.request

from cfgd_harness import check, daemon, get_json, run_sections, run_to_exit
from remote_servers import config_server

exit_failure = 1
exit_usage = 2


def base_args(source_dir, http="127.0.0.1:0"):
    return ["--http", http,
            "--schema", os.path.join(source_dir, "examples", "schema.json"),
            "--file", os.path.join(source_dir, "examples", "config.yaml")]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def readyz(port):
    """The status of GET /readyz, or the reason there is none."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz",
                                    timeout=2) as res:
            return res.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError as e:
        return f"no answer ({e.__class__.__name__})"


def test_slow_remote(binary, source_dir, workdir):
    srv = config_server({"error": "warming up"}, status=503)
    try:
        port = free_port()
        d = daemon(binary, base_args(source_dir, f"127.0.0.1:{port}") + [
            "--remote", srv.url("127.0.0.1"), "--remote-required",
            "--remote-interval-ms", "100", "--remote-backoff-ms", "100",
            "--remote-max-backoff-ms", "200",
            "--remote-required-timeout-ms", "30000"], workdir)
        # While the remote answers 503, cfgd waits: alive, not ready.
        time.sleep(1.5)
        answers = [readyz(port) for _ in range(3)]
        check("not ready while the remote answers 503",
              all(a != 200 for a in answers), repr(answers))
        check("cfgd waits (alive, no listening line yet)",
              d.proc.poll() is None and d.lines.empty(),
              f"exit {d.proc.poll()}")
        check("the remote was asked more than once meanwhile",
              srv.requests >= 3, f"{srv.requests} requests")
        srv.set(status=200, body={"buffer_size": 7777})
        if not d.wait_listening():
            return
        check("ready once the remote answered", readyz(port) == 200,
              repr(readyz(port)))
        _, _, got = get_json(d, "/config/buffer_size")
        check("the first config served has the remote's values", got == 7777,
              repr(got))
        check("cfgd stops with 0", d.stop() == 0)
    finally:
        srv.close()


def test_failed_for_good(binary, source_dir, workdir):
    # Servers that differ only in their status code.
    for code, reason in ((403, "forbidden (the token lacks the permission)"),
                         (404, "answered 404 Not Found")):
        srv = config_server({"error": "no"}, status=code)
        try:
            start = time.monotonic()
            rc, err = run_to_exit(binary, base_args(source_dir) + [
                "--remote", srv.url("127.0.0.1"), "--remote-required",
                "--remote-required-timeout-ms", "20000"])
            took = time.monotonic() - start
            check(f"{code}: cfgd exits with {exit_failure}",
                  rc == exit_failure, f"exit {rc}; {err[-1500:]}")
            want = (f"initial configuration from {srv.url('127.0.0.1')} "
                    f"(required): GET {srv.url('127.0.0.1')}/config answered "
                    f"{code}")
            check(f"{code}: the message names the remote and the status",
                  want in err and reason in err, err[-1500:])
            check(f"{code}: at once, not at the deadline", took < 10,
                  f"{took:.1f} s")
            check(f"{code}: asked once", srv.requests == 1,
                  f"{srv.requests} requests")
        finally:
            srv.close()


def test_deadline(binary, source_dir, workdir):
    srv = config_server({"error": "down"}, status=500)
    try:
        start = time.monotonic()
        rc, err = run_to_exit(binary, base_args(source_dir) + [
            "--remote", srv.url("127.0.0.1"), "--remote-required",
            "--remote-interval-ms", "100",
            "--remote-required-timeout-ms", "1500"])
        took = time.monotonic() - start
        check("500 until the deadline: exit 1", rc == exit_failure,
              f"exit {rc}; {err[-1500:]}")
        check("the message says the deadline and the last failure",
              "no answer from the remote within 1500 ms" in err
              and "answered 500" in err, err[-1500:])
        check("the deadline is kept (1.5 s, not much more)",
              1.4 <= took < 10, f"{took:.1f} s")
        check("500 was retried", srv.requests >= 2, f"{srv.requests}")
    finally:
        srv.close()
    # Nobody listens: the same deadline, with that reason.
    port = free_port()
    rc, err = run_to_exit(binary, base_args(source_dir) + [
        "--remote", f"http://127.0.0.1:{port}", "--remote-required",
        "--remote-required-timeout-ms", "1000"])
    check("no server: exit 1 naming the refused connection",
          rc == exit_failure and "connection refused" in err
          and "within 1000 ms" in err, f"exit {rc}; {err[-1500:]}")


def test_bad_values(binary, source_dir, workdir):
    remote = ["--remote", "http://127.0.0.1:1", "--ws", "ws://127.0.0.1:1"]
    # Each flag with 0 and -5: refused at the command line, by name, before
    # anything starts; 500 passes the same parser (the run then fails on
    # the unreachable remote, required for 300 ms: exit 1, not 2).
    required = ["--remote-required", "--remote-required-timeout-ms", "300"]
    for flag in ("--remote-interval-ms", "--remote-backoff-ms",
                 "--remote-max-backoff-ms", "--remote-required-timeout-ms",
                 "--ws-min-backoff-ms", "--ws-max-backoff-ms",
                 "--ws-heartbeat-ms"):
        for value in ("0", "-5", "500"):
            given = (required[:1] if flag == required[1] else required)
            rc, err = run_to_exit(binary, base_args(source_dir) + remote
                                  + given + [flag, value])
            if value == "500":
                check(f"{flag} {value} passes the parser",
                      rc == exit_failure and "not in range" not in err,
                      f"exit {rc}; {err[-1500:]}")
            else:
                check(f"{flag} {value} is refused (exit {exit_usage})",
                      rc == exit_usage and flag in err, f"exit {rc}; {err}")
    rc, err = run_to_exit(binary, base_args(source_dir) + [
        "--remote-required"])
    check("--remote-required without a remote is refused",
          rc == exit_usage and "--remote-required: needs --remote or --ws"
          in err, f"exit {rc}; {err}")
    rc, err = run_to_exit(binary, base_args(source_dir) + remote + [
        "--service-version", ""])
    check("an empty --service-version is refused",
          rc == exit_usage and "--service-version" in err, f"exit {rc}; {err}")


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, source_dir = os.path.abspath(sys.argv[1]), sys.argv[2]
    return run_sections("cfgd-remote-required-", [
        lambda w, t=t: t(binary, source_dir, w)
        for t in (test_slow_remote, test_failed_for_good, test_deadline,
                  test_bad_values)])


if __name__ == "__main__":
    sys.exit(main())
