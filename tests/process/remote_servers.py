"""Config servers for the process tests of cfgd's remote sources: an HTTP(S)
server answering GET /config and a WebSocket server (wss with a TLS
context) pushing config actions, both real servers from Python's standard
library and Debian's python3-websockets; and a throwaway PKI made by the
openssl CLI (make_test_certs.sh).
"""

import asyncio
import http.server
import json
import os
import ssl
import subprocess
import threading

import websockets  # python3-websockets: a missing one fails, never skips


def make_certs(source_dir, workdir):
    """Writes the PKI of make_test_certs.sh into workdir/pki; returns a
    function giving the path of one of its files."""
    d = os.path.join(workdir, "pki")
    os.makedirs(d, exist_ok=True)
    script = os.path.join(source_dir, "tests", "process", "make_test_certs.sh")
    subprocess.run(["sh", script, d], check=True, capture_output=True)
    return lambda name: os.path.join(d, name)


def server_context(pki, name, client_ca=None):
    """A server TLS context with certificate `name`; with `client_ca`, a
    client certificate signed by it is required."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki(name + ".crt"), pki(name + ".key"))
    if client_ca:
        ctx.load_verify_locations(pki(client_ca))
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


class config_server:
    """GET /config answers `status` with `body` (JSON); both may change while
    it runs. TLS with `tls` (a server context). Records the server names
    clients sent (SNI) and the requests."""

    def __init__(self, body=None, status=200, tls=None):
        self.body = body if body is not None else {}
        self.status = status
        self.requests = 0
        self.sni = []
        self.lock = threading.Lock()
        outer = self

        class handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with outer.lock:
                    outer.requests += 1
                    status, body = outer.status, outer.body
                data = json.dumps(body if self.path == "/config"
                                  else {"error": "no such path"}).encode()
                self.send_response(status if self.path == "/config" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     handler)
        if tls is not None:
            tls.sni_callback = lambda sock, name, ctx: self.sni.append(name)
            self.httpd.socket = tls.wrap_socket(self.httpd.socket,
                                                server_side=True)
        self.port = self.httpd.server_address[1]
        self.scheme = "https" if tls is not None else "http"
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def url(self, host="localhost"):
        return f"{self.scheme}://{host}:{self.port}"

    def set(self, status=None, body=None):
        with self.lock:
            if status is not None:
                self.status = status
            if body is not None:
                self.body = body

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class ws_server:
    """Accepts WebSocket clients (wss with `tls`), records what they send
    (the register message) and pushes to all of them."""

    def __init__(self, tls=None):
        self.received = []
        self.clients = set()
        self.sni = []
        self.loop = asyncio.new_event_loop()
        if tls is not None:
            tls.sni_callback = lambda sock, name, ctx: self.sni.append(name)
        ready = threading.Event()

        async def handler(ws, path=None):
            self.clients.add(ws)
            try:
                async for msg in ws:
                    self.received.append(msg)
            except websockets.ConnectionClosed:
                pass
            finally:
                self.clients.discard(ws)

        def run():
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(
                websockets.serve(handler, "127.0.0.1", 0, ssl=tls))
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(10)
        self.port = self.server.sockets[0].getsockname()[1]
        self.scheme = "wss" if tls is not None else "ws"

    def url(self, host="localhost"):
        return f"{self.scheme}://{host}:{self.port}"

    def push(self, msg):
        async def send():
            for ws in list(self.clients):
                await ws.send(json.dumps(msg))
        asyncio.run_coroutine_threadsafe(send(), self.loop).result(10)

    def close(self):
        async def stop():
            self.server.close()
            await self.server.wait_closed()
        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
