"""docs/HASH.md is enough to verify a version's hash: the Python in its
Definition section, run as it stands, must reproduce every row of its
"Test vectors" table (the hash suite pins the same rows against the C++
code, so the code, the page and a client written from it agree).

Usage: hash_doc_test.py SOURCE_DIR
"""

import json
import re
import sys


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    text = open(sys.argv[1] + "/docs/HASH.md", encoding="utf-8").read()
    code = re.search(r"```python\n(.*?)```", text, re.S)
    if not code:
        print("FAIL - docs/HASH.md has no python block")
        return 1
    scope = {}
    exec(code.group(1), scope)
    content_hash = scope["content_hash"]
    rows = re.findall(r"^\| `(.+)` \| `([0-9a-f]{64})` \|$", text, re.M)
    if len(rows) < 10:
        print(f"FAIL - {len(rows)} test vectors in docs/HASH.md, expected 10")
        return 1
    failures = 0
    for value, expected in rows:
        # The wide rows are the Python that makes the value.
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = eval(value, {})
        got = content_hash(parsed)
        ok = got == expected
        print(("ok - " if ok else "FAIL - ") + value
              + ("" if ok else f": computed {got}, the page says {expected}"))
        failures += 0 if ok else 1
    print(f"{len(rows) - failures}/{len(rows)} vectors agree")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
