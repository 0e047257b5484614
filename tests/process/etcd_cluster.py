"""A real etcd cluster for the process tests of cfgd's etcd mode: N members
of /usr/bin/etcd (3.4) on loopback, client and peer traffic over TLS with
client certificates made here by the openssl CLI, optionally with etcd's
own users (auth).

    sys.path.insert(0, os.path.dirname(__file__))
    import etcd_cluster

    with etcd_cluster.etcd_cluster(auth=True, base_dir=workdir) as c:
        c.endpoints()          # ['https://127.0.0.1:P', ...]
        c.client_cert()        # (cacert, cert, key): CN cfgd, trusted
        c.gateway_cert()       # trusted, no CN: the gateway under auth
        c.rogue_cert()         # (cacert, cert, key): CN cfgd, rogue CA
        c.password_file()      # the cfgd user's password (auth=True)
        c.put("/cfgactors/a", "1"); c.get_prefix("/cfgactors/")
        c.kill(0); c.restart(0)

Standard library only. Every wait has a timeout; a member's log goes to a
file (base dir) and a failure names the member and the tail of its log.
Data directories live under /dev/shm and go with close().

What etcd 3.4 does here (the self-check shows each):
- A client without a certificate, or with one of another CA, fails the TLS
  handshake; with TLS 1.3 the client sees it at its first read (an alert
  or EOF: gateway_post raises tls_refused; etcdctl says only "context
  deadline exceeded"). The member logs "rejected connection".
- With auth on, a gRPC client (etcdctl) with no user is the user its
  certificate's CN names: the cfgd certificate alone reads as user cfgd.
  The JSON gateway instead answers 400 to any certificate with a CN
  (gateway_cert() has none) and wants a token from auth/authenticate.
- Without a quorum, a put or a linearizable read blocks until the
  server's request timeout (5 s + 2 election timeouts = 7 s here), then
  fails (gateway: 500 "context deadline exceeded" for a put, 503
  "etcdserver: request timed out" for a range); a serializable read still
  answers. A put that timed out may yet be committed once the members
  come back. After the leader is killed, a put made before the next
  leader is elected (1 to 2 s) is dropped and waits out its timeout.

Run as a script, it checks itself: `python3 etcd_cluster.py`.
"""

import atexit
import base64
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

ETCD = "/usr/bin/etcd"
ETCDCTL = "/usr/bin/etcdctl"
OPENSSL = "openssl"

START_TIMEOUT = 20    # seconds until every member serves linearizable reads
STOP_TIMEOUT = 10     # seconds from SIGKILL to exit
CTL_TIMEOUT = 20      # seconds per etcdctl run (it has its own timeouts)
OPENSSL_TIMEOUT = 20  # seconds per openssl run
SHM_PREFIX = "etcd-test-"  # /dev/shm/etcd-test-<pid>-XXXX: the data dirs
BASE_PREFIX = "etcd-cluster-"  # <tmp>/etcd-cluster-<pid>-XXXX: certs, logs


class etcd_error(RuntimeError):
    """A cluster that would not start, serve or answer etcdctl."""


class tls_refused(ConnectionError):
    """The server refused the TLS handshake (no or untrusted client
    certificate); str() has the TLS error."""


# Certificates -------------------------------------------------------------

OPENSSL_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""

# EC P-256: a key in milliseconds, and Go (etcd) takes it.
KEY_ARGS = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]


def _openssl(*args):
    res = subprocess.run([OPENSSL] + list(args), capture_output=True,
                         text=True, timeout=OPENSSL_TIMEOUT)
    if res.returncode != 0:
        raise etcd_error(f"openssl {' '.join(args)}: {res.stderr.strip()}")


class certificates:
    """A CA, one server/peer certificate per member (CN etcd-N, SAN
    127.0.0.1 and localhost, serverAuth and clientAuth: the gateway of a
    member dials the member's gRPC with it), a client certificate CN cfgd,
    a client certificate without a CN (the gateway's, see gateway_cert),
    and a rogue CA with a client certificate CN cfgd of the same key type.
    Every file is 0600, the directory 0700."""

    def __init__(self, directory, members):
        self.dir = directory
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self.config = self._path("openssl.cnf")
        with open(self.config, "w") as f:
            f.write(OPENSSL_CONFIG)
        self.ca = self._ca("ca", "cfgactors test etcd CA")
        self.members = [self._leaf(f"etcd-{i}", self.ca, "server_ext")
                        for i in range(members)]
        self.client = self._leaf("cfgd", self.ca, "client_ext")
        self.gateway = self._leaf(None, self.ca, "client_ext",
                                  name="gateway-client")
        self.rogue_ca = self._ca("rogue-ca", "cfgactors rogue CA")
        self.rogue = self._leaf("cfgd", self.rogue_ca, "client_ext",
                                name="rogue-cfgd")
        for name in os.listdir(directory):
            os.chmod(os.path.join(directory, name), 0o600)

    def _path(self, name):
        return os.path.join(self.dir, name)

    def _ca(self, name, cn):
        crt, key = self._path(name + ".crt"), self._path(name + ".key")
        _openssl("req", "-x509", "-new", "-config", self.config,
                 "-extensions", "ca_ext", *KEY_ARGS, "-keyout", key,
                 "-out", crt, "-days", "2", "-subj", "/CN=" + cn,
                 "-set_serial", str(secrets.randbits(63)))
        return crt, key

    def _leaf(self, cn, ca, extensions, name=None):
        """cn None: a subject without a CN (O=cfgactors, OU=cfgd)."""
        name = name or cn
        crt, key = self._path(name + ".crt"), self._path(name + ".key")
        csr = self._path(name + ".csr")
        subject = "/CN=" + cn if cn else "/O=cfgactors/OU=cfgd"
        _openssl("req", "-new", "-config", self.config, *KEY_ARGS,
                 "-keyout", key, "-out", csr, "-subj", subject)
        _openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1],
                 "-set_serial", str(secrets.randbits(63)), "-days", "2",
                 "-extfile", self.config, "-extensions", extensions,
                 "-out", crt)
        os.unlink(csr)
        return crt, key


# The JSON gateway -----------------------------------------------------------

def b64(text):
    """The gateway's encoding of keys and values."""
    if isinstance(text, str):
        text = text.encode()
    return base64.b64encode(text).decode()


def unb64(text):
    return base64.b64decode(text or "").decode(errors="replace")


def gateway_post(url, rpc, body, cert=None, timeout=5, token=None):
    """POSTs JSON `body` to etcd's gRPC gateway: url + /v3/ + rpc (e.g.
    "kv/put", "kv/range", "auth/authenticate"; an rpc starting with "/" is
    the whole path). cert: (cacert, cert, key); cert and key may be None
    (no client certificate, the server still verified); cert=None: no
    client certificate and the server not verified. token: the
    Authorization header (from auth/authenticate).

    Returns (status, parsed JSON or the text). Raises tls_refused when the
    server refuses the handshake, OSError (ConnectionRefusedError, timeout)
    when nothing answers."""
    scheme, _, hostport = url.partition("://")
    host, _, port = hostport.rstrip("/").rpartition(":")
    path = rpc if rpc.startswith("/") else "/v3/" + rpc
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = token
    if scheme == "https":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if cert is None:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        else:
            cacert, crt, key = cert
            ctx.load_verify_locations(cafile=cacert)
            if crt:
                ctx.load_cert_chain(crt, key)
        conn = http.client.HTTPSConnection(host, int(port), context=ctx,
                                           timeout=timeout)
    else:
        conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("POST", path, body=data, headers=headers)
        res = conn.getresponse()
        text = res.read().decode(errors="replace")
    except ssl.SSLCertVerificationError:
        raise  # our side refused the server: not what tls_refused means
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError) as e:
        # TLS 1.3: the client's handshake ends before the server has
        # checked the client's certificate, so the refusal (an alert, or
        # a closed connection) arrives with the first read.
        raise tls_refused(f"{url}: {type(e).__name__}: {e}") from e
    finally:
        conn.close()
    try:
        return res.status, json.loads(text)
    except ValueError:
        return res.status, text


# The cluster --------------------------------------------------------------

def _free_ports(n):
    """n distinct free loopback ports (held together while chosen)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _clean_env():
    """The environment without ETCD_*/ETCDCTL_* (etcd reads its flags from
    ETCD_* variables), plus ETCDCTL_API=3."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ETCD_", "ETCDCTL_"))}
    env["ETCDCTL_API"] = "3"
    return env


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale(directory, prefix):
    """directory/PREFIX<pid>-* whose pid is gone."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    stale = []
    for name in names:
        m = re.match(rf"{re.escape(prefix)}(\d+)-", name)
        if m and not _pid_alive(int(m.group(1))):
            stale.append(os.path.join(directory, name))
    return stale


def remove_stale_data_dirs():
    """What killed runs left: data dirs (/dev/shm/etcd-test-<pid>-*, the
    pid gone), the etcd processes still using them (found by their
    --data-dir, killed by pid), and base dirs made in the temp dir."""
    for d in _stale(tempfile.gettempdir(), BASE_PREFIX):
        shutil.rmtree(d, ignore_errors=True)
    stale = _stale("/dev/shm", SHM_PREFIX)
    if not stale:
        return
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == b"etcd" and any(
                a.decode(errors="replace").startswith(d + "/")
                for a in argv for d in stale):
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
    for d in stale:
        shutil.rmtree(d, ignore_errors=True)


class member:
    def __init__(self, index, client_port, peer_port, data_dir, log_path):
        self.index = index
        self.name = f"etcd-{index}"
        self.client_port = client_port
        self.peer_port = peer_port
        self.data_dir = data_dir
        self.log_path = log_path
        self.proc = None
        self.starts = 0

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines=25):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError as e:
            return f"<no log: {e}>"


class etcd_cluster:
    """`size` etcd members on loopback; see the module's doc."""

    started = []  # every cluster, so none outlives its test (atexit)

    def __init__(self, size=3, tls=True, auth=False, base_dir=None):
        if auth and not tls:
            raise ValueError("auth=True needs tls=True here")
        self.size = size
        self.tls = tls
        self.auth = auth
        self.scheme = "https" if tls else "http"
        self.token = f"cfgactors-{os.getpid()}-{secrets.token_hex(6)}"
        self.members = []
        self.root_password = None
        self.cfgd_password = None
        self._password_file = None
        self.closed = False
        self.startup_seconds = None
        remove_stale_data_dirs()
        self.own_base = base_dir is None
        self.base_dir = tempfile.mkdtemp(
            prefix=f"{BASE_PREFIX}{os.getpid()}-" if self.own_base
            else BASE_PREFIX, dir=base_dir)
        self.shm_dir = tempfile.mkdtemp(prefix=f"{SHM_PREFIX}{os.getpid()}-",
                                        dir="/dev/shm")
        etcd_cluster.started.append(self)
        try:
            t0 = time.monotonic()
            self.certs = (certificates(os.path.join(self.base_dir, "certs"),
                                       size) if tls else None)
            self._start_all()
            if auth:
                self._enable_auth()
            self.startup_seconds = time.monotonic() - t0
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # -- members

    def _start_all(self):
        """Starts every member with fresh ports; a port taken between
        choosing and binding (another test) costs a retry, nothing else."""
        for attempt in range(3):
            ports = _free_ports(2 * self.size)
            self.members = []
            for i in range(self.size):
                data = os.path.join(self.shm_dir, f"member-{i}")
                shutil.rmtree(data, ignore_errors=True)
                self.members.append(member(
                    i, ports[2 * i], ports[2 * i + 1], data,
                    os.path.join(self.base_dir, f"etcd-{i}.log")))
            for m in self.members:
                self._spawn(m, "new")
            try:
                self._wait_members(self.members, START_TIMEOUT)
                return
            except etcd_error:
                taken = any("address already in use" in m.log_tail(200)
                            for m in self.members)
                self._kill_all()
                if not taken or attempt == 2:
                    raise

    def _peer_url(self, m):
        return f"{self.scheme}://127.0.0.1:{m.peer_port}"

    def _client_url(self, m):
        return f"{self.scheme}://127.0.0.1:{m.client_port}"

    def _spawn(self, m, state):
        initial = ",".join(f"{o.name}={self._peer_url(o)}"
                           for o in self.members)
        args = [ETCD, "--name", m.name, "--data-dir", m.data_dir,
                "--listen-client-urls", self._client_url(m),
                "--advertise-client-urls", self._client_url(m),
                "--listen-peer-urls", self._peer_url(m),
                "--initial-advertise-peer-urls", self._peer_url(m),
                "--initial-cluster", initial,
                "--initial-cluster-state", state,
                "--initial-cluster-token", self.token,
                "--heartbeat-interval", "100",
                "--election-timeout", "1000",
                "--logger", "zap", "--log-outputs", "stderr"]
        if self.tls:
            ca = self.certs.ca[0]
            crt, key = self.certs.members[m.index]
            args += ["--client-cert-auth", "--trusted-ca-file", ca,
                     "--cert-file", crt, "--key-file", key,
                     "--peer-client-cert-auth", "--peer-trusted-ca-file", ca,
                     "--peer-cert-file", crt, "--peer-key-file", key]
        m.starts += 1
        with open(m.log_path, "ab") as log:
            log.write(f"=== start {m.starts} ({state}): {' '.join(args)}\n"
                      .encode())
            log.flush()
            m.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                      stdout=log, stderr=log,
                                      env=_clean_env())

    def _wait_members(self, members, timeout):
        """Until each of `members` answers a linearizable read itself;
        raises etcd_error naming the member (exited, or not serving in
        time) with the tail of its log."""
        deadline = time.monotonic() + timeout
        for m in members:
            while True:
                if not m.alive():
                    code = m.proc.poll() if m.proc else None
                    raise etcd_error(
                        f"{m.name} exited (code {code}) while starting; "
                        f"its log ({m.log_path}) ends:\n{m.log_tail()}")
                res = self._probe([m], 1)
                if res.returncode == 0:
                    break
                if time.monotonic() > deadline:
                    raise etcd_error(
                        f"{m.name} does not serve a linearizable read "
                        f"after {timeout} s (last: "
                        f"{(res.stderr or res.stdout).strip()!r}); its log "
                        f"({m.log_path}) ends:\n{m.log_tail()}")
                time.sleep(0.2)

    def _probe(self, members, seconds):
        """A linearizable read through `members`' endpoints."""
        return self.etcdctl(
            "get", "/etcd-cluster/health", "--consistency=l",
            check=False, endpoints=[self._client_url(m) for m in members],
            timeouts=(seconds, seconds))

    def _kill_all(self):
        for m in self.members:
            self._kill(m)

    def _kill(self, m):
        if m.proc is not None and m.proc.poll() is None:
            m.proc.kill()
            try:
                m.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise etcd_error(f"{m.name} (pid {m.proc.pid}) does not exit "
                                 f"{STOP_TIMEOUT} s after SIGKILL")

    def kill(self, i):
        """SIGKILL member i and wait for its exit. Killing the leader: a
        proposal made before the next leader (1 to 2 s) is dropped and its
        put waits out its timeout; wait_healthy() waits for that leader."""
        self._kill(self.members[i])

    def restart(self, i, timeout=START_TIMEOUT):
        """Starts member i again on its data dir and ports (state existing)
        and waits until it serves a linearizable read itself (this needs a
        quorum with it)."""
        m = self.members[i]
        self._kill(m)
        self._spawn(m, "existing")
        self._wait_members([m], timeout)

    def alive(self, i):
        return self.members[i].alive()

    def wait_healthy(self, timeout=START_TIMEOUT):
        """Until a quorum serves: a linearizable read through the live
        members' endpoints succeeds. Raises etcd_error on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            live = [m for m in self.members if m.alive()] or self.members
            res = self._probe(live, 1)
            if res.returncode == 0:
                return
            if time.monotonic() > deadline:
                tails = "\n".join(f"--- {m.name} ({m.log_path}):\n"
                                  f"{m.log_tail(10)}" for m in self.members)
                raise etcd_error(
                    f"no quorum after {timeout} s (last: "
                    f"{(res.stderr or res.stdout).strip()!r}); logs end:\n"
                    f"{tails}")
            time.sleep(0.2)

    # -- clients

    def endpoints(self):
        return [self._client_url(m) for m in self.members]

    def client_cert(self):
        """(cacert, cert, key) of the trusted client certificate, CN cfgd."""
        return (self.certs.ca[0],) + self.certs.client

    def gateway_cert(self):
        """(cacert, cert, key) of a trusted client certificate without a
        CN. With --client-cert-auth and auth enabled, etcd 3.4's JSON
        gateway answers every /v3/ request over a certificate with a CN
        with HTTP 400 "CommonName of client sending a request against
        gateway will be ignored and not used as expected", whatever token
        it carries: a gateway client of an auth=True cluster needs this
        one (and a user's token)."""
        return (self.certs.ca[0],) + self.certs.gateway

    def rogue_cert(self):
        """(cacert, cert, key): the trusted CA (to verify the server) and a
        client certificate, CN cfgd, signed by a CA etcd does not trust."""
        return (self.certs.ca[0],) + self.certs.rogue

    def password_file(self):
        """The cfgd user's password (0600, no newline); auth=True only."""
        return self._password_file

    def log_paths(self):
        return [m.log_path for m in self.members]

    def etcdctl(self, *args, check=True, user=None, cert=None,
                endpoints=None, timeouts=(2, 5)):
        """Runs `etcdctl ARGS` (v3 API) against all endpoints (or
        `endpoints`) with the client certificate (or `cert`, a (cacert,
        cert, key)); returns the CompletedProcess, raising etcd_error on a
        non-zero exit when check. user: None = root when auth is on,
        "name:password" = that user, "" = no user (with auth on etcd then
        takes the certificate's CN as the user). timeouts: (dial, command)
        seconds."""
        argv = [ETCDCTL, "--endpoints", ",".join(endpoints or
                                                 self.endpoints()),
                f"--dial-timeout={timeouts[0]}s",
                f"--command-timeout={timeouts[1]}s"]
        if self.tls:
            cacert, crt, key = cert or self.client_cert()
            argv += ["--cacert", cacert, "--cert", crt, "--key", key]
        if user is None and self.auth and self.root_password:
            user = "root:" + self.root_password
        if user:
            argv += ["--user", user]
        argv += list(args)
        try:
            res = subprocess.run(argv, capture_output=True, text=True,
                                 timeout=CTL_TIMEOUT, env=_clean_env(),
                                 stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            raise etcd_error(f"etcdctl {' '.join(args)}: no exit after "
                             f"{CTL_TIMEOUT} s; stderr: {e.stderr!r}")
        if check and res.returncode != 0:
            raise etcd_error(f"etcdctl {' '.join(args)}: exit "
                             f"{res.returncode}: {res.stderr.strip()}")
        return res

    def put(self, key, value, **kw):
        """etcdctl put; kw as for etcdctl (check=False to see a failure)."""
        return self.etcdctl("put", key, value, **kw)

    def get_prefix(self, prefix, **kw):
        """{key: value} of every key under prefix (a linearizable read)."""
        res = self.etcdctl("get", "--prefix", prefix, "-w", "json", **kw)
        out = json.loads(res.stdout)
        return {unb64(kv["key"]): unb64(kv.get("value"))
                for kv in out.get("kvs", [])}

    def status(self, i):
        """Member i's `endpoint status` (JSON: header.revision, leader,
        raftIndex, ...), or None when it does not answer."""
        res = self.etcdctl("endpoint", "status", "-w", "json", check=False,
                           endpoints=[self._client_url(self.members[i])],
                           timeouts=(1, 2))
        if res.returncode != 0:
            return None
        try:
            return json.loads(res.stdout)[0]["Status"]
        except (ValueError, LookupError, TypeError):
            return None

    def revisions(self):
        """Each member's current revision (None: no answer)."""
        out = []
        for i in range(self.size):
            s = self.status(i) if self.members[i].alive() else None
            out.append(int(s["header"]["revision"]) if s else None)
        return out

    def wait_converged(self, timeout=10):
        """Until every member reports the same revision; returns it.
        Raises etcd_error with the last revisions on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            revs = self.revisions()
            if None not in revs and len(set(revs)) == 1:
                return revs[0]
            if time.monotonic() > deadline:
                raise etcd_error(f"revisions differ after {timeout} s: "
                                 f"{revs}")
            time.sleep(0.1)

    def leader(self):
        """The index of the leader per a live member, or None."""
        ids = {}
        leader_id = None
        for i in range(self.size):
            s = self.status(i) if self.members[i].alive() else None
            if s:
                ids[int(s["header"]["member_id"])] = i
                leader_id = int(s["leader"]) or leader_id
        return ids.get(leader_id)

    # -- auth

    def _enable_auth(self):
        """root (password), cfgd (password in a 0600 file), role cfgd with
        readwrite on prefix /cfgactors/, then `auth enable`."""
        self.root_password = secrets.token_hex(12)
        self.cfgd_password = secrets.token_hex(12)
        self._password_file = os.path.join(self.base_dir, "cfgd.password")
        fd = os.open(self._password_file,
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.cfgd_password)
        ctl = self.etcdctl
        ctl("user", "add", "root", "--interactive=false",
            "--new-user-password=" + self.root_password, user="")
        ctl("user", "grant-role", "root", "root", user="")
        ctl("role", "add", "cfgd", user="")
        ctl("role", "grant-permission", "cfgd", "--prefix=true", "readwrite",
            "/cfgactors/", user="")
        ctl("user", "add", "cfgd", "--interactive=false",
            "--new-user-password=" + self.cfgd_password, user="")
        ctl("user", "grant-role", "cfgd", "cfgd", user="")
        ctl("auth", "enable", user="")

    # -- end

    def close(self):
        """Kills every member and removes the data dirs (and the base dir
        when this cluster made it in the system's temp dir)."""
        if self.closed:
            return
        self.closed = True
        for m in self.members:
            try:
                self._kill(m)
            except etcd_error:
                pass
        shutil.rmtree(self.shm_dir, ignore_errors=True)
        if self.own_base:
            shutil.rmtree(self.base_dir, ignore_errors=True)


@atexit.register
def _close_all():
    for c in etcd_cluster.started:
        c.close()


# The self-check -----------------------------------------------------------

# The self-check prints and counts like the process tests: cfgd_harness
# lies beside this file (a script's own directory is on sys.path).

def check(name, ok, detail=""):
    import cfgd_harness
    return cfgd_harness.check(name, ok, detail)


def note(text):
    print(f"# {text}", flush=True)


def _try_gateway(*args, **kw):
    """gateway_post, or ("refused"/"error", the exception)."""
    try:
        return gateway_post(*args, **kw)
    except tls_refused as e:
        return "refused", e
    except OSError as e:
        return "error", e


def self_check_tls(workdir):
    t0 = time.monotonic()
    with etcd_cluster(base_dir=workdir) as c:
        note(f"3 members up in {c.startup_seconds:.2f} s")
        ep = c.endpoints()
        check("three https endpoints on loopback",
              len(ep) == 3 and all(re.match(r"https://127\.0\.0\.1:\d+$", e)
                                   for e in ep), ep)
        for path in c.client_cert() + c.gateway_cert()[1:] + \
                c.rogue_cert()[1:] + tuple(
                p for pair in c.certs.members for p in pair):
            if os.stat(path).st_mode & 0o777 != 0o600:
                check("certificate files are 0600", False, path)
                break
        else:
            check("certificate files are 0600", True)

        # The gateway with the client certificate.
        status, put = gateway_post(ep[0], "kv/put",
                                   {"key": b64("/cfgactors/a"),
                                    "value": b64("one")},
                                   cert=c.client_cert())
        check("gateway put with the client certificate", status == 200,
              f"{status} {put}")
        status, got = gateway_post(ep[1], "kv/range",
                                   {"key": b64("/cfgactors/a")},
                                   cert=c.client_cert())
        kvs = got.get("kvs", []) if isinstance(got, dict) else []
        check("gateway range through another member reads it",
              status == 200 and [unb64(kv["value"]) for kv in kvs]
              == ["one"], f"{status} {got}")
        check("get_prefix reads it through etcdctl",
              c.get_prefix("/cfgactors/") == {"/cfgactors/a": "one"},
              c.get_prefix("/cfgactors/"))

        # No certificate, and a certificate of another CA: nothing.
        body = {"key": b64("/cfgactors/a")}
        kind, what = _try_gateway(ep[0], "kv/range", body,
                                  cert=(c.client_cert()[0], None, None))
        check("a client without a certificate gets no data",
              kind in ("refused", "error"), f"{kind} {what}")
        note(f"no certificate: {kind}: {what}")
        kind, what = _try_gateway(ep[0], "kv/range", body,
                                  cert=c.rogue_cert())
        check("a client with the rogue CA's certificate gets no data",
              kind == "refused", f"{kind} {what}")
        note(f"rogue certificate: {kind}: {what}")
        res = c.etcdctl("get", "/cfgactors/a", check=False,
                        cert=c.rogue_cert(), timeouts=(1, 2))
        check("etcdctl with the rogue certificate gets no data",
              res.returncode != 0 and "one" not in res.stdout,
              f"{res.returncode} {res.stdout!r}")
        note("etcdctl, rogue certificate: exit "
             f"{res.returncode}: {res.stderr.strip().splitlines()[-1:]}")
        with open(c.members[0].log_path, errors="replace") as f:
            log = f.read()
        check("the member logs the rejected connections",
              "rejected connection" in log)
        for line in log.splitlines():
            if "rejected connection" in line:
                note("etcd-0 log: " + line[:300])

        # Quorum: one member down is fine, two are not. The leader goes
        # first: proposals made before a new leader are dropped (the put
        # then waits out its timeout), so wait_healthy comes before the put.
        leader = c.leader()
        first = leader if leader is not None else 2
        second = (first + 1) % 3
        survivor = 3 - first - second
        t = time.monotonic()
        c.kill(first)
        c.wait_healthy(10)
        note(f"leader etcd-{leader} killed: a quorum again after "
             f"{time.monotonic() - t:.2f} s")
        t = time.monotonic()
        res = c.put("/cfgactors/b", "two", check=False)
        check("a put succeeds with one member killed", res.returncode == 0,
              res.stderr)
        note(f"put with 2 of 3: {time.monotonic() - t:.2f} s")
        c.kill(second)
        t = time.monotonic()
        res = c.put("/cfgactors/c", "three", check=False, timeouts=(1, 3))
        lost = time.monotonic() - t
        check("a put fails within 5 s with two members killed",
              res.returncode != 0 and lost < 5,
              f"exit {res.returncode} after {lost:.2f} s")
        note(f"put with 1 of 3: exit {res.returncode} after {lost:.2f} s: "
             f"{res.stderr.strip().splitlines()[-1:]}")
        t = time.monotonic()
        kind, what = _try_gateway(ep[survivor], "kv/put",
                                  {"key": b64("/cfgactors/c"),
                                   "value": b64("three")},
                                  cert=c.client_cert(), timeout=10)
        note(f"gateway put with 1 of 3 after {time.monotonic() - t:.2f} s: "
             f"{kind} {what}")
        check("a gateway put fails too", kind not in (200, "error"),
              f"{kind} {what}")

        t = time.monotonic()
        c.restart(first)
        c.restart(second)
        note(f"two members restarted in {time.monotonic() - t:.2f} s")
        res = c.put("/cfgactors/d", "four", check=False)
        check("puts succeed after the restarts", res.returncode == 0,
              res.stderr)
        try:
            rev = c.wait_converged(10)
            check("all 3 members report the same revision", True)
            note(f"revision {rev} on all members")
        except etcd_error as e:
            check("all 3 members report the same revision", False, e)
        data = c.get_prefix("/cfgactors/")
        # The put that timed out without a quorum may still be committed:
        # the old leader had it in its log when the others came back.
        lost_put = data.pop("/cfgactors/c", None)
        check("the data survived", data == {"/cfgactors/a": "one",
                                            "/cfgactors/b": "two",
                                            "/cfgactors/d": "four"}, data)
        note("the put that timed out without a quorum is "
             + ("there after all" if lost_put else "absent"))
        check("a leader is known", c.leader() is not None)
        shm = c.shm_dir
    check("close() removes the data dirs", not os.path.exists(shm), shm)
    note(f"TLS section: {time.monotonic() - t0:.2f} s")


def self_check_auth(workdir):
    t0 = time.monotonic()
    with etcd_cluster(auth=True, base_dir=workdir) as c:
        note(f"3 members with auth up in {c.startup_seconds:.2f} s")
        pw_file = c.password_file()
        with open(pw_file) as f:
            pw = f.read()
        check("the password file is 0600",
              os.stat(pw_file).st_mode & 0o777 == 0o600)
        cfgd = "cfgd:" + pw
        res = c.put("/cfgactors/x", "1", user=cfgd, check=False)
        check("cfgd writes under /cfgactors/", res.returncode == 0,
              res.stderr)
        check("cfgd reads under /cfgactors/",
              c.get_prefix("/cfgactors/", user=cfgd) == {"/cfgactors/x": "1"})
        res = c.put("/other/x", "1", user=cfgd, check=False)
        check("cfgd may not write outside /cfgactors/",
              res.returncode != 0 and "permission denied" in res.stderr,
              res.stderr)
        c.put("/other/y", "secret")  # as root
        res = c.etcdctl("get", "/other/y", user=cfgd, check=False)
        check("cfgd may not read outside /cfgactors/",
              res.returncode != 0 and "secret" not in res.stdout,
              res.stdout + res.stderr)
        wrong = "".join("a" if ch != "a" else "b" for ch in pw)
        res = c.etcdctl("get", "/cfgactors/x", user="cfgd:" + wrong,
                        check=False)
        check("a wrong password of the same length is refused",
              res.returncode != 0 and "authentication failed" in res.stderr,
              res.stderr)
        # etcd takes a client certificate's CN as the user when a gRPC
        # request has no token: the cfgd certificate alone is user cfgd.
        res = c.etcdctl("get", "/cfgactors/x", user="", check=False)
        note("etcdctl with the cfgd certificate and no user: exit "
             f"{res.returncode} {res.stdout.split()!r} "
             f"{res.stderr.strip()!r}")

        # The gateway: a certificate with a CN is refused whatever the
        # token; one without a CN and a token from auth/authenticate work.
        ep = c.endpoints()
        status, ans = gateway_post(ep[0], "auth/authenticate",
                                   {"name": "cfgd", "password": pw},
                                   cert=c.client_cert())
        check("the gateway refuses a certificate with a CN (auth on)",
              status == 400 and "CommonName" in str(ans), f"{status} {ans}")
        cert = c.gateway_cert()
        status, ans = gateway_post(ep[0], "auth/authenticate",
                                   {"name": "cfgd", "password": pw},
                                   cert=cert)
        token = ans.get("token") if isinstance(ans, dict) else None
        check("gateway authenticate gives cfgd a token",
              status == 200 and bool(token), f"{status} {ans}")
        status, ans = gateway_post(ep[1], "kv/put",
                                   {"key": b64("/cfgactors/y"),
                                    "value": b64("2")},
                                   cert=cert, token=token)
        check("gateway put under /cfgactors/ with the token",
              status == 200, f"{status} {ans}")
        status, ans = gateway_post(ep[2], "kv/range",
                                   {"key": b64("/cfgactors/"),
                                    "range_end": b64("/cfgactors0")},
                                   cert=cert, token=token)
        kvs = ans.get("kvs", []) if isinstance(ans, dict) else []
        check("gateway range under /cfgactors/ with the token",
              status == 200 and {unb64(kv["key"]): unb64(kv["value"])
                                 for kv in kvs}
              == {"/cfgactors/x": "1", "/cfgactors/y": "2"},
              f"{status} {ans}")
        status, ans = gateway_post(ep[1], "kv/put",
                                   {"key": b64("/other/z"),
                                    "value": b64("2")},
                                   cert=cert, token=token)
        check("gateway put outside /cfgactors/ is refused",
              status != 200, f"{status} {ans}")
        note(f"gateway put outside: {status} {ans}")
        status, ans = gateway_post(ep[1], "kv/range",
                                   {"key": b64("/other/y")},
                                   cert=cert, token=token)
        check("gateway range outside /cfgactors/ gets no data",
              status != 200 and "kvs" not in str(ans), f"{status} {ans}")
        status, ans = gateway_post(ep[2], "kv/range",
                                   {"key": b64("/cfgactors/y")}, cert=cert)
        check("gateway range without a token gets no data",
              status != 200 and "kvs" not in str(ans), f"{status} {ans}")
        note(f"gateway range without a token: {status} {ans}")
        status, ans = gateway_post(ep[0], "auth/authenticate",
                                   {"name": "cfgd", "password": wrong},
                                   cert=cert)
        check("gateway authenticate with a wrong password is refused",
              status != 200 and "token" not in str(ans), f"{status} {ans}")
        note(f"gateway wrong password: {status} {ans}")
        status, ans = gateway_post(ep[0], "kv/range",
                                   {"key": b64("/cfgactors/y")},
                                   cert=cert, token=token + "x")
        check("gateway range with a forged token gets no data",
              status != 200 and "kvs" not in str(ans), f"{status} {ans}")
        note(f"gateway forged token: {status} {ans}")
    note(f"auth section: {time.monotonic() - t0:.2f} s")


def main():
    import cfgd_harness
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="etcd-cluster-check-") as w:
        for section in (self_check_tls, self_check_auth):
            try:
                section(w)
            except Exception as e:  # a crash fails its section, not all
                check(f"{section.__name__} completes", False, repr(e))
    note(f"self-check: {time.monotonic() - t0:.2f} s")
    return cfgd_harness.finish()


if __name__ == "__main__":
    sys.exit(main())
