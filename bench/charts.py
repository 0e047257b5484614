#!/usr/bin/env python3
"""Charts of the benchmark tables in docs/BENCHMARKS.md, one SVG per table.

usage: bench/charts.py IN OUT_DIR

IN is a directory of bench outputs (every *.txt in it) or one such file: the
text a bench printed, as pasted in docs/BENCHMARKS.md (lines before its
column header and after the blank line that ends its rows are free text).
The file's name says which bench printed it: <kind>.txt or
<kind>-<variant>.txt, kind one of propagation, cluster_writes, reads,
pipeline, subscribers, catch_up, journal.
OUT_DIR/<name>.svg is written for IN's <name>.txt.

Every input is read before any chart is written. A header that is not the
bench's, a row with a missing or extra column or a value that is not a number
stops the script with FILE:LINE and what is wrong; nothing is charted from a
table that could not be read. The SVGs are the same bytes from one run to the
next (fixed hash salt, no date). Needs Debian's python3-matplotlib.
"""

import importlib.util
import math
import re
import sys
from pathlib import Path


class TableError(Exception):
    def __init__(self, path, line, message):
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")


# Column types: how the bench writes a value, and what to call it.
INT = (re.compile(r"\d+$"), "an integer")
NUMBER = (re.compile(r"\d+(\.\d+)?$"), "a number")
NUMBER_OR_DASH = (re.compile(r"(\d+(\.\d+)?|-)$"), "a number or -")
INT_OR_DASH = (re.compile(r"(\d+|-)$"), "an integer or -")
TIMES = (re.compile(r"\d+(\.\d+)?x$"), "a number and x, like 29.2x")
CATCH_UP_PATH = (re.compile(r"(patch|full)$"), "patch or full", "word")


class Table:
    """A bench's table: its columns and rows, and the free text around it."""

    def __init__(self, path, columns, rows, unmeasured, preamble):
        self.path = path
        self.columns = columns  # names, as in the header
        self.rows = rows  # (line number, {column: str | float})
        self.unmeasured = unmeasured  # "label N: why", rows without figures
        self.preamble = preamble  # lines before the header

    def host(self):
        """The bench's 'host: ...' line, when the paste kept it."""
        for line in self.preamble:
            if line.startswith("host: "):
                return line[len("host: "):]
        return None


def read_table(path, headers, types, unmeasured_row):
    """Reads the one table in path.

    headers: the header lines the bench has printed (tuples of column names,
    newest first; the first column is the row's label, which may have
    spaces); types: column name -> (regex of its values, what to call them);
    unmeasured_row: regex of the lines the bench prints for a run without
    figures (skipped or failed: groups label, x and why), which chart no
    point but are listed under the chart, or of lines that explain the row
    above (no label).
    """
    lines = path.read_text().split("\n")
    starts = {h[0].split()[0] for h in headers}
    header_at, columns = None, None
    for i, line in enumerate(lines):
        words = line.split()
        if not words or words[0] not in starts:
            continue
        for h in headers:
            if words == " ".join(h).split():
                header_at, columns = i, h
                break
        if columns is None:
            expected = " or ".join(repr("  ".join(h)) for h in headers)
            raise TableError(path, i + 1,
                             f"not the bench's header; expected {expected}")
        break
    if columns is None:
        raise TableError(path, 0, "no header line "
                         f"{'  '.join(headers[0])!r} found")

    rows, unmeasured = [], []
    for i in range(header_at + 1, len(lines)):
        line, number = lines[i], i + 1
        if not line.strip():
            break
        if m := unmeasured_row.match(line):
            if m["label"]:  # not the line under a row that says why
                unmeasured.append(f"{m['label']} at {m['x']}: {m['why']}")
            continue
        rows.append((number, split_row(path, number, line, columns, types)))
    if not rows:
        raise TableError(path, header_at + 1,
                         "the header has no measured row below it")
    return Table(path, columns, rows, unmeasured, lines[:header_at])


def split_row(path, number, line, columns, types):
    """A row's values by column; the label runs up to the first token that
    starts with a digit (names like 'shared_mutex + unordered_map')."""
    tokens = line.split()
    first = next((k for k, t in enumerate(tokens) if k and t[0].isdigit()),
                 len(tokens))
    fields = [" ".join(tokens[:first])] + tokens[first:]
    if len(fields) != len(columns):
        raise TableError(path, number, f"{len(fields)} columns, the header "
                         f"has {len(columns)} ({' | '.join(columns)})")
    row = {columns[0]: fields[0]}
    for name, text in zip(columns[1:], fields[1:]):
        pattern, what = types[name][:2]
        if not pattern.match(text):
            raise TableError(path, number,
                             f"column {name!r}: {text!r} is not {what}")
        if len(types[name]) > 2:  # a word column: kept as text
            row[name] = text
        else:
            row[name] = float(text.rstrip("x")) if text != "-" else None
    return row


def series(table, label, x, *ys):
    """{label: [(x, y...), ...] sorted by x}; one row per label and x."""
    out = {}
    for number, row in table.rows:
        points = out.setdefault(row[label], [])
        if any(p[0] == row[x] for p in points):
            raise TableError(table.path, number,
                             f"a second row for {row[label]} at {x} = "
                             f"{row[x]:g}")
        points.append((row[x],) + tuple(row[y] for y in ys))
    for label_points in out.values():
        label_points.sort()
    return out


def check_order(table, low, high):
    for number, row in table.rows:
        if row[low] > row[high]:
            raise TableError(table.path, number,
                             f"{low} {row[low]:g} above {high} {row[high]:g}")


# --- one function per table kind: read it, then chart it ---------------------

PROPAGATION_TYPES = {"N": INT, "flips": INT, "lost": INT, "p50 us": NUMBER,
                     "p90 us": NUMBER, "p99 us": NUMBER,
                     "p50/caf": NUMBER_OR_DASH, "etcd/p50": NUMBER_OR_DASH,
                     "p50/etcd": NUMBER_OR_DASH}
PROPAGATION_HEADER = ("system", "N", "flips", "lost", "p50 us", "p90 us",
                      "p99 us", "p50/caf", "etcd/p50")


def propagation(path):
    """bench/propagation: p50 and p99 of a flip's latency to all N workers,
    against N, a line per system."""
    table = read_table(
        path, [PROPAGATION_HEADER + ("p50/etcd",), PROPAGATION_HEADER],
        PROPAGATION_TYPES,
        re.compile(r"(?P<label>\S+)\s+(?P<x>\d+)\s+(?P<why>skipped|failed|"
                   r"\d+\s+\d+\s+no flip reached all workers)\b.*$"))
    check_order(table, "p50 us", "p99 us")
    by_system = series(table, "system", "N", "p50 us", "p99 us")

    def draw(fig):
        ax = fig.add_subplot()
        lines_per_label(ax, by_system)
        log_axes(ax, x_base=2)
        ax.set_xlabel("N (worker processes)")
        ax.set_ylabel("latency until all N workers have the flip (µs)")
        ax.legend(fontsize="small", title="solid p50, faint p99",
                  title_fontsize="small")
        fig.suptitle(f"{path.stem}: flip latency vs N\n{caveat(table)}",
                     fontsize="medium")

    return draw


def cluster_writes(path):
    """bench/cluster_writes: commit latency (p50, p99) and throughput against
    the number of writers, a line per mode."""
    table = read_table(
        path,
        [("mode", "W", "writes", "failed", "p50 ms", "p99 ms", "writes/s",
          "p50 x sa", "w/s x sa", "cas confl")],
        {"W": INT, "writes": INT, "failed": INT, "p50 ms": NUMBER,
         "p99 ms": NUMBER, "writes/s": NUMBER, "p50 x sa": NUMBER_OR_DASH,
         "w/s x sa": NUMBER_OR_DASH, "cas confl": INT_OR_DASH},
        re.compile(r"(?P<label>\S+)\s+(?P<x>\d+)\s+(?P<why>failed|\d+\s+"
                   r"\d+\s+no write committed)\b.*$|\s+first failure: .*$"))
    check_order(table, "p50 ms", "p99 ms")
    latencies = series(table, "mode", "W", "p50 ms", "p99 ms")
    throughputs = series(table, "mode", "W", "writes/s")

    def draw(fig):
        latency, throughput = fig.subplots(1, 2)
        lines_per_label(latency, latencies)
        log_axes(latency, x_base=2)
        latency.set_xlabel("W (writer threads)")
        latency.set_ylabel("commit latency of a set() (ms)")
        latency.legend(fontsize="small", title="solid p50, faint p99",
                       title_fontsize="small")
        lines_per_label(throughput, throughputs)
        log_axes(throughput, x_base=2, y_log=False)
        throughput.set_ylim(bottom=0)
        throughput.set_xlabel("W (writer threads)")
        throughput.set_ylabel("throughput (committed writes/s)")
        fig.suptitle(f"{path.stem}: commit latency and throughput vs writers"
                     f"\n{caveat(table)}", fontsize="medium")

    return draw


def reads(path):
    """bench/reads: reader CPU time per read against reader threads, a line
    per contender."""
    table = read_table(
        path,
        [("contender", "readers", "ns/read", "vs baseline", "commits/s")],
        {"readers": INT, "ns/read": NUMBER, "vs baseline": TIMES,
         "commits/s": NUMBER},
        re.compile(r"(?!)"))  # the bench prints no row without figures
    by_contender = series(table, "contender", "readers", "ns/read")

    def draw(fig):
        ax = fig.add_subplot()
        lines_per_label(ax, by_contender)
        log_axes(ax, x_base=None)
        ax.set_xlabel("reader threads")
        ax.set_ylabel("reader CPU time per read (ns)")
        ax.legend(fontsize="small")
        fig.suptitle(f"{path.stem}: cost of one read vs readers, "
                     f"a commit every ms\n{caveat(table)}", fontsize="medium")

    return draw


def pipeline(path):
    """bench/pipeline: the time of a one-key commit against the config's
    size, for the actors with 1 and 1,000 subscribers and the baseline."""
    table = read_table(
        path,
        [("keys", "subscribers", "commits", "actors/s", "(range)",
          "baseline/s", "ratio", "tree copies", "peak MiB"),
         ("keys", "subscribers", "commits", "actors/s", "baseline/s",
          "ratio")],
        {"subscribers": INT, "commits": INT, "actors/s": NUMBER,
         "(range)": (re.compile(r"\(\d+-\d+\)$"), "a range like (100-200)",
                     "word"),
         "baseline/s": NUMBER, "ratio": NUMBER, "tree copies": INT,
         "peak MiB": NUMBER},
        re.compile(r"(?!)"))  # the bench prints no row without figures
    lines = {}
    for number, row in table.rows:
        if not re.fullmatch(r"\d+", row["keys"]):
            raise TableError(path, number,
                             f"column 'keys': {row['keys']!r} is not an "
                             "integer")
        keys = float(row["keys"])
        label = f"actors, {row['subscribers']:g} subscriber(s)"
        points = lines.setdefault(label, [])
        if any(p[0] == keys for p in points):
            raise TableError(path, number, f"a second row for {label} at "
                             f"keys = {keys:g}")
        points.append((keys, 1000.0 / row["actors/s"]))
        base = lines.setdefault("baseline (one thread, no actors)", [])
        if not any(p[0] == keys for p in base):
            base.append((keys, 1000.0 / row["baseline/s"]))
    for points in lines.values():
        points.sort()

    def draw(fig):
        ax = fig.add_subplot()
        lines_per_label(ax, lines)
        log_axes(ax, x_base=10)
        ax.set_xlabel("keys in the config")
        ax.set_ylabel("time per one-key commit (ms)")
        ax.legend(fontsize="small")
        fig.suptitle(f"{path.stem}: one-key commit vs config size\n"
                     f"{caveat(table)}", fontsize="medium")

    return draw


def subscribers(path):
    """bench/subscribers: time from a write to the last of N subscribers,
    and memory per subscriber, against N, a line per system."""
    table = read_table(
        path,
        [("system", "subscribers", "p50 ms", "max ms", "commit ms", "B/sub",
          "p50/caf", "mem/caf")],
        {"subscribers": INT, "p50 ms": NUMBER, "max ms": NUMBER,
         "commit ms": NUMBER_OR_DASH, "B/sub": NUMBER,
         "p50/caf": NUMBER_OR_DASH, "mem/caf": NUMBER_OR_DASH},
        re.compile(r"(?P<label>\S+)\s+(?P<x>\d+)\s+(?P<why>failed)\b.*$"))
    check_order(table, "p50 ms", "max ms")
    times = series(table, "system", "subscribers", "p50 ms", "max ms")
    memory = series(table, "system", "subscribers", "B/sub")

    def draw(fig):
        time, mem = fig.subplots(1, 2)
        lines_per_label(time, times)
        log_axes(time, x_base=10)
        time.set_xlabel("subscribers")
        time.set_ylabel("write -> last subscriber (ms)")
        time.legend(fontsize="small", title="solid p50, faint max",
                    title_fontsize="small")
        lines_per_label(mem, memory)
        log_axes(mem, x_base=10, y_log=False)
        mem.set_ylim(bottom=0)
        mem.set_xlabel("subscribers")
        mem.set_ylabel("RSS per subscriber (bytes)")
        fig.suptitle(f"{path.stem}: one change to N subscribers\n"
                     f"{caveat(table)}", fontsize="medium")

    return draw


def catch_up(path):
    """bench/catch_up: time until a replica has the newest version, a bar
    per case."""
    table = read_table(
        path,
        [("case", "missed", "history", "catch-up ms", "x base", "RSS MiB",
          "path")],
        {"missed": INT, "history": INT, "catch-up ms": NUMBER,
         "x base": NUMBER_OR_DASH, "RSS MiB": INT,
         "path": CATCH_UP_PATH},
        re.compile(r"(?P<label>\S+)\s+(?P<x>\d+)\s+\d+\s+"
                   r"(?P<why>failed)\b.*$"))
    cases = [(row["case"], row["catch-up ms"], row["path"])
             for _, row in table.rows]

    def draw(fig):
        ax = fig.add_subplot()
        ys = range(len(cases))
        ax.barh(ys, [c[1] for c in cases],
                color=["C0" if c[2] == "patch" else "C1" for c in cases])
        ax.set_yticks(ys, [f"{c[0]} ({c[2]})" for c in cases])
        ax.invert_yaxis()
        ax.set_xlabel("port open again -> replica has the newest (ms)")
        ax.grid(True, axis="x", alpha=0.3)
        fig.suptitle(f"{path.stem}: a replica catching up\n{caveat(table)}",
                     fontsize="medium")

    return draw


def journal(path):
    """bench/journal: journaled commits per second against the number of
    writers, a line per system (etcd's put rate among them)."""
    table = read_table(
        path, [("system", "W", "commits/s", "failed", "x etcd")],
        {"W": INT, "commits/s": NUMBER, "failed": INT,
         "x etcd": NUMBER_OR_DASH},
        re.compile(r"(?P<label>\S.*?)\s+(?P<x>\d+)\s+(?P<why>skipped|"
                   r"failed)\b.*$"))
    by_system = series(table, "system", "W", "commits/s")

    def draw(fig):
        ax = fig.add_subplot()
        lines_per_label(ax, by_system)
        log_axes(ax, x_base=2)
        ax.set_xlabel("W (concurrent writers)")
        ax.set_ylabel("durable commits per second")
        ax.legend(fontsize="small")
        fig.suptitle(f"{path.stem}: commits/s vs writers\n{caveat(table)}",
                     fontsize="medium")

    return draw


KINDS = {"propagation": propagation, "cluster_writes": cluster_writes,
         "reads": reads, "pipeline": pipeline, "subscribers": subscribers,
         "catch_up": catch_up, "journal": journal}


# --- drawing helpers ---------------------------------------------------------

def caveat(table):
    machine = (f"host: {table.host()}" if table.host()
               else "machine: see docs/BENCHMARKS.md")
    text = f"one run ({machine}): compare the lines, not runs"
    if table.unmeasured:
        text += "\nnot measured: " + "; ".join(table.unmeasured)
    return text


def lines_per_label(ax, by_label):
    """A line per label through its first y; a faint dashed one through its
    second y when there is one (p99)."""
    for k, (label, points) in enumerate(by_label.items()):
        color = f"C{k % 10}"
        xs = [p[0] for p in points]
        ax.plot(xs, [p[1] for p in points], "o-", color=color, label=label)
        if len(points[0]) > 2:
            ax.plot(xs, [p[2] for p in points], "v--", color=color,
                    alpha=0.35, markersize=4)


def log_axes(ax, x_base, y_log=True):
    """Ticks at the measured x values, plain numbers on log axes."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    xs = sorted({x for line in ax.get_lines() for x in line.get_xdata()})
    if x_base:
        ax.set_xscale("log", base=x_base)
    else:
        pad = (xs[-1] - xs[0]) * 0.15 or 0.5
        ax.set_xlim(xs[0] - pad, xs[-1] + pad)
    ax.set_xticks(xs, [f"{x:g}" for x in xs])
    ax.xaxis.set_minor_formatter(NullFormatter())
    if y_log:
        ys = [y for line in ax.get_lines() for y in line.get_ydata()]
        ax.set_yscale("log")
        ax.set_ylim(step_125(min(ys) / 1.05, up=False),
                    step_125(max(ys) * 1.05, up=True))
        ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        ax.yaxis.set_major_formatter(FuncFormatter(
            lambda y, _: f"{y:,.{max(0, -math.floor(math.log10(y)))}f}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.grid(True, which="major", alpha=0.3)


def step_125(y, up):
    """The nearest of ..., 1, 2, 5, 10, 20, ... above or below y."""
    e = math.floor(math.log10(y))
    steps = [m * 10.0**k for k in (e - 1, e, e + 1) for m in (1, 2, 5)]
    return (min(s for s in steps if s >= y) if up
            else max(s for s in steps if s <= y))


def write_svg(draw, out):
    import matplotlib
    matplotlib.use("svg")
    import matplotlib.pyplot as plt
    # Same bytes on every run: ids from a fixed salt, no date in the file.
    matplotlib.rcParams["svg.hashsalt"] = "cfgactors-bench-charts"
    fig = plt.figure(figsize=(7.5, 4.8), layout="constrained")
    try:
        draw(fig)
        fig.savefig(out, format="svg", metadata={"Date": None})
    finally:
        plt.close(fig)


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: bench/charts.py IN OUT_DIR  (IN: a bench output "
                 "*.txt or a directory of them)")
    source, out_dir = Path(argv[1]), Path(argv[2])
    inputs = sorted(source.glob("*.txt")) if source.is_dir() else [source]
    if not inputs:
        sys.exit(f"charts.py: {source}: no *.txt bench output in it")
    try:
        charts = []
        for path in inputs:
            if not path.is_file():
                raise TableError(path, 0, "no such file")
            kind = path.stem.split("-", 1)[0]
            if kind not in KINDS:
                raise TableError(path, 0, f"unknown table kind {kind!r} (from "
                                 "the file name <kind>[-<variant>].txt; known:"
                                 f" {', '.join(sorted(KINDS))})")
            charts.append((path, KINDS[kind](path)))
    except TableError as e:
        sys.exit(f"charts.py: {e}")
    if importlib.util.find_spec("matplotlib") is None:
        sys.exit(f"charts.py: no matplotlib for {sys.executable}; install "
                 "Debian's python3-matplotlib (scripts/dev deps) and run "
                 "/usr/bin/python3 bench/charts.py")
    out_dir.mkdir(parents=True, exist_ok=True)
    for path, draw in charts:
        out = out_dir / f"{path.stem}.svg"
        write_svg(draw, out)
        print(f"{path} -> {out}")


if __name__ == "__main__":
    main(sys.argv)
