#!/usr/bin/env python3
"""Memory a version held in cfgd's history costs, against the config's size.

For each size, a cfgd (memory only) starts on a config of SIZE keys (SIZE/100
objects of 100 integers, `--file`), then `--writes` one-key writes (`PUT
/config/s0.k0`) go through its HTTP API one after the other; its VmRSS is
read at start and every 10 writes. The line per size gives the RSS the first
10 writes added (the trees a node keeps whole, and the pool's) and then the
RSS added per version held, from the 10th write to the min(writes, history)th
(the history's slope), next to the baseline of the same run: the RSS the
config itself added at start over a cfgd on an empty config (one tree, its
file layer and the parse). A held version that cost a whole tree would be
about half that baseline.

Then a burst: `--burst` writers at once, each doing `--burst-writes` one-key
writes of a key of its own, so that cfgd's validator has many commits in
flight. The burst line gives cfgd's peak RSS during it (VmHWM, reset before
it) and what that peak added over the RSS before the burst, in MiB and in
trees (the config's baseline above), and the whole-tree copies the burst
cost (`cfg_tree_copies_total`).

    bench/history_memory.py [--cfgd build-release/apps/cfgd/cfgd]
                            [--keys 1000,10000,100000] [--writes 130]
                            [--history 100] [--burst 16] [--burst-writes 20]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

LISTENING = re.compile(
    r"^cfgd listening on http://(\d+\.\d+\.\d+\.\d+):(\d+) \(version \d+\)$")
TOKEN = "history-memory-bench-token-0123456789"


def status_kib(pid, field):
    """A memory field of /proc/PID/status (VmRSS, VmHWM), in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for pid {pid}")


def rss_kib(pid):
    return status_kib(pid, "VmRSS")


def config(keys):
    return {f"s{i}": {f"k{j}": i * 100 + j for j in range(100)}
            for i in range(keys // 100)}


def start(cfgd, workdir, keys, history):
    path = os.path.join(workdir, f"config-{keys}.json")
    with open(path, "w") as f:
        json.dump(config(keys) if keys else {"s0": {"k0": 0}}, f,
                  separators=(",", ":"))
    tokens = os.path.join(workdir, "tokens")
    with open(tokens, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(tokens, 0o600)
    err = open(os.path.join(workdir, f"cfgd-{keys}.stderr"), "wb")
    proc = subprocess.Popen(
        [cfgd, "--http", "127.0.0.1:0", "--file", path, "--token-file",
         tokens, "--history", str(history)],
        stdout=subprocess.PIPE, stderr=err, text=True)
    line = proc.stdout.readline().rstrip("\n")
    m = LISTENING.match(line)
    if not m:
        proc.kill()
        sys.exit(f"history_memory: cfgd did not start on {keys} keys: "
                 f"{line!r} (stderr in {err.name})")
    return proc, f"http://{m.group(1)}:{m.group(2)}"


def put(url, path, value):
    req = urllib.request.Request(
        f"{url}/config/{path}", data=json.dumps(value).encode(), method="PUT",
        headers={"Content-Type": "application/json",
                 "Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=60) as res:
        res.read()


def reset_hwm(pid):
    """VmHWM back to the present RSS (Linux: clear_refs 5)."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def tree_copies(url):
    req = urllib.request.Request(
        f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=60) as res:
        for line in res.read().decode().splitlines():
            if line.startswith("cfg_tree_copies_total "):
                return int(float(line.split()[1]))
    raise RuntimeError("no cfg_tree_copies_total in /metrics")


def burst(url, pid, writers, writes):
    """`writers` threads at once, `writes` one-key writes each; returns the
    RSS before, the peak during it and the tree copies it cost."""
    before = settle(pid)
    copies = tree_copies(url)
    reset_hwm(pid)
    errors = []

    def writer(w):
        try:
            for i in range(writes):
                put(url, f"s0.k{1 + w % 99}", i)
        except Exception as e:  # reported after the join
            errors.append(f"writer {w}: {e}")

    threads = [threading.Thread(target=writer, args=(w,))
               for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError("burst: " + "; ".join(errors))
    return before, status_kib(pid, "VmHWM"), tree_copies(url) - copies


def settle(pid):
    """RSS once the allocator has handed back what it frees (two equal reads
    100 ms apart, at most 2 s)."""
    last = rss_kib(pid)
    for _ in range(20):
        time.sleep(0.1)
        now = rss_kib(pid)
        if now == last:
            break
        last = now
    return last


def run(cfgd, workdir, keys, writes, history, writers=0, burst_writes=0):
    proc, url = start(cfgd, workdir, keys, history)
    try:
        samples = [settle(proc.pid)]
        for i in range(1, writes + 1):
            put(url, "s0.k0", -i)
            if i % 10 == 0:
                samples.append(settle(proc.pid))
        if writers == 0:
            return samples, None
        return samples, burst(url, proc.pid, writers, burst_writes)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cfgd", default="build-release/apps/cfgd/cfgd")
    ap.add_argument("--keys", default="1000,10000,100000")
    ap.add_argument("--writes", type=int, default=130)
    ap.add_argument("--history", type=int, default=100)
    ap.add_argument("--burst", type=int, default=16)
    ap.add_argument("--burst-writes", type=int, default=20)
    args = ap.parse_args()
    if args.burst < 0 or args.burst_writes < 1:
        sys.exit("history_memory: --burst is 0 or more, --burst-writes 1 "
                 "or more")
    if args.writes < 20 or args.history < 20:
        sys.exit("history_memory: --writes and --history must be at least 20")
    sizes = [int(x) for x in args.keys.split(",")]
    if any(k < 100 or k % 100 for k in sizes):
        sys.exit("history_memory: --keys are multiples of 100")
    workdir = tempfile.mkdtemp(prefix="history-memory-")
    try:
        empty = run(args.cfgd, workdir, 0, 10, args.history)[0][0]
        print(f"history_memory: cfgd {args.cfgd}, --history {args.history}, "
              f"{args.writes} one-key writes per size; RSS of cfgd on an "
              f"empty config: {empty / 1024:.1f} MiB")
        print()
        print(f"{'keys':>8} {'start MiB':>10} {'config MiB':>11} "
              f"{'+10 writes':>11} {'end MiB':>9} {'KiB/version':>12} "
              f"{'x config':>9}")
        for keys in sizes:
            samples, bursted = run(args.cfgd, workdir, keys, args.writes,
                                   args.history, args.burst,
                                   args.burst_writes)
            held = min(args.writes, args.history) // 10
            per = (samples[held] - samples[1]) / ((held - 1) * 10)
            base = samples[0] - empty
            print(f"{keys:>8} {samples[0] / 1024:>10.1f} {base / 1024:>11.1f} "
                  f"{(samples[1] - samples[0]) / 1024:>11.1f} "
                  f"{samples[-1] / 1024:>9.1f} {per:>12.1f} "
                  f"{per / base if base > 0 else 0:>9.4f}", flush=True)
            print("         RSS every 10 writes (MiB): "
                  + " ".join(f"{s / 1024:.0f}" for s in samples), flush=True)
            if bursted:
                before, peak, copies = bursted
                print(f"         burst of {args.burst} writers x "
                      f"{args.burst_writes} writes: RSS {before / 1024:.0f} "
                      f"MiB before, peak {peak / 1024:.0f} MiB "
                      f"(+{(peak - before) / 1024:.0f} MiB = "
                      f"{(peak - before) / base if base > 0 else 0:.1f} "
                      f"trees), {copies} tree copies", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
