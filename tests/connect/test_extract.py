"""Grouping, per-group errors and per-file warnings of the extract step."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from hub.connect import extract
from hub.extractors import ExtractionContext, Extractor


class Noisy(Extractor):
    name = "noisy"
    description = "warns and logs"
    patterns = ("*.noisy",)

    def extract(self, group, context):
        warnings.warn("careful with this file", UserWarning, stacklevel=1)
        logging.getLogger("ase.io").warning("odd header")
        if group[0].stem == "bad":
            raise ValueError("cannot read it")
        return {"custom": {"ok": True}}


class Folder(Extractor):
    name = "folder"
    description = "groups a folder"
    patterns = ("*",)
    groups_files = True

    def group(self, files, context):
        run = [f for f in files if f.parent.name == "run"]
        if run:
            yield tuple(run)

    def extract(self, group, context):
        return {"custom": {"n": len(group)}}


def test_warnings_are_attached_to_their_file_not_printed(tmp_path, capsys):
    (tmp_path / "a.noisy").write_text("x")
    (tmp_path / "bad.noisy").write_text("x")
    ctx = ExtractionContext(root=tmp_path)
    groups = extract.plan(sorted(tmp_path.iterdir()), [Noisy()], ctx)
    results = list(extract.run(groups, ctx))
    assert [r.files[0].name for r in results] == ["a.noisy", "bad.noisy"]
    a, bad = results
    assert {w["message"] for w in a.warnings} == {"UserWarning: careful with this file", "ase.io: odd header"}
    assert all(w["path"] == "a.noisy" and w["extractor"] == "noisy" for w in a.warnings)
    assert bad.errors[0]["message"] == "cannot read it" and bad.errors[0]["extractor"] == "noisy"
    captured = capsys.readouterr()
    assert "careful" not in captured.err and "odd header" not in captured.err


def test_grouping_extractors_take_their_files_first(tmp_path):
    (tmp_path / "run").mkdir()
    for name in ("run/OUTCAR", "run/INCAR", "x.noisy"):
        (tmp_path / name).write_text("x")
    ctx = ExtractionContext(root=tmp_path)
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    groups = extract.plan(files, [Folder(), Noisy()], ctx)
    assert [tuple(f.name for f in g.files) for g in groups] == [("INCAR", "OUTCAR"), ("x.noisy",)]
    assert [e.name for e in groups[0].extractors] == ["folder"]
    assert [e.name for e in groups[1].extractors] == ["noisy"]
    assert Path(groups[0].files[0]).parent.name == "run"
