#!/usr/bin/env python3
"""Process test of pushing a whole config (the seed's
RemoteConfig.push_config): `PUT /config` and `cfgctl push FILE`.

The pushed document becomes the runtime layer, the layer of highest
precedence: every value it holds is served as pushed (no layer pins a path
above it — not the file, not the environment); a path it leaves out is
served from the layers below (file, env), and a path pushed as null is
removed. An invalid document is refused with every reason and changes
nothing; a wrong token of the right length is refused. The library client
(cfgactors::config_client) is exercised by the push_config example, run
here against this real cfgd.

Usage: cfgd_push_test.py CFGD_BINARY CFGCTL_BINARY SOURCE_DIR [EXAMPLE]
"""

import json
import os
import secrets as rnd
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cfgd_harness import (check, daemon, get_json, run_sections,  # noqa: E402
                          write)

ALICE = "alice-" + rnd.token_hex(16)


def cfgctl(binary, d, *args, token=ALICE):
    env = dict(os.environ, CFGD_TOKEN=token)
    res = subprocess.run([binary, "--url", d.url] + list(args),
                         capture_output=True, text=True, timeout=30, env=env)
    return res.returncode, res.stdout, res.stderr


def auth(token=ALICE):
    return {"Authorization": "Bearer " + token}


def section_push(cfgd, ctl, source, example, workdir):
    tokens = write(os.path.join(workdir, "tokens"), f"alice:write:{ALICE}\n")
    os.chmod(tokens, 0o600)
    env = dict(os.environ, CFGP_TIMEOUTS__CONNECT_MS="3000")
    d = daemon(cfgd, ["--http", "127.0.0.1:0", "--file",
                      os.path.join(source, "examples", "config.yaml"),
                      "--schema", os.path.join(source, "examples",
                                               "schema.json"),
                      "--env-prefix", "CFGP_", "--token-file", tokens,
                      "--data-dir", os.path.join(workdir, "data")],
               workdir, env=env)
    if not check("cfgd starts with a file and an env layer",
                 d.wait_listening()):
        return
    _, _, before = get_json(d, "/config", auth())
    check("the env layer sets timeouts.connect_ms over the file",
          before.get("timeouts", {}).get("connect_ms") == 3000, before)

    pushed = {"logging": {"level": "DEBUG", "format": "json"},
              "buffer_size": 2048,
              "timeouts": {"connect_ms": 1500},
              "features": {"beta_ui": True},
              "sample_rate": None}
    doc = write(os.path.join(workdir, "pushed.yaml"),
                "# the whole service config\n"
                "logging:\n  level: DEBUG\n  format: json\n"
                "buffer_size: 2048\n"
                "timeouts:\n  connect_ms: 1500\n"
                "features:\n  beta_ui: true\n"
                "sample_rate: null   # removed, whatever the file says\n")
    code, out, err = cfgctl(ctl, d, "push", doc)
    check("cfgctl push FILE commits", code == 0 and "committed" in out,
          f"{code} {out!r} {err!r}")
    _, _, layers = get_json(d, "/layers", auth())
    runtime = [l["data"] for l in layers.get("layers", [])
               if l.get("kind") == "runtime"]
    check("the pushed document is the runtime layer, as pushed",
          runtime == [pushed], layers)
    _, _, served = get_json(d, "/config", auth())
    check("every pushed value is served as pushed (over file and env)",
          served.get("logging") == pushed["logging"]
          and served.get("buffer_size") == 2048
          and served.get("timeouts", {}).get("connect_ms") == 1500
          and served.get("features", {}).get("beta_ui") is True, served)
    check("a path pushed as null is removed", "sample_rate" not in served,
          served)
    check("a path the push leaves out is served from the layers below",
          served.get("database") == before.get("database")
          and served.get("timeouts", {}).get("read_ms") == 5000
          and served.get("features", {}).get("new_algorithm") is False,
          served)

    # A second push replaces the first: what it leaves out comes back from
    # below (the env's connect_ms, the file's sample_rate).
    doc2 = write(os.path.join(workdir, "second.json"),
                 json.dumps({"buffer_size": 4096}))
    code, out, err = cfgctl(ctl, d, "push", doc2)
    _, _, served = get_json(d, "/config", auth())
    check("a second push (JSON) replaces the first",
          code == 0 and served.get("buffer_size") == 4096
          and served.get("timeouts", {}).get("connect_ms") == 3000
          and served.get("sample_rate") == 0.1
          and served.get("logging", {}).get("level") == "INFO",
          f"{code} {err!r} {served}")

    # Invalid: every reason, nothing changed. 2048/DEBUG passed above;
    # -204/LOUD have their lengths.
    _, _, v_before = get_json(d, "/healthz")
    bad = write(os.path.join(workdir, "bad.yaml"),
                "logging:\n  level: LOUD\nbuffer_size: -204\n")
    code, out, err = cfgctl(ctl, d, "push", bad)
    _, _, v_after = get_json(d, "/healthz")
    check("an invalid push is refused (exit 1) naming every reason",
          code == 1 and "buffer_size" in err and "logging.level" in err,
          f"{code} {out!r} {err!r}")
    check("an invalid push changes nothing",
          v_after.get("version") == v_before.get("version"),
          f"{v_before} {v_after}")
    code, out, err = cfgctl(ctl, d, "--dry-run", "push", doc)
    _, _, v_dry = get_json(d, "/healthz")
    check("cfgctl --dry-run push shows the diff and commits nothing",
          code == 0 and "dry run: accepted" in out
          and "buffer_size: 4096 -> 2048" in out
          and v_dry.get("version") == v_before.get("version"),
          f"{code} {out!r} {err!r}")

    # A parse error names file:line:column and sends nothing.
    broken = write(os.path.join(workdir, "broken.yaml"),
                   "logging:\n  level: DEBUG\n  format: [json\n")
    code, out, err = cfgctl(ctl, d, "push", broken)
    check("a malformed file is named with line and column (exit 2)",
          code == 2 and broken + ":" in err
          and any(ch.isdigit() for ch in err.split(broken + ":")[1][:6]),
          f"{code} {err!r}")
    code, _, err = cfgctl(ctl, d, "push", write(
        os.path.join(workdir, "list.json"), "[1, 2]"))
    check("a document that is not a mapping is refused before sending",
          code == 2 and "mapping" in err, f"{code} {err!r}")

    # A wrong token of the right length.
    wrong = ALICE[:-1] + ("0" if ALICE[-1] != "0" else "1")
    code, out, err = cfgctl(ctl, d, "push", doc, token=wrong)
    _, _, v_tok = get_json(d, "/healthz")
    check("a wrong token of the right length is refused (exit 4: auth)",
          code == 4 and v_tok.get("version") == v_before.get("version"),
          f"{code} {err!r}")

    # The library client, as the seed's RemoteConfig uses it.
    if example:
        env = dict(os.environ, CFGD_URL=d.url, CFGD_TOKEN=ALICE)
        res = subprocess.run([example], capture_output=True, text=True,
                             timeout=60, env=env)
        check("the push_config example against this cfgd prints example ok",
              res.returncode == 0 and res.stdout.strip().endswith(
                  "example ok"), f"{res.returncode} {res.stdout!r} "
                                 f"{res.stderr!r}")
        env["CFGD_TOKEN"] = wrong
        res = subprocess.run([example], capture_output=True, text=True,
                             timeout=60, env=env)
        check("the push_config example with a wrong token fails naming 401",
              res.returncode != 0 and "401" in res.stdout + res.stderr,
              f"{res.returncode} {res.stdout!r} {res.stderr!r}")
    d.stop()


def main():
    cfgd, ctl, source = sys.argv[1:4]
    example = sys.argv[4] if len(sys.argv) > 4 else None
    return run_sections("cfgd-push-", [
        lambda w: section_push(cfgd, ctl, source, example, w)])


if __name__ == "__main__":
    sys.exit(main())
