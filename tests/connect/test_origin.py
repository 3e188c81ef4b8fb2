"""Logical locations (hub/connect/origin.py): dataset documents name no server path, and
submissions are shown to anyone but an admin without the hub's folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from hub import Hub
from hub.access import Principal
from hub.connect.origin import logical_data, logical_origin
from hub.db.models import JSONType
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


def test_a_failed_submission_is_shown_to_its_owner_without_the_hub_paths(tmp_path: Path) -> None:
    gone = f"{tmp_path}/hub/uploads/{UPLOAD}/x.zip"
    with Hub(tmp_path / "hub", progress=False) as hub:
        bob = hub.acting_as(Principal("bob"))
        sub = bob.process(bob.enqueue(gone, "Gone", AUTHORS).id)
        assert sub.status == "failed" and sub.source == "upload:x.zip"
        assert sub.message == "source 'upload:x.zip' does not exist (give a file, folder, archive or URL)"
        assert str(tmp_path) not in json.dumps([s.to_dict() for s in bob.submissions()])
        assert hub.submission(sub.id).source == gone  # the hub's admin


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
        catalog = hub.config.catalog  # SQLite, or PostgreSQL in the PostgreSQL pass
    engine = sa.create_engine(catalog)
    datasets = sa.table("datasets", sa.column("source_id"), sa.column("document", JSONType))
    try:
        with engine.begin() as conn:
            doc = conn.execute(sa.select(datasets.c.document).where(datasets.c.source_id == sid)).scalar_one()
            doc["data"].update(location=str(home / "blobs"), origin=f"{home}/uploads/{UPLOAD}/films.zip")
            conn.execute(datasets.update().where(datasets.c.source_id == sid).values(document=doc))
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '0003'"))
    finally:
        engine.dispose()
    (home / "index" / "SCHEMA_VERSION").write_text("5")
    with Hub(home, progress=False) as hub:
        for shown in (hub.dataset(sid).metadata, hub.search("*", kinds=["dataset"]).hits[0].document):
            assert shown["data"]["location"] == f"matterhub://{sid}/"
            assert shown["data"]["origin"] == "upload:films.zip"
