"""Server paths (hub/connect/paths.py): dataset documents name logical locations, and
submissions are shown to anyone but an admin without the hub's folders."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path

import pytest

from hub import Hub
from hub.access import Principal
from hub.config import HubConfig
from hub.connect.paths import ServerPaths, logical_data, logical_origin
from hub.connect.submission import Submission
from hub.exceptions import ValidationError

AUTHORS = ["Ward, Logan"]
UPLOAD = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("source", "origin"),
    [
        (f"/srv/hub/uploads/{UPLOAD}/films.zip", "upload:films.zip"),
        (f"file:///srv/hub/uploads/{UPLOAD}/films.zip", "upload:films.zip"),
        ("/srv/hub/uploads/not-an-upload/films.zip", "local:films.zip"),
        ("/home/alice/films/", "local:films"),
        ("films", "local:films"),
        ("C:\\Users\\alice\\films", "local:films"),
        ("/", "local:data"),
        ("file:///tmp/tmpab12/films", "local:films"),
        (
            "https://alice:secret@data.example.org:8443/films.zip?X-Amz-Signature=abc#part",
            "https://data.example.org:8443/films.zip",
        ),
        ("s3://bucket/films/", "s3://bucket/films/"),
        ("globus://endpoint-id/~/films/", "globus://endpoint-id/~/films/"),
    ],
)
def test_logical_origins(source: str, origin: str) -> None:
    assert logical_origin(source) == origin


def test_logical_data_keeps_what_is_logical_already() -> None:
    old = {"location": "/srv/hub/blobs", "origin": f"/srv/hub/uploads/{UPLOAD}/x.zip", "files": 2}
    new = logical_data("x_v1", old)
    assert new == {"location": "matterhub://x_v1/", "origin": "upload:x.zip", "files": 2}
    assert logical_data("x_v1", new) == new
    assert "origin" not in logical_data("x_v1", {"location": "/srv/hub/blobs"})


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


def test_submissions_are_shown_without_server_paths_to_all_but_admins(paths: ServerPaths) -> None:
    source = f"{paths.uploads}/{UPLOAD}/x.zip"
    sub = Submission(
        id="s1",
        status="failed",
        source=source,
        source_name="x",
        source_id=None,
        owner="bob",
        steps=[{"name": "collect", "status": "failed", "detail": f"{paths.staging}/s1/unpacked"}],
        errors=[{"path": "a.cif", "paths": [f"{paths.staging}/s1/a.cif"], "message": f"bad {source}"}],
        message=f"source {source!r} does not exist",
    )
    admin = paths.submission(sub, Principal("root", frozenset({"admin"})))
    assert admin == sub
    for who in (Principal("bob"), Principal("carol", frozenset({"curators"}))):
        shown = paths.submission(sub, who)
        text = json.dumps(shown.to_dict())
        assert str(paths.home) not in text and "uploads/" not in text, text
        assert shown.source == "upload:x.zip" and shown.message == "source 'upload:x.zip' does not exist"
    assert paths.shown_source("/home/bob/films") == "/home/bob/films"  # the submitter's own path
    assert paths.shown_source("https://u:p@h/x") == "https://u:p@h/x"


def test_an_embedded_submission_records_logical_locations(tmp_path: Path) -> None:
    data = tmp_path / "films"
    data.mkdir()
    (data / "a.csv").write_text("x,y\n1,2\n")
    with Hub(tmp_path / "hub", progress=False) as hub:
        sub = hub.submit(data, "Films", AUTHORS)
        doc = hub.dataset(sub.source_id).metadata
        assert doc["data"]["location"] == f"matterhub://{sub.source_id}/"
        assert doc["data"]["origin"] == "local:films"
        hit = hub.search("*", kinds=["dataset"]).hits[0].document
        assert hit["data"] == doc["data"]
        assert hub.submission(sub.id).source == str(data)  # the local owner is the hub's admin
        v2 = hub.update_metadata(sub.source_id, title="Films again")
        assert v2.metadata["data"]["location"] == "matterhub://films_v2/"
        assert v2.metadata["data"]["origin"] == "local:films"
        bob = Hub(tmp_path / "hub", user="bob", progress=False)
        mine = bob.submit(data, "Bob's films", AUTHORS)
        assert mine.source == "local:films"  # under the temporary folder: not shown to non-admins
        assert bob.submissions()[0].source == "local:films"
        assert hub.submission(mine.id).source == str(data)


def test_requeue_refuses_an_upload_that_is_gone(tmp_path: Path) -> None:
    gone = tmp_path / "uploads" / UPLOAD / "x.zip"
    with Hub(tmp_path / "hub", progress=False) as hub:
        sub = hub.enqueue(gone, "Gone", AUTHORS)
        hub.process(sub.id)
        assert hub.submission(sub.id).status == "failed"
        with pytest.raises(ValidationError, match="uploaded file of this submission is gone"):
            hub.requeue(sub.id)


def test_a_hub_of_an_older_release_is_shown_logical_locations(tmp_path: Path) -> None:
    """Documents written with server paths: migration 0005 rewrites them and the index,
    whose schema version changed, is rebuilt from them on the next open."""
    data = tmp_path / "films"
    data.mkdir()
    (data / "a.csv").write_text("x,y\n1,2\n")
    home = tmp_path / "hub"
    with Hub(home, progress=False) as hub:
        sid = hub.submit(data, "Films", AUTHORS).source_id
    db = sqlite3.connect(home / "catalog.sqlite")
    (document,) = db.execute("SELECT document FROM datasets WHERE source_id = ?", (sid,)).fetchone()
    doc = json.loads(document)
    doc["data"].update(location=str(home / "blobs"), origin=f"{home}/uploads/{UPLOAD}/films.zip")
    db.execute("UPDATE datasets SET document = ? WHERE source_id = ?", (json.dumps(doc), sid))
    db.execute("UPDATE alembic_version SET version_num = '0003'")
    db.commit()
    db.close()
    (home / "index" / "SCHEMA_VERSION").write_text("5")
    with Hub(home, progress=False) as hub:
        for shown in (hub.dataset(sid).metadata, hub.search("*", kinds=["dataset"]).hits[0].document):
            assert shown["data"]["location"] == f"matterhub://{sid}/"
            assert shown["data"]["origin"] == "upload:films.zip"
