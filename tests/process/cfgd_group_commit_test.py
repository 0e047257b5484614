#!/usr/bin/env python3
"""Process test of group commit: 16 concurrent writers on cfgd --data-dir.

Usage: cfgd_group_commit_test.py CFGD_BINARY SOURCE_DIR

Sixteen threads each PUT /config/w<k> with 1, 2, 3, ... as fast as cfgd
answers (their commits share journal transactions), until cfgd is killed
with SIGKILL at a random moment. After each restart every acknowledged
version must be in /history with the value its writer sent, no version may
have been acknowledged twice, and the versions continue upward. Set
CFGD_GROUP_SEED to replay a run.
"""

import http.client
import json
import os
import random
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from cfgd_harness import check, daemon, finish, get_json, write

TOKEN = "group-commit-test-token-0123456789"
WRITERS = 16
ROUNDS = 6
HISTORY = 64


def put(d, path, value):
    """A write; the parsed answer, or None when there was none."""
    req = urllib.request.Request(
        d.url + "/config/" + path, data=json.dumps(value).encode(),
        method="PUT", headers={"Content-Type": "application/json",
                               "Authorization": "Bearer " + TOKEN})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return json.loads(res.read().decode())
    except urllib.error.HTTPError as e:
        return {"status": "http", "code": e.code, "body": e.read().decode()}
    except (OSError, ValueError, http.client.HTTPException):
        return None  # killed under us: not acknowledged


def start(binary, workdir, data_dir):
    tokens = write(os.path.join(workdir, "tokens"), TOKEN + "\n")
    d = daemon(binary, ["--http", "127.0.0.1:0", "--token-file", tokens,
                        "--data-dir", data_dir, "--history", str(HISTORY)],
               workdir)
    return d if d.wait_listening() else None


def all_versions(d):
    """Every version in GET /history, newest first, paging with `before`."""
    result = []
    before = 0
    while True:
        query = f"/history?limit={HISTORY}"
        if before:
            query += f"&before={before}"
        status, _, rows = get_json(d, query)
        if status != 200 or not isinstance(rows, list):
            raise RuntimeError(f"GET {query}: {status} {rows!r}")
        if not rows:
            return result
        result.extend(row["version"] for row in rows)
        before = rows[-1]["version"]


class writer(threading.Thread):
    """PUTs w<k> = first, first + 1, ... until a write gets no answer."""

    def __init__(self, d, k, first):
        super().__init__(daemon=True)
        self.d, self.path, self.value = d, f"w{k}", first
        self.acked = []    # (version, value)
        self.refused = []  # answers other than committed

    def run(self):
        while True:
            answer = put(self.d, self.path, self.value)
            if answer is None:
                return
            if answer.get("status") == "committed":
                self.acked.append((answer["version"], self.value))
            else:
                self.refused.append(answer)
                return
            self.value += 1


def value_at(d, version, path):
    """The value `path` has in `version` (GET /diff from the version before
    it: the writer's own key changes in its version)."""
    status, _, diff = get_json(d, f"/diff?from={version - 1}&to={version}")
    if status != 200 or not isinstance(diff, dict):
        return None
    change = diff.get("changes", {}).get(path, {})
    return change.get("new", change.get("added"))


def test_kills(binary, workdir, rng):
    data_dir = os.path.join(workdir, "data")
    d = start(binary, workdir, data_dir)
    if not check("cfgd starts on a new data dir", d is not None):
        return
    acked = {}  # version -> (path, value), over every round
    problems = []
    concurrent_rounds = 0
    firsts = [1] * WRITERS
    for rnd in range(ROUNDS):
        base = d.version
        ws = [writer(d, k, firsts[k]) for k in range(WRITERS)]
        for w in ws:
            w.start()
        time.sleep(rng.uniform(0.3, 1.2))
        d.kill()
        for w in ws:
            w.join(timeout=30)
            if w.is_alive():
                problems.append(f"round {rnd}: a writer did not stop")
            if w.refused:
                problems.append(f"round {rnd}: {w.path} refused: "
                                f"{w.refused[0]!r}")
        if sum(1 for w in ws if w.acked) >= 8:
            concurrent_rounds += 1
        mine = sorted((v, w.path, x) for w in ws for v, x in w.acked)
        for version, path, value in mine:
            if version in acked:
                problems.append(f"round {rnd}: version {version} "
                                "acknowledged twice")
            if version <= base:
                problems.append(f"round {rnd}: version {version} is not "
                                f"after the start's {base}")
            acked[version] = (path, value)
        for k, w in enumerate(ws):
            firsts[k] = w.value + 1
        d = start(binary, workdir, data_dir)
        if d is None:
            problems.append(f"round {rnd}: cfgd did not restart")
            break
        versions = all_versions(d)
        missing = sorted(set(acked) - set(versions))
        if missing:
            problems.append(f"round {rnd}: acknowledged versions missing "
                            f"after the restart: {missing[:10]} "
                            f"(of {len(missing)})")
        if versions != sorted(set(versions), reverse=True):
            problems.append(f"round {rnd}: history not strictly descending")
        if mine and d.version < mine[-1][0]:
            problems.append(f"round {rnd}: restarted at {d.version}, below "
                            f"the acknowledged {mine[-1][0]}")
        for version, path, value in rng.sample(mine, min(8, len(mine))):
            got = value_at(d, version, path)
            if got != value:
                problems.append(f"round {rnd}: version {version} should set "
                                f"{path} to {value}, has {got!r}")
    check(f"{WRITERS} writers were acknowledged concurrently in most rounds "
          f"({concurrent_rounds} of {ROUNDS})",
          concurrent_rounds >= ROUNDS - 1, f"{concurrent_rounds}")
    check(f"after every SIGKILL and restart each of the {len(acked)} "
          "acknowledged versions is in /history with its writer's value",
          not problems and len(acked) > 0, "\n  ".join(problems[:10]))
    if d:
        answer = put(d, "after", 1)
        check("a write after the last restart gets the next version",
              answer is not None and answer.get("version") == d.version + 1,
              repr(answer))
        check("SIGTERM exits 0", d.stop() == 0)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    seed = int(os.environ.get("CFGD_GROUP_SEED", time.time_ns() % 10**9))
    print(f"seed {seed} (CFGD_GROUP_SEED replays it)", flush=True)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="cfgd-group-") as workdir:
        try:
            test_kills(binary, workdir, rng)
        except Exception as e:  # a crash fails the test, with its reason
            check("the test completes", False, repr(e))
        finally:
            for d in daemon.started:
                d.kill()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
