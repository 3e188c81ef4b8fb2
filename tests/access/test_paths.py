"""The hub's own folders (hub/access/paths.py): shown only to admins, written logically to
everyone else."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from hub.access import Principal
from hub.access.paths import ServerPaths
from hub.config import HubConfig

UPLOAD = "0123456789abcdef0123456789abcdef"


@pytest.fixture()
def paths(tmp_path: Path) -> ServerPaths:
    return ServerPaths.of(HubConfig.load(tmp_path / "hub"))


def test_redact_names_each_folder_logically(paths: ServerPaths, tmp_path: Path) -> None:
    home = paths.home
    cases = {
        f"source '{home}/uploads/{UPLOAD}/x.zip' does not exist": "source 'upload:x.zip' does not exist",
        f"{home}/staging/abc/unpacked/a.cif: bad": "<staging>/abc/unpacked/a.cif: bad",
        f"blob missing from the store at {home}/blobs": "blob missing from the store at <store>",
        f"the search index at {home}/index cannot be written": "the search index at <index> cannot be written",
        f"({home}/config.json)": "(<hub>/config.json)",
        f"{home}X/other": f"<tmp>/{(home.parent / (home.name + 'X')).relative_to(tempfile.gettempdir())}/other",
        "http://example.org/tmp/x and relative/tmp/y": "http://example.org/tmp/x and relative/tmp/y",
    }
    for text, shown in cases.items():
        assert paths.redact(text) == shown, text


def test_a_symlinked_home_is_redacted_both_ways(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    paths = ServerPaths.of(HubConfig.load(tmp_path / "link"))
    assert paths.redact(f"{real}/config.json and {tmp_path}/link/config.json") == (
        "<hub>/config.json and <hub>/config.json"
    )


def test_only_admins_are_shown_the_hub_paths(paths: ServerPaths) -> None:
    source = f"{paths.uploads}/{UPLOAD}/x.zip"
    value = {"message": f"source {source!r} does not exist", "paths": [f"{paths.staging}/s1/a.cif"], "n": 1}
    assert paths.shown(Principal("root", frozenset({"admin"})), value) is value
    for who in (Principal("bob"), Principal("carol", frozenset({"curators"})), Principal(None)):
        assert paths.shown(who, value) == {
            "message": "source 'upload:x.zip' does not exist",
            "paths": ["<staging>/s1/a.cif"],
            "n": 1,
        }
    assert paths.holds(source) and paths.holds(f"file://{paths.home}") and not paths.holds("/home/bob/films")
