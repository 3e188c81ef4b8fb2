"""The matterhub command, through click's runner (same process) and one real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import ase
import pytest
from click.testing import CliRunner

from hub.cli import main

MINERALS = Path(ase.__file__).parent / "test" / "testdata" / "minerals"


@pytest.fixture()
def run(tmp_path):
    runner = CliRunner()
    home = str(tmp_path / "hub")

    def invoke(*args: str, code: int = 0, user: str | None = None):
        prefix = ["--hub", home, "-q"] + (["--user", user] if user else [])
        result = runner.invoke(main, [*prefix, *args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return invoke


def test_submit_list_show_download(run, tmp_path):
    if not MINERALS.is_dir():
        pytest.skip("ase ships no test data")
    assert "hub ready" in run("init").output
    out = json.loads(
        run("submit", str(MINERALS), "--title", "Minerals", "--author", "Ward, Logan", "--json").output
    )
    assert out["status"] == "complete" and out["source_id"] == "minerals_v1"
    status = json.loads(run("status", out["id"], "--json").output)
    assert status["steps"][-1]["name"] == "dispatch" and status["steps"][-1]["status"] == "done"
    listed = json.loads(run("datasets", "--json").output)
    assert [d["source_id"] for d in listed] == ["minerals_v1"]
    shown = json.loads(run("show", "minerals", "--json", "--records").output)
    assert len(shown["records"]) == len(shown["files"])
    record = json.loads(run("show", shown["records"][0]["mdf"]["record_id"]).output)
    assert record["mdf"]["source_id"] == "minerals_v1"
    datacite = json.loads(run("show", "minerals_v1", "--datacite").output)
    assert datacite["titles"] == [{"title": "Minerals"}]
    assert "every sha256 verified" in run("download", "minerals_v1", str(tmp_path / "dl")).output
    assert sorted(p.name for p in (tmp_path / "dl").iterdir()) == sorted(p.name for p in MINERALS.iterdir())
    assert "every file verifies" in run("verify", "minerals_v1").output
    assert "minerals_v2" in run("update", "minerals", "--title", "Better").output


def test_curation_from_the_command_line(run):
    if not MINERALS.is_dir():
        pytest.skip("ase ships no test data")
    sub = json.loads(
        run(
            "submit", str(MINERALS), "--title", "C", "--author", "Doe, A", "--curate", "--json", user="alice"
        ).output
    )
    assert sub["status"] == "pending_curation"
    assert sub["id"] in run("curate", "list").output
    run("curate", "accept", sub["id"], code=1, user="bob")
    done = json.loads(run("curate", "reject", sub["id"], "--reason", "no description", "--json").output)
    assert done["status"] == "rejected" and "no description" in done["message"]


def test_errors_are_one_clear_line(run, tmp_path):
    result = run("show", "nothing_v1", code=2)
    assert result.output.startswith("error: no dataset, record or servable 'nothing_v1'")
    result = run("submit", str(tmp_path / "missing"), "--title", "T", "--author", "Doe, A", code=2)
    assert "does not exist" in result.output
    assert "needs SOURCE" in run("submit", code=2).output


def test_extractors_listing(run):
    names = {r["name"] for r in json.loads(run("extractors", "--json").output)}
    assert {
        "generic",
        "crystal",
        "vasp",
        "espresso",
        "quantum_chemistry",
        "microscopy",
        "image",
        "tabular",
    } <= names


def test_console_script_runs(tmp_path):
    exe = Path(sys.executable).with_name("matterhub")
    proc = subprocess.run(
        [str(exe), "--hub", str(tmp_path / "h"), "datasets", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_search_warns_of_unknown_fields(run):
    if not MINERALS.is_dir():
        pytest.skip("ase ships no test data")
    run("submit", str(MINERALS), "--title", "Minerals", "--author", "Ward, Logan")
    result = run("search", "material.element:Co", "--facet", "material.element")
    assert result.stdout.startswith("0 results")
    assert result.stderr.splitlines() == [
        "warning: no document you may see has the field 'material.element' (in the query); "
        "did you mean 'material.elements'?",
        "warning: no document you may see has the field 'material.element' (in the facets); "
        "did you mean 'material.elements'?",
    ]
    assert "warning" not in run("search", "material.elements:Co").stderr
