"""``make reliability``: the long reliability runs, then the figures table of RELIABILITY.md.

    python tests/reliability/run_all.py [--quick] [--no-write]

Runs, each bounded in time (the whole in about 15 minutes on 2 cores):

1. the long versions of tests/reliability (``MATTERHUB_RELIABILITY=1``, marker
   ``reliability``): access control property (many worlds), every API operation and the
   query languages fuzzed, every mutant of every real file through Connect, the SIGKILL
   crash loop, servable isolation rounds;
2. the checks that have no long version (security, crash fault points);
3. benchmarks/bench_load.py (32 clients, 60 s);

collects the figures each check recorded (``MATTERHUB_RELIABILITY_FIGURES``), and
rewrites the table between the markers in RELIABILITY.md.  ``--quick`` runs the short
versions and the quick load (a smoke test of this script).  Exit status 1 when a check
failed.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
REPORT = REPO / "RELIABILITY.md"
START, END = "<!-- figures:start -->", "<!-- figures:end -->"

#: (label, pytest arguments, time bound in seconds)
LONG_RUNS: list[tuple[str, list[str], int]] = [
    ("long runs", ["tests/reliability", "-m", "reliability"], 780),
    (
        "security and fault points",
        [
            "tests/reliability/test_security.py",
            "tests/reliability/test_public_paths.py",
            "tests/reliability/test_crash_loop.py::test_a_kill_at_each_step_loses_nothing",
            "-m",
            "not reliability",  # the other fault points are among the long runs
        ],
        300,
    ),
]
QUICK_RUNS: list[tuple[str, list[str], int]] = [("short runs", ["tests/reliability"], 600)]


def run_pytest(args: list[str], env: dict[str, str], bound: int) -> tuple[bool, str]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout", str(bound), *args]
    try:
        done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=bound + 120)
    except subprocess.TimeoutExpired:
        return False, f"did not finish within {bound + 120} s"
    tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
    return done.returncode == 0, tail


def run_load(quick: bool, bound: int = 300) -> tuple[bool, dict[str, Any], str]:
    cmd = [sys.executable, str(REPO / "benchmarks" / "bench_load.py"), *(["--quick"] if quick else [])]
    try:
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=bound)
    except subprocess.TimeoutExpired:
        return False, {}, f"did not finish within {bound} s"
    lines = done.stdout.strip().splitlines()
    try:
        figures = json.loads(lines[-1])
    except (IndexError, ValueError):
        return False, {}, (done.stdout + done.stderr)[-2000:]
    ok = done.returncode == 0 and figures.get("errors") == 0 and figures.get("server_alive", False)
    return ok, figures, "\n".join(lines[:-1])


def merge(figures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per check: numbers added up over its records, nested ones too (fault points: one record each)."""
    rows: dict[str, dict[str, Any]] = {}
    for f in figures:
        row = rows.setdefault(f["check"], {"check": f["check"]})
        for k, v in f.items():
            if k in ("check", "long"):
                continue
            if k == "point":
                row.setdefault("points", []).append(v)
            else:
                row[k] = _added(row.get(k), v)
    return list(rows.values())


def _added(old: Any, new: Any) -> Any:
    """``new`` added to ``old``: numbers summed, dicts key by key, anything else replaced."""
    if isinstance(new, dict):
        out = dict(old) if isinstance(old, dict) else {}
        for k, v in new.items():
            out[k] = _added(out.get(k), v)
        return out
    if isinstance(new, int | float) and not isinstance(new, bool):
        return (old if isinstance(old, int | float) else 0) + new
    return new


def _cell(row: dict[str, Any], *keys: str) -> str:
    parts = [f"{row[k]:,}" if isinstance(row[k], int) else str(row[k]) for k in keys if k in row]
    return " / ".join(parts) if parts else "-"


def table(rows: list[dict[str, Any]], load: dict[str, Any], results: list[tuple[str, bool]]) -> str:
    out = [
        "| check | cases tried | faults injected | load held | leaks / losses / unhandled found | details |",
        "| --- | ---: | ---: | --- | ---: | --- |",
    ]
    for row in rows:
        found = sum(int(row.get(k, 0)) for k in ("leaks", "losses", "unhandled", "server_errors", "orphans"))
        details = {
            k: v for k, v in row.items()
            if k not in ("check", "cases", "faults", "leaks", "losses", "unhandled", "server_errors", "endpoints")
        }  # fmt: skip
        text = ", ".join(
            f"{k.replace('_', ' ')}: {json.dumps(v) if isinstance(v, dict | list) else v}"
            for k, v in details.items()
        )
        out.append(
            f"| {row['check']} | {_cell(row, 'cases')} | {_cell(row, 'faults')} | - | {found} | {text} |"
        )
    if load:
        held = (
            f"{load['clients']} clients x {load['seconds']:.0f} s: {load['requests']:,} requests, "
            f"{load['rps']} req/s, p50 {load['p50_ms']} ms, p99 {load['p99_ms']} ms"
        )
        memory = (
            f"server RSS {load['rss_start_mb']} -> {load['rss_end_mb']} MB (peak {load['rss_peak_mb']}; "
            f"first half {load['rss_peak_first_half_mb']}, second half {load['rss_peak_second_half_mb']}); "
            f"with workers peak {load['rss_with_workers_peak_mb']} MB; "
            + ", ".join(
                f"{k} p50/p99 {load[f'{k}_p50_ms']}/{load[f'{k}_p99_ms']} ms"
                for k in ("search", "download", "run")
            )
        )
        out.append(
            f"| load (benchmarks/bench_load.py) | {load['requests']:,} | - | {held} | {load['errors']} errors | {memory} |"
        )
    for label, ok in results:
        out.append(f"| run: {label} | - | - | - | {'passed' if ok else '**FAILED**'} | |")
    for row in rows:
        if row.get("endpoints"):
            out += ["", f"{row['check']}, by operation:", "", *endpoint_table(row["endpoints"])]
    return "\n".join(out)


def endpoint_table(endpoints: dict[str, dict[str, int]]) -> list[str]:
    """One line per operation: the cases tried and how many got 2xx, 3xx, 4xx and 5xx; a total last."""
    lines = ["| operation | cases | 2xx | 3xx | 4xx | 5xx |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    total: dict[str, int] = {}
    for label, counts in sorted(endpoints.items()):
        cells = [counts.get(k, 0) for k in ("cases", "2xx", "3xx", "4xx", "5xx")]
        lines.append(f"| `{label}` | " + " | ".join(f"{n:,}" for n in cells) + " |")
        for k, n in zip(("cases", "2xx", "3xx", "4xx", "5xx"), cells, strict=True):
            total[k] = total.get(k, 0) + n
    share = f" ({100 * total['2xx'] / total['cases']:.0f}% 2xx)" if total.get("cases") else ""
    lines.append(
        f"| all{share} | "
        + " | ".join(f"{total.get(k, 0):,}" for k in ("cases", "2xx", "3xx", "4xx", "5xx"))
        + " |"
    )
    return lines


def machine() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        commit = "?"
    try:
        mem = next(
            line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
        )
        mem_gb = f"{int(mem.split()[1]) / 1024**2:.0f} GB"
    except (OSError, StopIteration):
        mem_gb = "?"
    return (
        f"{_dt.date.today().isoformat()}, commit {commit} (plus the working tree), {os.cpu_count()} cores, "
        f"{mem_gb} memory, {platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def write_report(block: str) -> None:
    text = REPORT.read_text() if REPORT.exists() else f"# Reliability\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text += f"\n{START}\n{END}\n"
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    REPORT.write_text(f"{head}{START}\n{block}\n{END}{tail}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="the short versions and the quick load")
    parser.add_argument("--no-write", action="store_true", help="print the table, leave RELIABILITY.md alone")
    args = parser.parse_args()
    t0 = time.monotonic()
    figures_file = Path(tempfile.mkstemp(prefix="reliability-", suffix=".jsonl")[1])
    env = {**os.environ, "MATTERHUB_RELIABILITY_FIGURES": str(figures_file)}
    if not args.quick:
        env["MATTERHUB_RELIABILITY"] = "1"
    results: list[tuple[str, bool]] = []
    for label, pytest_args, bound in QUICK_RUNS if args.quick else LONG_RUNS:
        print(f"== {label}: pytest {' '.join(pytest_args)}", flush=True)
        ok, tail = run_pytest(pytest_args, env, bound)
        print(tail, flush=True)
        results.append((label, ok))
    print("== load: benchmarks/bench_load.py" + (" --quick" if args.quick else ""), flush=True)
    ok, load, text = run_load(args.quick)
    print(text, flush=True)
    results.append(("load", ok))
    records = [json.loads(line) for line in figures_file.read_text().splitlines() if line.strip()]
    figures_file.unlink(missing_ok=True)
    minutes = (time.monotonic() - t0) / 60
    block = (
        f"Last run: {machine()}; {'quick' if args.quick else 'full'} run, {minutes:.1f} minutes.\n\n"
        + table(merge(records), load, results)
    )
    print(block)
    if not args.no_write:
        write_report(block)
        print(f"written to {REPORT}")
    return 0 if all(ok for _, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
