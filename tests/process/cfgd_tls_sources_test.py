#!/usr/bin/env python3
"""Process test of cfgd's remote sources over TLS: --remote https:// and
--ws wss:// against real TLS servers (Python's ssl module, python3-websockets)
with a throwaway PKI made by the openssl CLI at test time.

Usage: cfgd_tls_sources_test.py CFGD_BINARY SOURCE_DIR

cfgd fetches over https and follows over wss when the server's certificate
chains to --remote-ca-file / --ws-ca-file and names the host (SNI sent);
it refuses a server whose certificate differs only in its signer, or names
another host; it does mutual TLS, and says so when the server wants a
client certificate it does not send. Refusals are checked with
--remote-required, which turns them into an exit code and a message.
"""

import json
import os
import sys
import time

from cfgd_harness import check, daemon, get_json, run_sections, run_to_exit
from remote_servers import config_server, make_certs, server_context, ws_server

WAIT = 20  # seconds a change may take to show (a loaded CI machine)


def base_args(source_dir):
    return ["--http", "127.0.0.1:0",
            "--schema", os.path.join(source_dir, "examples", "schema.json"),
            "--file", os.path.join(source_dir, "examples", "config.yaml")]


def wait_for(d, path, want):
    deadline = time.monotonic() + WAIT
    value = None
    while time.monotonic() < deadline:
        status, _, value = get_json(d, "/config/" + path)
        if status == 200 and value == want:
            return value
        time.sleep(0.05)
    return value


def source(d, kind):
    _, _, body = get_json(d, "/sources")
    for s in (body or {}).get("sources", []):
        if s.get("kind") == kind:
            return s
    return {}


def test_https_fetch(binary, source_dir, workdir):
    pki = make_certs(source_dir, workdir)
    srv = config_server({"buffer_size": 4096},
                        tls=server_context(pki, "server"))
    try:
        d = daemon(binary, base_args(source_dir) + [
            "--remote", srv.url("localhost"),
            "--remote-ca-file", pki("ca.crt"),
            "--remote-interval-ms", "100"], workdir)
        if not d.wait_listening():
            return
        got = wait_for(d, "buffer_size", 4096)
        check("https: cfgd fetches the remote's config", got == 4096,
              repr(got))
        s = source(d, "http")
        check("https: the http source is ok", s.get("state") == "ok",
              repr(s))
        check("https: the server got SNI 'localhost'", "localhost" in srv.sni,
              repr(srv.sni))
        srv.set(body={"buffer_size": 8192})
        got = wait_for(d, "buffer_size", 8192)
        check("https: a change on the server follows", got == 8192, repr(got))
        check("https: cfgd stops with 0", d.stop() == 0)
    finally:
        srv.close()


def test_wss_follow(binary, source_dir, workdir):
    pki = make_certs(source_dir, workdir)
    srv = ws_server(tls=server_context(pki, "server"))
    try:
        d = daemon(binary, base_args(source_dir) + [
            "--ws", srv.url("localhost"), "--ws-ca-file", pki("ca.crt"),
            "--service", "billing", "--service-version", "2.4.1"], workdir)
        if not d.wait_listening():
            return
        deadline = time.monotonic() + WAIT
        while not srv.received and time.monotonic() < deadline:
            time.sleep(0.05)
        hello = json.loads(srv.received[0]) if srv.received else {}
        check("wss: cfgd registers with its service and version",
              hello == {"action": "register", "service": "billing",
                        "version": "2.4.1"}, repr(hello))
        check("wss: the server got SNI 'localhost'", "localhost" in srv.sni,
              repr(srv.sni))
        srv.push({"action": "update_config",
                  "config": {"buffer_size": 3072}})
        got = wait_for(d, "buffer_size", 3072)
        check("wss: a pushed config is applied", got == 3072, repr(got))
        srv.push({"action": "set_log_level", "level": "ERROR"})
        got = wait_for(d, "logging.level", "ERROR")
        check("wss: a pushed action follows", got == "ERROR", repr(got))
        s = source(d, "ws")
        check("wss: the ws source is ok", s.get("state") == "ok", repr(s))
        check("wss: cfgd stops with 0", d.stop() == 0)
    finally:
        srv.close()


def refused(binary, source_dir, name, args, expect, timeout_ms=10000):
    """cfgd with a required remote exits non-zero naming `expect`."""
    code, err = run_to_exit(binary, base_args(source_dir) + args + [
        "--remote-required", "--remote-required-timeout-ms",
        str(timeout_ms)])
    check(f"{name}: cfgd exits non-zero", code not in (0, None),
          f"exit {code}")
    check(f"{name}: the message says {expect!r}", expect in err, err[-2000:])
    return err


def test_refusals(binary, source_dir, workdir):
    pki = make_certs(source_dir, workdir)
    # Servers that differ only in their certificate: its signer, its name.
    other = config_server({"buffer_size": 4096},
                          tls=server_context(pki, "server-other"))
    wrong = config_server({"buffer_size": 4096},
                          tls=server_context(pki, "wrong-name"))
    wss_other = ws_server(tls=server_context(pki, "server-other"))
    wss_wrong = ws_server(tls=server_context(pki, "wrong-name"))
    try:
        ca = pki("ca.crt")
        start = time.monotonic()
        refused(binary, source_dir, "https, another signer",
                ["--remote", other.url(), "--remote-ca-file", ca],
                "certificate verify failed (unable to get local issuer "
                "certificate)")
        check("https, another signer: refused at once, not at the deadline",
              time.monotonic() - start < 8, f"{time.monotonic() - start} s")
        refused(binary, source_dir, "https, another name",
                ["--remote", wrong.url(), "--remote-ca-file", ca],
                "certificate verify failed (hostname mismatch)")
        refused(binary, source_dir, "https, another address",
                ["--remote", wrong.url("127.0.0.1"), "--remote-ca-file", ca],
                "(IP address mismatch)")
        refused(binary, source_dir, "wss, another signer",
                ["--ws", wss_other.url(), "--ws-ca-file", ca],
                "certificate verify failed (unable to get local issuer "
                "certificate)")
        refused(binary, source_dir, "wss, another name",
                ["--ws", wss_wrong.url(), "--ws-ca-file", ca],
                "certificate verify failed (hostname mismatch)")
        # Without the CA file the system's CAs do not know ours either.
        refused(binary, source_dir, "https, no ca file",
                ["--remote", other.url()], "certificate verify failed")
        check("no TLS request reached a handler", other.requests == 0
              and wrong.requests == 0, f"{other.requests} {wrong.requests}")
        # Files: a missing one is named at the command line, one that is
        # not PEM by the source.
        missing = pki("absent.crt")
        code, err = run_to_exit(binary, base_args(source_dir) + [
            "--remote", other.url(), "--remote-ca-file", missing])
        check("a missing CA file: usage error naming it",
              code not in (0, None) and missing in err, f"{code} {err}")
        refused(binary, source_dir, "a CA file that is not PEM",
                ["--remote", other.url(), "--remote-ca-file",
                 pki("garbage.pem")],
                "cannot load the CA file '" + pki("garbage.pem") + "'")
        refused(binary, source_dir, "a client certificate that is not PEM",
                ["--remote", other.url(), "--remote-ca-file", ca,
                 "--remote-cert-file", pki("garbage.pem"),
                 "--remote-key-file", pki("client.key")],
                "cannot load the client certificate '" + pki("garbage.pem")
                + "'")
    finally:
        for s in (other, wrong, wss_other, wss_wrong):
            s.close()


def test_mutual_tls(binary, source_dir, workdir):
    pki = make_certs(source_dir, workdir)
    srv = config_server({"buffer_size": 6144},
                        tls=server_context(pki, "server", client_ca="ca.crt"))
    wss = ws_server(tls=server_context(pki, "server", client_ca="ca.crt"))
    try:
        ca = pki("ca.crt")
        refused(binary, source_dir, "mTLS, no client certificate",
                ["--remote", srv.url(), "--remote-ca-file", ca],
                "the server requires a client certificate and none is set")
        refused(binary, source_dir, "mTLS, a client certificate of another CA",
                ["--remote", srv.url(), "--remote-ca-file", ca,
                 "--remote-cert-file", pki("other-client.crt"),
                 "--remote-key-file", pki("other-client.key")],
                "the server refused the client certificate")
        # Python's asyncio server closes without an alert: not certain, so
        # retried until the deadline, with the likely reason.
        refused(binary, source_dir, "mTLS wss, no client certificate",
                ["--ws", wss.url(), "--ws-ca-file", ca],
                "the server may want a client certificate; none is set",
                timeout_ms=1500)
        d = daemon(binary, base_args(source_dir) + [
            "--remote", srv.url(), "--remote-ca-file", ca,
            "--remote-cert-file", pki("client.crt"),
            "--remote-key-file", pki("client.key"),
            "--ws", wss.url(), "--ws-ca-file", ca,
            "--ws-cert-file", pki("client.crt"),
            "--ws-key-file", pki("client.key"),
            "--remote-required"], workdir)
        if not d.wait_listening():
            return
        _, _, got = get_json(d, "/config/buffer_size")
        check("mTLS: the remote's config is there once cfgd listens",
              got == 6144, repr(got))
        # --remote-required waits for the HTTP remote only: the WebSocket
        # client registers on its own, shortly after.
        deadline = time.monotonic() + 10
        while not wss.received and time.monotonic() < deadline:
            time.sleep(0.05)
        check("mTLS: the wss client registered", len(wss.received) >= 1,
              repr(wss.received))
        wss.push({"action": "update_config", "config": {"buffer_size": 1536}})
        got = wait_for(d, "buffer_size", 1536)
        check("mTLS: a wss push is applied", got == 1536, repr(got))
        check("mTLS: cfgd stops with 0", d.stop() == 0)
    finally:
        srv.close()
        wss.close()


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, source_dir = os.path.abspath(sys.argv[1]), sys.argv[2]
    return run_sections("cfgd-tls-", [
        lambda w, t=t: t(binary, source_dir, w)
        for t in (test_https_fetch, test_wss_follow, test_refusals,
                  test_mutual_tls)])


if __name__ == "__main__":
    sys.exit(main())
