"""``make studies``: every figure of the three science studies, from the code at HEAD.

Runs each study's benchmark (``bench_atomization.py``, ``bench_cdi.py``,
``bench_bandgap_images.py``; ``--quick`` unless ``--full``), takes the JSON object each
prints last, and writes their figures into the block of ``benchmarks/RESULTS.md`` between
``<!-- studies:start -->`` and ``<!-- studies:end -->`` (replaced, with the commit and the
date), so the README and the CHANGELOG can quote figures that a script wrote.  Then it
executes the three tutorials with papermill and keeps one executed copy of each in
``build/studies/`` (the artifact of a run; CI executes them too, in the tests).

Usage: python benchmarks/studies.py [--full] [--no-notebooks] [--results PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
#: (study, its benchmark, its tutorial).
STUDIES = [
    ("atomization energies (Ward et al. 2019)", "bench_atomization.py", "atomization_delta.ipynb"),
    ("coherent diffraction imaging (Cherukara et al. 2018)", "bench_cdi.py", "cdi.ipynb"),
    ("band gap from optical images (Stein et al. 2019)", "bench_bandgap_images.py", "bandgap_images.ipynb"),
]
START, END = "<!-- studies:start -->", "<!-- studies:end -->"


def last_json(output: str) -> dict[str, Any]:
    """The last line of ``output`` that is a JSON object (a benchmark's figures).

    Raises
    ------
    ValueError
        When no line is one.
    """
    for line in reversed(output.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    raise ValueError("the benchmark printed no JSON object")


def flatten(figures: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested figures as ``a.b.c: value`` (lists of scalars kept as they are)."""
    out: dict[str, Any] = {}
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
            for i, item in enumerate(value):
                out.update(
                    flatten(item, f"{name}[{i}].") if isinstance(item, dict) else {f"{name}[{i}]": item}
                )
        else:
            out[name] = value
    return out


def section(results: list[tuple[str, str, dict[str, Any]]], commit: str, quick: bool) -> str:
    """The Markdown block for ``results`` (study, benchmark, figures)."""
    lines = [
        START,
        f"## The studies' figures: {dt.date.today().isoformat()}, commit {commit}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()} "
        f"({'quick' if quick else 'full'} runs; written by `make studies`, do not edit by hand)",
        "",
    ]
    for title, bench, figures in results:
        lines += [f"### {title}: `{bench}`", "", "| figure | value |", "| --- | --- |"]
        for key, value in flatten(figures).items():
            lines.append(f"| {key} | {json.dumps(value) if not isinstance(value, str) else value} |")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def replace_block(text: str, block: str) -> str:
    """``text`` with its studies block replaced by ``block`` (appended when it has none)."""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        return head + block + tail
    return text.rstrip("\n") + "\n\n" + block + "\n"


def commit_of(repo: Path) -> str:
    """The short commit of ``repo``, with ``+`` when its working tree has changes."""
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo, capture_output=True, text=True
    )
    return sha.stdout.strip() + ("+" if dirty.stdout.strip() else "")


def run_tutorial(notebook: str, out_dir: Path) -> Path:
    """Execute ``notebooks/tutorials/<notebook>`` with papermill into ``out_dir``."""
    import papermill

    out_dir.mkdir(parents=True, exist_ok=True)
    source = REPO / "notebooks" / "tutorials" / notebook
    target = out_dir / notebook
    papermill.execute_notebook(
        str(source), str(target), cwd=str(source.parent), kernel_name="python3", progress_bar=False
    )
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="the benchmarks' full sizes (slower)")
    parser.add_argument("--no-notebooks", action="store_true", help="do not execute the tutorials")
    parser.add_argument("--results", default=str(REPO / "benchmarks" / "RESULTS.md"))
    parser.add_argument("--out", default=str(REPO / "build" / "studies"), help="where executed tutorials go")
    args = parser.parse_args(argv)
    results = []
    for title, bench, _ in STUDIES:
        cmd = [sys.executable, str(REPO / "benchmarks" / bench), *([] if args.full else ["--quick"])]
        print(f"== {bench}", flush=True)
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stdout[-4000:], done.stderr[-4000:], sep="\n")
            raise SystemExit(f"{bench} failed (exit {done.returncode})")
        results.append((title, bench, last_json(done.stdout)))
    path = Path(args.results)
    path.write_text(replace_block(path.read_text(), section(results, commit_of(REPO), not args.full)))
    print(f"wrote the studies' figures into {path}")
    if not args.no_notebooks:
        for _, _, notebook in STUDIES:
            print(f"executed {run_tutorial(notebook, Path(args.out))}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
