"""`make studies` (benchmarks/studies.py): the benchmarks' last JSON line becomes the studies block
of RESULTS.md, replaced in place, nothing else of the file touched."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "studies.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("studies_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["studies_script"] = module
    spec.loader.exec_module(module)
    return module


def test_the_figures_are_the_last_json_object() -> None:
    studies = _load()
    out = (
        'progress\n{"not": "this"}\ntable | 1\n{"bench": "cdi", "real_data": {"consistency": [0.95, 0.96]}}\n'
    )
    assert studies.last_json(out) == {"bench": "cdi", "real_data": {"consistency": [0.95, 0.96]}}
    flat = studies.flatten({"a": 1, "b": {"c": 2.5, "d": [{"k": 4}]}, "e": [1, 2]})
    assert flat == {"a": 1, "b.c": 2.5, "b.d[0].k": 4, "e": [1, 2]}


def test_the_block_is_replaced_and_nothing_else(tmp_path: Path) -> None:
    studies = _load()
    block = studies.section([("Δ study", "bench_atomization.py", {"mae": 0.38})], "abc1234", True)
    assert block.startswith(studies.START) and block.endswith(studies.END)
    assert "| mae | 0.38 |" in block and "commit abc1234" in block
    text = "# Results\n\nhand-written figures\n"
    once = studies.replace_block(text, block)
    assert once.startswith(text.rstrip("\n")) and once.count(studies.START) == 1
    newer = studies.section([("Δ study", "bench_atomization.py", {"mae": 0.40})], "def5678", True)
    twice = studies.replace_block(once + "\n## later section\n", newer)
    assert twice.count(studies.START) == 1 and "| mae | 0.4 |" in twice and "0.38" not in twice
    assert twice.startswith(text.rstrip("\n")) and twice.rstrip().endswith("## later section")
