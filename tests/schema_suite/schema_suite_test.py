#!/usr/bin/python3
"""The official JSON Schema Test Suite (draft 7) through `cfgctl validate`.

Every test group's schema goes to one file and its instances to another (a
JSON array); `cfgctl --json validate --each` decides each instance, with the
suite's remotes/ folder standing in for http://localhost:1234/ (no network).
Prints pass/fail counts per file and fails on any disagreement in the
required tests, and in the optional tests we claim (see CLAIMED_OPTIONAL).

usage: schema_suite_test.py CFGCTL SUITE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

# The optional draft 7 files we claim to pass: those independent of `format`
# (docs/SCHEMA.md). Not claimed: optional/format/* and ecmascript-regex.json
# (format is an annotation, apart from valijson's date, time and
# date-time), content.json (contentMediaType/contentEncoding are
# annotations).
CLAIMED_OPTIONAL = {"bignum.json", "zeroTerminatedFloats.json"}
# Groups of claimed files we do not claim, with the reason: `integer` is
# strict, so 1.0 and a number beyond 64 bits are not integers (the value is
# served as written; a consumer reading an integer never gets a float).
UNCLAIMED_GROUPS = {
    ("bignum.json", "integer"): "integer is strict",
    ("zeroTerminatedFloats.json",
     "some languages do not distinguish between different types of numeric "
     "value"): "integer is strict",
}


def run_group(cfgctl, remotes, workdir, group):
    schema_file = os.path.join(workdir, "schema.json")
    cases_file = os.path.join(workdir, "cases.json")
    with open(schema_file, "w") as f:
        json.dump(group["schema"], f)
    with open(cases_file, "w") as f:
        json.dump([t["data"] for t in group["tests"]], f)
    proc = subprocess.run(
        [cfgctl, "--json", "validate", "--each", "--schema", schema_file,
         "--ref-dir", "http://localhost:1234/=" + remotes, cases_file],
        capture_output=True, text=True, timeout=60)
    verdicts = {}
    for line in proc.stdout.splitlines():
        out = json.loads(line)
        verdicts[out["index"]] = out
    if proc.returncode not in (0, 1) or len(verdicts) != len(group["tests"]):
        return None, proc.stderr.strip() or proc.stdout.strip()
    return verdicts, None


def run_file(cfgctl, remotes, workdir, path, failures, unclaimed=None):
    """Runs every group of one file; a disagreement goes to `failures`, or
    to `unclaimed` when its group is in UNCLAIMED_GROUPS."""
    passed = failed = 0
    name = os.path.basename(path)
    with open(path) as f:
        groups = json.load(f)
    for group in groups:
        verdicts, problem = run_group(cfgctl, remotes, workdir, group)
        reason = UNCLAIMED_GROUPS.get((name, group["description"]))
        for i, test in enumerate(group["tests"]):
            got = None if verdicts is None else verdicts[i]["valid"]
            if got == test["valid"]:
                passed += 1
                continue
            failed += 1
            why = problem if verdicts is None else verdicts[i]["errors"]
            line = "%s: %s / %s: expected %s, got %s (%s)" % (
                name, group["description"], test["description"],
                test["valid"], got, why)
            if reason is not None and unclaimed is not None:
                unclaimed.append(line + " [not claimed: %s]" % reason)
            else:
                failures.append(line)
    return passed, failed


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    cfgctl, suite = sys.argv[1], sys.argv[2]
    tests = os.path.join(suite, "tests", "draft7")
    remotes = os.path.join(suite, "remotes")
    if not os.path.isdir(tests) or not os.path.isdir(remotes):
        sys.exit("FAIL: no JSON Schema Test Suite at %s (Debian package "
                 "json-schema-test-suite)" % suite)
    required_bad = []
    optional_bad = []
    claimed_bad = []
    total = 0
    with tempfile.TemporaryDirectory() as workdir:
        for name in sorted(os.listdir(tests)):
            if not name.endswith(".json"):
                continue
            p, f = run_file(cfgctl, remotes, workdir,
                            os.path.join(tests, name), required_bad)
            total += p + f
            print("%-28s %4d passed %3d failed" % (name, p, f))
        for root, _, files in sorted(os.walk(os.path.join(tests,
                                                          "optional"))):
            for name in sorted(files):
                if not name.endswith(".json"):
                    continue
                bad = []
                rel = os.path.relpath(os.path.join(root, name), tests)
                claimed = name in CLAIMED_OPTIONAL and "format" not in rel
                p, f = run_file(cfgctl, remotes, workdir,
                                os.path.join(root, name), bad, optional_bad)
                print("%-28s %4d passed %3d failed%s" % (
                    rel, p, f, "" if claimed else " (not claimed)"))
                (claimed_bad if claimed else optional_bad).extend(bad)
    for line in required_bad + claimed_bad:
        print("DISAGREE " + line)
    for line in optional_bad:
        print("optional, not claimed: " + line)
    if total == 0:
        sys.exit("FAIL: ran no required test")
    if required_bad or claimed_bad:
        sys.exit("FAIL: %d required and %d claimed optional disagreements"
                 % (len(required_bad), len(claimed_bad)))
    print("all %d required cases agree, and every claimed optional case"
          % total)


if __name__ == "__main__":
    main()
