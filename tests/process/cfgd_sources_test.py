#!/usr/bin/env python3
"""Process test of cfgd's sources: watched files, the environment, and a
second cfgd polled over HTTP.

Usage: cfgd_sources_test.py CFGD_BINARY SOURCE_DIR

Real files are rewritten on disk in the four ways editors and Kubernetes do
it; each rewrite must make exactly one new version. A broken file keeps the
old values and is reported with its line and column; fixing it recovers.
"""

import os
import sys
import time

from cfgd_harness import (check, daemon, get_json, run_sections, run_to_exit,
                          write)

WAIT = 20      # seconds a change may take to show (a loaded CI machine)
QUIET = 1.0    # seconds without a further version after a change settled
DEBOUNCE = "50"


def config_yaml(buffer_size, level="INFO", extra=""):
    return (f"logging:\n  level: {level}\n  format: text\n"
            f"buffer_size: {buffer_size}\n"
            f"features:\n  new_algorithm: false\n{extra}")


def version(d):
    status, hdrs, _ = get_json(d, "/config")
    return int(hdrs.get("X-Config-Version", "0")) if status == 200 else None


def wait_for(d, path, want):
    """Polls GET /config/<path> until it equals `want`; returns the value."""
    deadline = time.monotonic() + WAIT
    value = None
    while time.monotonic() < deadline:
        status, _, value = get_json(d, "/config/" + path)
        if status == 200 and value == want:
            return value
        time.sleep(0.05)
    return value


def source(d, kind):
    _, _, body = get_json(d, "/sources")
    for s in (body or {}).get("sources", []):
        if s.get("kind") == kind:
            return s
    return {}


def wait_source(d, kind, pred):
    deadline = time.monotonic() + WAIT
    s = {}
    while time.monotonic() < deadline:
        s = source(d, kind)
        if pred(s):
            return s
        time.sleep(0.05)
    return s


def expect_one_version(d, name, before, path, want):
    """The change shows, makes exactly one version, and no more follow."""
    got = wait_for(d, path, want)
    check(f"{name}: {path} becomes {want!r}", got == want, f"got {got!r}")
    time.sleep(QUIET)
    after = version(d)
    check(f"{name}: exactly one new version", after == before + 1,
          f"{before} -> {after}")
    return after


# -- one watched file, rewritten in three ways --------------------------------

def test_rewrites(binary, source_dir, workdir):
    schema = os.path.join(source_dir, "examples", "schema.json")
    cfg_dir = os.path.join(workdir, "plain")
    os.mkdir(cfg_dir)
    path = write(os.path.join(cfg_dir, "app.yaml"), config_yaml(1000))
    local = os.path.join(cfg_dir, "local.yaml")  # optional, absent at start
    d = daemon(binary, ["--http", "127.0.0.1:0", "--schema", schema,
                        "--file", path, "--file", "?" + local,
                        "--watch-debounce-ms", DEBOUNCE], workdir)
    if not d.wait_listening():
        return
    v = version(d)
    s = source(d, "file")
    check("GET /sources lists the file source as ok",
          s.get("state") == "ok" and s.get("layer") == "file:" + path, repr(s))

    # 1. Write in place: truncate and write the same inode.
    with open(path, "w") as f:
        f.write(config_yaml(2001))
    v = expect_one_version(d, "write in place", v, "buffer_size", 2001)

    # 2. Write a temporary file and rename it over (what editors do).
    tmp = write(os.path.join(cfg_dir, ".app.yaml.swp"), config_yaml(2002))
    os.rename(tmp, path)
    v = expect_one_version(d, "write then rename", v, "buffer_size", 2002)

    # 3. Delete, then create anew.
    os.unlink(path)
    write(path, config_yaml(2003))
    v = expect_one_version(d, "delete and recreate", v, "buffer_size", 2003)

    # Same content again, and a bare touch: no version.
    write(path, config_yaml(2003))
    os.utime(path)
    time.sleep(QUIET)
    check("rewriting identical content makes no version", version(d) == v,
          f"{v} -> {version(d)}")

    # A broken file: the old values stay, the error names line and column.
    write(path, "logging:\n  level: INFO\n buffer_size: [1, 2\n")
    s = wait_source(d, "file", lambda s: s.get("state") == "degraded")
    err = s.get("last_error", "")
    check("a broken file degrades the file source", s.get("state") == "degraded",
          repr(s))
    check("the error names the file, line and column",
          path + ":" in err and any(c.isdigit() for c in err.split(path)[-1]),
          repr(err))
    _, _, size = get_json(d, "/config/buffer_size")
    check("a broken file keeps the old values and version",
          size == 2003 and version(d) == v, f"{size} v{version(d)}")

    # Fixing it recovers.
    write(path, config_yaml(2004))
    v = expect_one_version(d, "fixing the file", v, "buffer_size", 2004)
    s = source(d, "file")
    check("the fixed file makes the source ok again", s.get("state") == "ok",
          repr(s))

    # A value the schema refuses: rejected, nothing changes.
    write(path, config_yaml(2005, level="LOUD"))
    s = wait_source(d, "file", lambda s: s.get("rejected", 0) >= 1)
    check("a file the schema refuses is rejected",
          s.get("rejected", 0) >= 1 and "logging.level" in
          s.get("last_error", ""), repr(s))
    _, _, level = get_json(d, "/config/logging.level")
    check("the refused file changes nothing",
          level == "INFO" and version(d) == v, f"{level} v{version(d)}")
    write(path, config_yaml(2004))  # back to the accepted content

    # The optional file appears: its layer wins over the first file.
    write(local, "logging:\n  level: DEBUG\n")
    got = wait_for(d, "logging.level", "DEBUG")
    check("an optional file that appears later is picked up", got == "DEBUG",
          repr(got))
    check("stop with exit code 0", d.stop() == 0)


# -- a Kubernetes ConfigMap volume: ..data symlink swap -----------------------

def test_configmap(binary, source_dir, workdir):
    schema = os.path.join(source_dir, "examples", "schema.json")
    vol = os.path.join(workdir, "configmap")
    os.mkdir(vol)

    def publish(stamp, text):
        """Writes a new timestamped dir and swaps ..data to it atomically."""
        tsdir = os.path.join(vol, f"..2026_11_25_{stamp}")
        os.mkdir(tsdir)
        write(os.path.join(tsdir, "app.yaml"), text)
        os.symlink(os.path.basename(tsdir), os.path.join(vol, "..data_tmp"))
        os.rename(os.path.join(vol, "..data_tmp"), os.path.join(vol, "..data"))

    publish("01", config_yaml(3001))
    os.symlink("..data/app.yaml", os.path.join(vol, "app.yaml"))
    d = daemon(binary, ["--http", "127.0.0.1:0", "--schema", schema,
                        "--file", os.path.join(vol, "app.yaml"),
                        "--watch-debounce-ms", DEBOUNCE], workdir)
    if not d.wait_listening():
        return
    v = version(d)
    _, _, size = get_json(d, "/config/buffer_size")
    check("a ConfigMap-style file is read through its symlinks", size == 3001,
          repr(size))
    publish("02", config_yaml(3002))
    expect_one_version(d, "..data symlink swap", v, "buffer_size", 3002)
    check("stop with exit code 0", d.stop() == 0)


# -- the environment ----------------------------------------------------------

def test_env(binary, source_dir, workdir):
    schema = os.path.join(source_dir, "examples", "schema.json")
    cfg = write(os.path.join(workdir, "env-base.yaml"), config_yaml(1000))
    secret_value = "s3cr3t-db-password-7731"
    secret = write(os.path.join(workdir, "db-password"), secret_value + "\n")
    env = dict(os.environ)
    env.update({"CFGT_BUFFER_SIZE": "4096",
                "CFGT_LOGGING__LEVEL": "WARNING",
                "CFGT_DATABASE__PASSWORD": "file://" + secret})
    d = daemon(binary, ["--http", "127.0.0.1:0", "--schema", schema,
                        "--file", cfg, "--env-prefix", "CFGT_"], workdir,
               env=env)
    if not d.wait_listening():
        return
    _, _, value = get_json(d, "/config")
    check("CFGT_BUFFER_SIZE=4096 becomes the integer buffer_size",
          value.get("buffer_size") == 4096, repr(value.get("buffer_size")))
    check("CFGT_LOGGING__LEVEL nests into logging.level",
          value.get("logging", {}).get("level") == "WARNING", repr(value))
    check("a file:// secret is read, and masked without a secrets token",
          value.get("database", {}).get("password") == "***", repr(value))
    s = source(d, "env")
    check("GET /sources lists the env source as ok", s.get("state") == "ok",
          repr(s))
    d.stop()
    check("the secret's value is not in cfgd's log",
          secret_value not in d.stderr(), "found in stderr")

    # A secret the schema refuses stops cfgd at start, without showing it.
    bad_value = "LOUD-secret-9921"
    bad = write(os.path.join(workdir, "bad-level"), bad_value)
    env["CFGT_LOGGING__LEVEL"] = "file://" + bad
    code, err = run_to_exit(binary, ["--http", "127.0.0.1:0", "--schema",
                                     schema, "--file", cfg, "--env-prefix",
                                     "CFGT_"], env=env)
    check("a refused env value exits 1 naming the path",
          code == 1 and "logging.level" in err, f"exit {code}: {err}")
    check("the refused secret's value is not printed", bad_value not in err,
          err)
    empty = write(os.path.join(workdir, "empty-secret"), "")
    env["CFGT_LOGGING__LEVEL"] = "file://" + empty
    code, err = run_to_exit(binary, ["--http", "127.0.0.1:0", "--schema",
                                     schema, "--file", cfg, "--env-prefix",
                                     "CFGT_"], env=env)
    check("an empty secret file exits 1 naming the variable and file",
          code == 1 and "CFGT_LOGGING__LEVEL" in err and empty in err,
          f"exit {code}: {err}")


def test_env_mapping(binary, source_dir, workdir):
    """The seed's names: PROVIDE_ prefix, explicit name -> path mappings."""
    schema = os.path.join(source_dir, "examples", "schema.json")
    cfg = write(os.path.join(workdir, "env-map.yaml"), config_yaml(1000))
    env = dict(os.environ)
    env.update({"PROVIDE_LOG_LEVEL": "DEBUG",
                "LOG_FORMAT": "json",
                "PROVIDE_BUFFER_SIZE": "4096",
                "PROVIDE_TIMEOUTS__CONNECT_MS": "250"})
    base = ["--http", "127.0.0.1:0", "--schema", schema, "--file", cfg,
            "--env-prefix", "PROVIDE_"]
    maps = ["--env-map", "PROVIDE_LOG_LEVEL=logging.level",
            "--env-map", "LOG_FORMAT=logging.format"]
    d = daemon(binary, base + maps + ["--env-separator", "__",
                                      "--env-case", "lower"], workdir, env=env)
    if not d.wait_listening():
        return
    _, _, value = get_json(d, "/config")
    logging = value.get("logging", {})
    check("--env-map PROVIDE_LOG_LEVEL=logging.level sets logging.level",
          logging.get("level") == "DEBUG", repr(value))
    check("a mapped name without the prefix is read (LOG_FORMAT)",
          logging.get("format") == "json", repr(value))
    check("unmapped names follow the prefix rule",
          value.get("buffer_size") == 4096
          and value.get("timeouts", {}).get("connect_ms") == 250, repr(value))
    check("mapping stops with exit code 0", d.stop() == 0)

    # Without the mapping the same variable spells another path.
    d = daemon(binary, base, workdir, env=env)
    if not d.wait_listening():
        return
    _, _, value = get_json(d, "/config")
    check("without --env-map PROVIDE_LOG_LEVEL is log_level",
          value.get("log_level") == "DEBUG"
          and value.get("logging", {}).get("level") == "INFO", repr(value))
    d.stop()

    # A single `_` separator nests every word.
    env2 = dict(os.environ)
    env2["PROVIDE_TIMEOUTS_CONNECT"] = "300"
    d = daemon(binary, ["--http", "127.0.0.1:0", "--schema", schema, "--file",
                        cfg, "--env-prefix", "PROVIDE_", "--env-separator",
                        "_"], workdir, env=env2)
    if not d.wait_listening():
        return
    got = wait_for(d, "timeouts.connect", 300)
    check("--env-separator _ nests PROVIDE_TIMEOUTS_CONNECT", got == 300,
          repr(got))
    d.stop()

    # Refused settings stop cfgd at once with exit code 2, naming them;
    # each refused input has an accepted twin of the same shape above.
    refusals = [
        (["--env-map", "PROVIDE_A=a.b", "--env-map", "PROVIDE_B=a.b"],
         "PROVIDE_A and PROVIDE_B both map to 'a.b'"),
        (["--env-map", "PROVIDE_A=a[0]"], "names an index"),
        (["--env-map", "PROVIDE_A=a..b"], "'a..b' is not a path"),
        (["--env-map", "PROVIDE_A"], "expected NAME=PATH"),
        (["--env-separator", ""], "the separator is empty"),
        (["--env-case", "upper"], "--env-case"),
    ]
    for extra, want in refusals:
        code, err = run_to_exit(binary, base + extra, env=env)
        check(f"{' '.join(extra)!r} is refused: {want}",
              code == 2 and want in err, f"exit {code}: {err}")
    code, err = run_to_exit(binary, ["--http", "127.0.0.1:0", "--file", cfg,
                                     "--env-map", "A=a"], env=env)
    check("--env-map without --env-prefix is refused",
          code == 2 and "need --env-prefix" in err, f"exit {code}: {err}")


# -- a second cfgd polling the first over HTTP --------------------------------

def test_remote(binary, source_dir, workdir):
    schema = os.path.join(source_dir, "examples", "schema.json")
    upstream_file = write(os.path.join(workdir, "upstream.yaml"),
                          config_yaml(5001, level="DEBUG"))
    up = daemon(binary, ["--http", "127.0.0.1:0", "--schema", schema,
                         "--file", upstream_file, "--watch-debounce-ms",
                         DEBOUNCE], workdir)
    if not up.wait_listening():
        return
    local = write(os.path.join(workdir, "downstream.yaml"), config_yaml(1000))
    down = daemon(binary, ["--http", "127.0.0.1:0", "--schema", schema,
                           "--file", local, "--remote", up.url,
                           "--remote-interval-ms", "100"], workdir)
    if not down.wait_listening():
        return
    got = wait_for(down, "buffer_size", 5001)
    check("the downstream cfgd takes the upstream's config as its remote "
          "layer", got == 5001, repr(got))
    v = version(down)
    time.sleep(QUIET)  # about ten polls, all answered 304
    s = source(down, "http")
    check("unchanged polls (304) make no version",
          version(down) == v and s.get("state") == "ok", f"{s}")
    write(upstream_file, config_yaml(5002, level="DEBUG"))
    expect_one_version(down, "an upstream file change", v, "buffer_size", 5002)

    # The upstream dies: the downstream keeps its last good config.
    up.stop()
    s = wait_source(down, "http", lambda s: s.get("state") == "degraded")
    check("a dead upstream degrades the http source",
          s.get("state") == "degraded" and s.get("last_error"), repr(s))
    _, _, size = get_json(down, "/config/buffer_size")
    check("the downstream keeps the last good config", size == 5002,
          repr(size))
    # It comes back on the same address: the downstream recovers.
    write(upstream_file, config_yaml(5003, level="DEBUG"))
    port = up.url.rsplit(":", 1)[1]
    up2 = daemon(binary, ["--http", "127.0.0.1:" + port, "--schema", schema,
                          "--file", upstream_file], workdir)
    if not up2.wait_listening():
        return
    got = wait_for(down, "buffer_size", 5003)
    check("the downstream recovers when the upstream is back", got == 5003,
          repr(got))
    s = source(down, "http")
    check("the http source is ok again", s.get("state") == "ok", repr(s))
    check("downstream stops with exit code 0", down.stop() == 0)
    up2.stop()


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, source_dir = os.path.abspath(sys.argv[1]), sys.argv[2]
    return run_sections("cfgd-sources-", [
        lambda w, t=t: t(binary, source_dir, w)
        for t in (test_rewrites, test_configmap, test_env, test_env_mapping,
                  test_remote)])

if __name__ == "__main__":
    sys.exit(main())
