"""docs/FLAGS.md is enough to bucket like cfgactors: an implementation of
its own, written from the "Bucketing constants" table (checked to still say
what is used here), must reproduce every row of its "Test vectors" table.
The sticky_bucket suite pins the same rows against the C++ code, so the
code, the table and this reading of the constants agree.

Usage: flag_vectors_test.py SOURCE_DIR
"""

import re
import sys

MASK = (1 << 64) - 1
BASIS, PRIME = 0xcbf29ce484222325, 0x100000001b3
FMIX = (0xff51afd7ed558ccd, 0xc4ceb9fe1a85ec53)
BUCKETS = 10000


def fnv1a(data):
    h = BASIS
    for byte in data:
        h = ((h ^ byte) * PRIME) & MASK
    return h


def fmix64(k):
    k ^= k >> 33
    k = (k * FMIX[0]) & MASK
    k ^= k >> 33
    k = (k * FMIX[1]) & MASK
    return k ^ (k >> 33)


def bucket(salt, flag, key):
    data = salt.encode() + b"\xff" + flag.encode() + b"\xff" + key.encode()
    return fmix64(fnv1a(data)) % BUCKETS


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    text = open(sys.argv[1] + "/docs/FLAGS.md", encoding="utf-8").read()
    failures = 0

    def check(what, ok, detail=""):
        nonlocal failures
        print(("ok - " if ok else "FAIL - ") + what
              + ("" if ok else f": {detail}"))
        failures += 0 if ok else 1

    for constant in ("0xcbf29ce484222325", "0x100000001b3",
                     "0xff51afd7ed558ccd", "0xc4ceb9fe1a85ec53",
                     "salt, `0xff`, flag name, `0xff`, key value",
                     "| rollout salt | `rollout` |",
                     "| variant salt | `variant` |", "mod 10000"):
        check(f"the constants table says {constant}", constant in text)
    section = text.split("### Test vectors", 1)[-1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]*)` \| (?:`([^`]*)`|\(empty\)) \| (\d+) \|"
                      r" (\d+) \|$", section, re.M)
    check("the test vectors table has rows", len(rows) >= 8, len(rows))
    for flag, key, rollout, variant in rows:
        got = (bucket("rollout", flag, key), bucket("variant", flag, key))
        check(f"{flag} / {key or '(empty)'}: rollout {rollout}, "
              f"variant {variant}", got == (int(rollout), int(variant)), got)
    print(f"{len(rows) + 8 - failures} passed, {failures} failed")
    return 1 if failures or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
