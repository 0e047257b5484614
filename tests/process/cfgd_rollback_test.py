#!/usr/bin/env python3
"""Process test: no silent rollback. A primary restarted without its journal
(or with another one) is another cluster to its replicas: they keep their
version and hash, report stale with the reason, and log the refusal, until
`cfgctl resync` makes each follow the primary. A primary restarted with its
journal is followed with no resync.

Usage: cfgd_rollback_test.py CFGD_BINARY CFGCTL_BINARY SOURCE_DIR
"""

import json
import os
import sys

from cfgd_harness import check, daemon, get_json, http, run_sections
from cfgd_cluster_test import (cfgctl, cluster, converged, eventually, head,
                               nodes, post)


def start_primary(c, data_dir):
    """The cluster's primary on its port, with `data_dir` or without one."""
    d = daemon(c.binary,
               ["--http", "127.0.0.1:0", "--schema", c.schema,
                "--file", c.cfg, "--token-file", c.tokens,
                "--node-name", "primary",
                "--cluster-listen", f"127.0.0.1:{c.port}",
                "--cluster-secret-file", c.secret]
               + (["--data-dir", data_dir] if data_dir else []),
               c.workdir)
    return d if d.wait_listening() else None


def me(r, name):
    return nodes(r).get(name, {})


def refused(rs, part):
    return all(me(r, n).get("stale") is True
               and part in me(r, n).get("reason", "")
               for n, r in rs.items())


def bare(etag):
    return etag.strip('"')


def check_refusal(p, rs, kept, why):
    """The replicas refuse `p`: stale with the reason, their state kept."""
    check(f"{why}: every replica reports stale, naming another cluster",
          eventually(lambda: refused(rs, "another cluster")),
          repr({n: me(r, n) for n, r in rs.items()}))
    check(f"{why}: replicas keep their version and hash",
          all(head(r) == kept for r in rs.values()),
          f"{kept} vs {[head(r) for r in rs.values()]} (primary {head(p)})")
    check(f"{why}: the primary is behind them", head(p)[0] < kept[0],
          f"{head(p)} vs {kept}")
    for n, r in rs.items():
        status, _, body = get_json(r, "/readyz")
        check(f"{why}: {n} is not ready, and /readyz says why",
              status == 503 and any("another cluster" in x
                                    for x in body.get("details", [])),
              f"{status} {body!r}")
        check(f"{why}: {n} logs the refusal",
              eventually(lambda: "event=replica_refused_rollback"
                         in r.stderr()), r.stderr()[-2000:])
    status, body = post(rs["r1"], "/features/x?create=true", {"enabled": True})
    check(f"{why}: a write through a refusing replica answers 503",
          status == 503 and "refuses its primary" in str(body),
          f"{status} {body!r}")


def resync_all(ctl, p, rs, why, as_json=False):
    want = head(p)
    for n, r in rs.items():
        args = (["--json"] if as_json else []) + ["resync"]
        code, out, err = cfgctl(ctl, r, *args)
        if as_json:
            try:
                body = json.loads(out)
            except ValueError:
                body = {}
            ok = code == 0 and body.get("version") == want[0] \
                and body.get("hash") == bare(want[1]) \
                and body.get("stale") is False and body.get("reason") == ""
        else:
            ok = code == 0 and out.startswith(
                f"resynced: version {want[0]} hash {bare(want[1])} from "
                "cluster ")
        check(f"{why}: cfgctl resync on {n} brings it to the primary's "
              "version and hash", ok, f"{code} {out!r} {err!r} want {want}")
    check(f"{why}: the replicas then follow the primary",
          eventually(lambda: converged(p, rs.values())
                     and all(me(r, n).get("stale") is False
                             and me(r, n).get("reason") == ""
                             for n, r in rs.items())),
          f"{head(p)} vs {[me(r, n) for n, r in rs.items()]}")


def test_rollback(binary, ctl, source_dir, workdir):
    c = cluster(binary, source_dir, workdir)
    journal = os.path.join(workdir, "journal")
    p = start_primary(c, journal)
    if not p:
        return
    check("a primary with a data dir does not warn that it is not durable",
          "event=primary_not_durable" not in p.stderr(), p.stderr()[-2000:])
    rs = {n: c.replica(n) for n in ["r1", "r2"]}
    if not all(rs.values()):
        return
    for i in range(3):
        cfgctl(ctl, p, "set", f"rollback.n{i}", str(i))
    check("2 replicas converge after a few writes",
          eventually(lambda: converged(p, rs.values())),
          f"{head(p)} vs {[head(r) for r in rs.values()]}")
    ids = {me(r, n).get("cluster_id") for n, r in rs.items()}
    check("both replicas report the primary's cluster id",
          len(ids) == 1 and len(next(iter(ids))) == 32, repr(ids))
    code, out, err = cfgctl(ctl, p, "resync")
    check("cfgctl resync on the primary is refused (400)",
          code != 0 and "no primary to resync from" in out + err,
          f"{code} {out!r} {err!r}")

    # Restarted without its journal: another cluster, behind the replicas.
    kept = head(p)
    p.kill()
    p = start_primary(c, None)
    if not p:
        return
    check("a primary without a data dir logs that it is not durable",
          "event=primary_not_durable" in p.stderr(), p.stderr()[-2000:])
    check_refusal(p, rs, kept, "without its journal")
    status, _, body = http("POST", rs["r1"].url + "/cluster/resync")
    check("POST /cluster/resync without a token is refused (401)",
          status == 401 and "another cluster" in me(rs["r1"], "r1")
          .get("reason", ""), f"{status} {body!r}")
    resync_all(ctl, p, rs, "without its journal")

    # Restarted on another (empty) data dir: the same again.
    kept = head(rs["r1"])
    for i in range(3):
        cfgctl(ctl, p, "set", f"rollback.m{i}", str(i))
    check("the replicas follow the primary they resynced with",
          eventually(lambda: converged(p, rs.values())),
          f"{head(p)} vs {[head(r) for r in rs.values()]}")
    kept = head(p)
    p.kill()
    other = os.path.join(workdir, "other")
    p = start_primary(c, other)
    if not p:
        return
    check_refusal(p, rs, kept, "with another journal")
    resync_all(ctl, p, rs, "with another journal", as_json=True)

    # Restarted with its journal: followed with no resync.
    cfgctl(ctl, p, "set", "rollback.last", "1")
    check("the replicas converge before the restart",
          eventually(lambda: converged(p, rs.values())),
          f"{head(p)} vs {[head(r) for r in rs.values()]}")
    kept = head(p)
    resyncs = {n: me(r, n).get("resyncs") for n, r in rs.items()}
    epochs = {n: me(r, n).get("epoch") for n, r in rs.items()}
    p.kill()
    p = start_primary(c, other)
    if not p:
        return
    check("a primary restarted with its journal is followed with no resync",
          eventually(lambda: converged(p, rs.values())
                     and all(me(r, n).get("stale") is False
                             and me(r, n).get("epoch") != epochs[n]
                             for n, r in rs.items())),
          f"{head(p)} vs {[me(r, n) for n, r in rs.items()]}")
    check("it is at the version the replicas had", head(p) == kept,
          f"{head(p)} vs {kept}")
    check("no replica resynced",
          {n: me(r, n).get("resyncs") for n, r in rs.items()} == resyncs,
          f"{resyncs} vs {[me(r, n) for n, r in rs.items()]}")
    for d in [p] + list(rs.values()):
        check("a cluster node stops on SIGTERM", d.stop() == 0,
              d.stderr()[-2000:])


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    binary, ctl = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    source_dir = sys.argv[3]
    return run_sections("cfgd-rollback-", [
        lambda workdir: test_rollback(binary, ctl, source_dir, workdir)])


if __name__ == "__main__":
    sys.exit(main())
