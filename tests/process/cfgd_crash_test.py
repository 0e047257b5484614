#!/usr/bin/env python3
"""Process test of cfgd's journal (--data-dir): crashes, restarts, refusals.

Usage: cfgd_crash_test.py CFGD_BINARY SOURCE_DIR

A writer thread streams acknowledged writes while cfgd is killed with
SIGKILL at a random moment, round after round; after each restart every
acknowledged write must be there and the version numbers must continue.
Then: SIGTERM stops cleanly and keeps the data, an unchanged restart makes
no version, a changed file makes one, retention keeps N versions, and a
corrupt, foreign or busy database stops cfgd with exit 1 naming the file.
Set CFGD_CRASH_SEED to replay a run.
"""

import http.client
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from cfgd_harness import (check, daemon, finish, get_json, run_to_exit,
                          write)

TOKEN = "crash-test-token-0123456789"
ROUNDS = 24
HISTORY = 64  # the in-memory ring; older versions come from the journal


def put(d, path, value):
    """A write; returns the parsed answer, or None when there was none."""
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


def start(binary, workdir, data_dir, extra=()):
    tokens = write(os.path.join(workdir, "tokens"), TOKEN + "\n")
    d = daemon(binary, ["--http", "127.0.0.1:0", "--token-file", tokens,
                        "--data-dir", data_dir, "--history", str(HISTORY)]
               + list(extra), workdir)
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


def wrong_counter(d, version, value):
    """None if `version` sets the counter to `value` (its diff from the
    version before, read back from the journal once the ring has let it
    go); else what it does instead."""
    status, _, diff = get_json(d, f"/diff?from={version - 1}&to={version}")
    change = (diff.get("changes", {}).get("counter", {})
              if isinstance(diff, dict) else {})
    if status == 200 and value in (change.get("new"), change.get("added")):
        return None
    return (f"version {version} should set counter to {value}: {status} "
            f"{diff!r}")


class writer(threading.Thread):
    """Writes counter = 1, 2, 3, ... until a write gets no answer; records
    each acknowledged (version, value) and the value of a write in flight."""

    def __init__(self, d, first_value):
        super().__init__(daemon=True)
        self.d = d
        self.value = first_value
        self.acked = []        # (version, value), in order
        self.in_flight = None  # the value sent but not answered
        self.refused = []      # answers other than committed

    def run(self):
        while True:
            self.in_flight = self.value
            answer = put(self.d, "counter", self.value)
            if answer is None:
                return
            self.in_flight = None
            if answer.get("status") == "committed":
                self.acked.append((answer["version"], self.value))
            else:
                self.refused.append(answer)
                return
            self.value += 1


def test_crashes(binary, workdir, rng):
    data_dir = os.path.join(workdir, "crash-data")
    acked = {}          # version -> value, over all rounds
    last_acked = None   # (version, value) of the newest acknowledged write
    in_flight = None    # value in flight at the last kill
    problems = []
    killed_mid_stream = 0
    next_value = 1
    d = start(binary, workdir, data_dir)
    if not check("cfgd starts on a new data dir", d is not None):
        return
    check("the first start commits the embedded defaults as version 1",
          d.version == 1, f"version {d.version}")
    base = d.version
    known = (d.version, None)  # (version, counter) known durable
    for rnd in range(ROUNDS):
        w = writer(d, next_value)
        w.start()
        time.sleep(rng.uniform(0.05, 0.4))
        d.kill()
        w.join(timeout=30)
        if w.is_alive():
            problems.append(f"round {rnd}: the writer did not stop")
            break
        if w.refused:
            problems.append(f"round {rnd}: a write was refused: "
                            f"{w.refused[0]!r}")
        if w.acked:
            killed_mid_stream += 1
            first = w.acked[0][0]
            if first != base + 1:
                problems.append(f"round {rnd}: the first write after the "
                                f"restart got version {first}, expected "
                                f"{base + 1}")
            for version, value in w.acked:
                if version in acked:
                    problems.append(f"round {rnd}: version {version} "
                                    "acknowledged twice")
                acked[version] = value
            last_acked = w.acked[-1]
        next_value = w.value + 1
        in_flight = w.in_flight

        d = start(binary, workdir, data_dir)
        if d is None:
            problems.append(f"round {rnd}: cfgd did not restart")
            break
        # What is known to be durable: the newest acknowledged write of this
        # round, else the state found at the previous start (a write that was
        # in flight then may have landed without an answer).
        if w.acked:
            known = last_acked
        newest = known[0]
        if not newest <= d.version <= newest + (1 if in_flight else 0):
            problems.append(f"round {rnd}: restarted at version {d.version}; "
                            f"last acknowledged {newest}, write in flight: "
                            f"{in_flight is not None}")
        versions = all_versions(d)
        if versions != sorted(set(versions), reverse=True):
            problems.append(f"round {rnd}: history is not strictly "
                            f"descending: {versions[:10]}...")
        missing = sorted(set(acked) - set(versions))
        if missing:
            problems.append(f"round {rnd}: acknowledged versions missing "
                            f"after the restart: {missing[:10]}")
        if versions and versions[0] != d.version:
            problems.append(f"round {rnd}: newest history row {versions[0]}"
                            f" is not the current version {d.version}")
        # The current value is the one of the newest version present.
        _, _, value = get_json(d, "/config/counter")
        expected = known[1] if d.version == known[0] else in_flight
        if d.version != 1 and value != expected:
            problems.append(f"round {rnd}: counter is {value!r} at "
                            f"version {d.version}, expected {expected}")
        known = (d.version, value)
        # A few acknowledged versions of this round, by content.
        for version, value in rng.sample(w.acked, min(3, len(w.acked))):
            wrong = wrong_counter(d, version, value)
            if wrong:
                problems.append(f"round {rnd}: {wrong}")
        base = d.version
    check(f"cfgd was killed with SIGKILL during a stream of writes at least "
          f"20 times ({killed_mid_stream})", killed_mid_stream >= 20,
          f"only {killed_mid_stream} rounds had acknowledged writes")
    check(f"after every restart each of the {len(acked)} acknowledged writes "
          "is present and versions continue upward", not problems,
          "\n  ".join(problems[:10]))
    if d:
        version = d.version
        answer = put(d, "counter", next_value)
        check("a write after the last restart gets the next version",
              answer and answer.get("version") == version + 1, repr(answer))
        check("SIGTERM after the crashes exits 0", d.stop() == 0,
              d.stderr())


def test_graceful(binary, source_dir, workdir):
    data_dir = os.path.join(workdir, "graceful-data", "nested")
    cfg = os.path.join(workdir, "service.yaml")
    shutil.copy(os.path.join(source_dir, "examples", "config.yaml"), cfg)
    schema = os.path.join(source_dir, "examples", "schema.json")
    files = ["--file", cfg, "--schema", schema]
    d = start(binary, workdir, data_dir, files)
    if not check("cfgd creates a missing data dir", d is not None
                 and os.path.isfile(os.path.join(data_dir, "journal.db"))):
        return
    answer = put(d, "logging.level", "DEBUG")
    check("a write commits", answer and answer.get("status") == "committed",
          repr(answer))
    version = answer["version"] if answer else None
    check("SIGTERM exits 0", d.stop(signal.SIGTERM) == 0, d.stderr())
    check("a clean stop leaves no write-ahead log behind",
          not os.path.exists(os.path.join(data_dir, "journal.db-wal")),
          str(os.listdir(data_dir)))

    d = start(binary, workdir, data_dir, files)
    if not check("cfgd restarts on its data dir", d is not None):
        return
    check("a restart with unchanged files makes no version",
          d.version == version, f"{version} -> {d.version}")
    _, _, level = get_json(d, "/config/logging.level")
    check("the runtime layer survives the restart", level == "DEBUG",
          repr(level))
    check("SIGINT exits 0", d.stop(signal.SIGINT) == 0, d.stderr())

    with open(cfg) as f:
        text = f.read()
    write(cfg, text.replace("buffer_size: 1024", "buffer_size: 2048"))
    d = start(binary, workdir, data_dir, files)
    if not check("cfgd restarts after the file changed", d is not None):
        return
    check("a restart with a changed file makes one new version",
          d.version == version + 1, f"{version} -> {d.version}")
    _, _, cfg_now = get_json(d, "/config")
    check("the new version has the file's change and the runtime layer",
          isinstance(cfg_now, dict) and cfg_now.get("buffer_size") == 2048
          and cfg_now.get("logging", {}).get("level") == "DEBUG",
          repr(cfg_now))
    d.stop()


def journal_bytes(data_dir):
    return sum(os.path.getsize(os.path.join(data_dir, name))
               for name in os.listdir(data_dir)
               if name.startswith("journal.db"))


def test_large_config(binary, workdir, rng):
    """A config of 20,000 keys in the runtime layer (where API writes land),
    one key written per version, killed mid-stream: every acknowledged
    write is there after each restart, and the journal grows by what the
    writes changed, not by the config's size per version."""
    data_dir = os.path.join(workdir, "large-data")
    d = start(binary, workdir, data_dir)
    if not check("cfgd starts for the large config", d is not None):
        return
    big = {f"s{i // 100}": {f"k{j}": j for j in range(i, i + 100)}
           for i in range(0, 20000, 100)}
    answer = put(d, "tenants", big)
    config_bytes = len(json.dumps(big))
    check("a 20,000-key section is written through the API",
          answer and answer.get("status") == "committed", repr(answer))
    acked = {}
    next_value = 1
    problems = []
    for rnd in range(4):
        w = writer(d, next_value)
        w.start()
        # Killed mid-stream once at least 10 writes were answered (not after
        # a fixed time: under ASan and a loaded machine 0.3 s held fewer),
        # at a random point after that.
        deadline = time.monotonic() + 60
        while len(w.acked) < 10 and w.is_alive() \
                and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.5))
        d.kill()
        w.join(timeout=30)
        for version, value in w.acked:
            acked[version] = value
        next_value = w.value + 1
        d = start(binary, workdir, data_dir)
        if d is None:
            problems.append(f"round {rnd}: cfgd did not restart")
            break
        versions = set(all_versions(d))
        missing = sorted(set(acked) - versions)
        if missing:
            problems.append(f"round {rnd}: acknowledged versions missing: "
                            f"{missing[:10]}")
        # Versions read back from the journal (the ring holds 64), by
        # content: each sets the counter to its value.
        for version, value in rng.sample(w.acked, min(3, len(w.acked))):
            wrong = wrong_counter(d, version, value)
            if wrong:
                problems.append(f"round {rnd}: {wrong}")
        status, _, section = get_json(d, "/config/tenants.s137.k13712")
        if status != 200 or section != 13712:
            problems.append(f"round {rnd}: the large section reads "
                            f"{section!r} ({status}) after the restart")
    check(f"with 20,000 keys, the {len(acked)} acknowledged writes of 4 "
          "killed streams are all there after each restart",
          len(acked) >= 40 and not problems,
          "\n  ".join(problems[:10]) or f"only {len(acked)} writes")
    if d:
        d.stop()
    size = journal_bytes(data_dir)
    # A row per version holding the layer whole would be about
    # config_bytes * versions; rows of what changed add a few hundred bytes
    # each, plus a whole row each time they add up to one.
    print(f"  journal: {size} bytes for {len(acked)} versions of a "
          f"{config_bytes}-byte config", flush=True)
    check("the journal grows by the changes, not by the config per version "
          f"({size} bytes for {len(acked)} versions of {config_bytes} bytes)",
          size < 6 * config_bytes + 2000 * len(acked),
          f"{size} bytes")


def test_retention(binary, workdir):
    data_dir = os.path.join(workdir, "retention-data")
    args = ["--retention", "5"]
    d = start(binary, workdir, data_dir, args)
    if not d:
        return
    for i in range(12):
        put(d, "counter", i)
    last = d.version + 12
    d.stop()
    d = start(binary, workdir, data_dir, args)
    if not d:
        return
    versions = all_versions(d)
    check("--retention 5 keeps the newest 5 versions",
          versions == list(range(last, last - 5, -1)), repr(versions))
    answer = put(d, "counter", 100)
    check("the next version follows the newest kept one",
          answer and answer.get("version") == last + 1, repr(answer))
    d.stop()


def test_refusals(binary, workdir):
    base = ["--http", "127.0.0.1:0"]
    garbage = os.path.join(workdir, "garbage-data")
    os.makedirs(garbage)
    db = write(os.path.join(garbage, "journal.db"), "x" * 10000)
    code, err = run_to_exit(binary, base + ["--data-dir", garbage])
    check("a database file that is not SQLite stops cfgd with exit 1 "
          "naming it", code == 1 and db in err, f"exit {code}: {err}")
    with open(db) as f:
        check("the unreadable database is left as it was",
              f.read() == "x" * 10000)

    # A real journal with damaged pages.
    damaged = os.path.join(workdir, "damaged-data")
    d = start(binary, workdir, damaged)
    if d:
        for i in range(30):
            put(d, "padding", "p" * 2000 + str(i))
        d.stop()
        db = os.path.join(damaged, "journal.db")
        with open(db, "r+b") as f:
            f.seek(2 * 4096)
            f.write(b"\x5a" * (4 * 4096))
        code, err = run_to_exit(binary, base + ["--data-dir", damaged])
        check("a corrupt database stops cfgd with exit 1 naming it",
              code == 1 and db in err,
              f"exit {code}: {err}")

    busy = os.path.join(workdir, "busy-data")
    d = start(binary, workdir, busy)
    if d:
        code, err = run_to_exit(binary, base + ["--data-dir", busy])
        check("a second cfgd on a data dir in use exits 1 naming the file",
              code == 1 and os.path.join(busy, "journal.db") in err
              and "locked" in err, f"exit {code}: {err}")
        check("the first cfgd still stops cleanly", d.stop() == 0,
              d.stderr())

    not_a_dir = write(os.path.join(workdir, "plain-file"), "x")
    code, err = run_to_exit(binary, base + ["--data-dir", not_a_dir])
    check("a data dir that is a file stops cfgd with exit 1 naming it",
          code == 1 and not_a_dir in err, f"exit {code}: {err}")

    # The history is cfgd's alone.
    fresh = os.path.join(workdir, "fresh-data")
    d = start(binary, workdir, fresh)
    if d:
        put(d, "counter", 1)
        modes = {name: oct(os.stat(os.path.join(fresh, name)).st_mode & 0o777)
                 for name in ("", "journal.db", "journal.db-wal")}
        check("a new data dir is 0700, its journal and WAL 0600",
              modes == {"": "0o700", "journal.db": "0o600",
                        "journal.db-wal": "0o600"}, repr(modes))
        d.stop()
    shared = os.path.join(workdir, "shared-data")
    os.makedirs(shared)
    os.chmod(shared, 0o777)
    code, err = run_to_exit(binary, base + ["--data-dir", shared])
    check("a data dir writable by others stops cfgd, naming it and its mode",
          code == 1 and shared in err and "0777" in err, f"exit {code}: {err}")
    planted = os.path.join(workdir, "planted-data")
    os.makedirs(planted, mode=0o700)
    elsewhere = write(os.path.join(workdir, "elsewhere.db"), "")
    os.symlink(elsewhere, os.path.join(planted, "journal.db"))
    code, err = run_to_exit(binary, base + ["--data-dir", planted])
    check("a journal that is a symbolic link stops cfgd, naming it",
          code == 1 and "symbolic link" in err
          and os.path.join(planted, "journal.db") in err, f"exit {code}: {err}")
    check("the link's target was not written", os.path.getsize(elsewhere) == 0)
    foreign = os.path.join(workdir, "foreign-data")
    os.makedirs(foreign, mode=0o700)
    os.chown(foreign, 65534, 65534)  # nobody: the tests run as root
    code, err = run_to_exit(binary, base + ["--data-dir", foreign])
    check("a data dir another user owns stops cfgd, naming it and the uid",
          code == 1 and foreign in err and "uid 65534" in err,
          f"exit {code}: {err}")


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, source_dir = os.path.abspath(sys.argv[1]), sys.argv[2]
    seed = int(os.environ.get("CFGD_CRASH_SEED", time.time_ns() % 10**9))
    print(f"seed {seed} (CFGD_CRASH_SEED replays it)", flush=True)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="cfgd-crash-") as workdir:
        for test in (lambda: test_crashes(binary, workdir, rng),
                     lambda: test_graceful(binary, source_dir, workdir),
                     lambda: test_large_config(binary, workdir, rng),
                     lambda: test_retention(binary, workdir),
                     lambda: test_refusals(binary, workdir)):
            try:
                test()
            except Exception as e:  # a crash in one part fails it, not all
                check("test section completes", False, repr(e))
            finally:
                for d in daemon.started:
                    d.kill()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
