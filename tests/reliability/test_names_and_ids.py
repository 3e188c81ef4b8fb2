"""Issue 26, items 2 and 3, against a live ``matterhub serve``: names belong to their owners,
and users have immutable ids.

- bob submits under alice's dataset names (published and visible to him, private, waiting
  for a curator, only in a failed submission): each is refused before any work with the
  same 409 body, nothing of bob's is recorded, and what alice sees (her listing, search,
  OPTIMADE, Globus Search, ``GET /api/datasets/<name>``) does not change;
- a name claimed for a group is its members';
- an admin deletes dave and creates a new dave: the new one sees nothing of the old one's
  (private dataset and file, a dataset shared with him, servable, submissions), cannot
  change its ACL nor publish under its names, and the old token stops working at once;
- deleting fay with ``?transfer_to=gus`` gives gus her datasets, servable, submissions and
  the ACL entries naming her, in the catalog and in the search index.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from reliability_server import CIF, ServerProcess, record, wait_submission

from hub import Hub

#: every user may publish servables (a right on `matterhub serve`): the refusals here are of names
P = "servable-publishers"
USERS = {"alice": ["lab", P], "bob": [P], "carol": ["lab", P], "dave": [P], "fay": [P], "gus": [P]}


#: alice's names, by what holds them
TAKEN_VISIBLE = "alice_public_zebra"
TAKEN_HIDDEN = "alice_secret_zebra"
PENDING = "alice_pending_zebra"
FAILED_ONLY = "alice_failed_zebra"


def echo(x: float) -> float:
    return x


def folder_zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def upload(http: httpx.Client, data: bytes, filename: str = "data.zip", **meta: Any) -> httpx.Response:
    """POST /api/submissions/upload with ``meta`` (title and authors filled in)."""
    meta = {"title": "A dataset", "authors": ["Ward, Logan"], **meta}
    return http.post(
        "/api/submissions/upload",
        data={"metadata": json.dumps(meta)},
        files={"file": (filename, data, "application/octet-stream")},
    )


def submitted(http: httpx.Client, data: bytes, status: str = "complete", **meta: Any) -> dict[str, Any]:
    r = upload(http, data, **meta)
    assert r.status_code == 202, r.text
    sub = wait_submission(http, r.json()["id"])
    assert sub["status"] == status, sub
    return sub


PRIVATE_FILES = folder_zip({"Cu.cif": CIF, "notes.txt": b"private notes of the owner\n"})


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("names")
    server = ServerProcess(root / "hub", root / "server")
    try:
        server.start()
        tokens = server.add_users(USERS)
        with server.client(tokens["alice"]) as alice:
            submitted(alice, folder_zip({"Cu.cif": CIF}), source_name=TAKEN_VISIBLE)
            submitted(alice, PRIVATE_FILES, source_name=TAKEN_HIDDEN, visible_to=["user:alice"])
            submitted(
                alice, folder_zip({"Cu.cif": CIF}), "pending_curation", source_name=PENDING, curate=True
            )
            submitted(alice, folder_zip({}), "failed", source_name=FAILED_ONLY)
        yield {"server": server, "tokens": tokens}
    finally:
        server.stop()


def views_of_alice(server: ServerProcess, token: str) -> dict[str, Any]:
    """What alice sees of her datasets, through every read path the attack changed."""
    with server.client(token) as http:
        listing = http.get("/api/datasets").json()
        search = http.post("/api/search", json={"q": "*", "limit": 100}).json()
        opt = http.get("/optimade/v1/structures", params={"page_limit": 100}).json()
        globus = http.get("/globus-search/v1/index/mdf/search", params={"q": "*", "limit": 100}).json()
        subject = http.get("/globus-search/v1/index/mdf/subject", params={"subject": TAKEN_VISIBLE}).json()
        one = {n: http.get(f"/api/datasets/{n}").json() for n in (TAKEN_VISIBLE, TAKEN_HIDDEN, PENDING)}
    return {
        "listing": listing,
        "search": (search["total"], sorted(h["id"] for h in search["hits"])),
        "optimade": sorted(d["id"] for d in opt["data"]),
        "globus": sorted((g["subject"], e["entry_id"]) for g in globus["gmeta"] for e in g["entries"]),
        "subject": sorted(e["entry_id"] for e in subject["entries"]),
        "datasets": one,
    }


# -- names belong to their owners ------------------------------------------------------------------


def test_nobody_takes_a_name_nor_learns_what_holds_it(service: dict[str, Any]) -> None:
    server: ServerProcess = service["server"]
    tokens = service["tokens"]
    before = views_of_alice(server, tokens["alice"])
    assert TAKEN_HIDDEN in [d["source_name"] for d in before["listing"]]
    with server.client(tokens["bob"]) as bob:
        mine_before = bob.get("/api/submissions").json()
        bodies = {}
        for name in (TAKEN_VISIBLE, TAKEN_HIDDEN, PENDING, FAILED_ONLY):
            r = upload(bob, PRIVATE_FILES, source_name=name, title="bob's data")
            assert r.status_code == 409, (name, r.status_code, r.text)
            bodies[name] = r.text.replace(name, "<name>")
            # the title alone names it too (a source_name made from the title)
            r = upload(bob, PRIVATE_FILES, title=name.replace("_", " "))
            assert r.status_code == 409 and r.text.replace(name, "<name>") == bodies[name], r.text
        assert len(set(bodies.values())) == 1, bodies
        body = json.loads(next(iter(bodies.values())))
        assert body == {
            "status": 409,
            "title": "Name not available",
            "detail": "name not available: '<name>'; choose another source_name",
        }
        assert "previous_version" not in str(bodies) and "_v1" not in str(bodies)
        assert bob.get("/api/submissions").json() == mine_before, "refused before anything was recorded"
        # a free name is bob's (private to him, and waited for: alice's views below stay the same)
        submitted(bob, folder_zip({"Cu.cif": CIF}), source_name="bob_zebra", visible_to=["user:bob"])
    assert views_of_alice(server, tokens["alice"]) == before
    with server.client(tokens["alice"]) as alice:  # new versions are hers to make
        sub = submitted(alice, folder_zip({"Cu.cif": CIF}), source_name=TAKEN_VISIBLE)
        assert sub["source_id"] == f"{TAKEN_VISIBLE}_v2"
        changed = alice.patch(f"/api/datasets/{TAKEN_HIDDEN}", json={"title": "Still mine"})
        assert changed.status_code == 200 and changed.json()["owner"] == "alice"
    with server.client(tokens["bob"]) as bob:
        r = bob.patch(f"/api/datasets/{TAKEN_VISIBLE}", json={"title": "bob's now"})
        assert r.status_code == 403, r.text
    record("names: takeover refused", cases=8, leaks=0)


def test_a_name_claimed_for_a_group_is_its_members(service: dict[str, Any]) -> None:
    server: ServerProcess = service["server"]
    tokens = service["tokens"]
    with server.client(tokens["bob"]) as bob:
        r = upload(bob, folder_zip({"Cu.cif": CIF}), source_name="lab_zebra", group="lab")
        assert r.status_code == 403 and "not a member of group 'lab'" in r.text
    with server.client(tokens["alice"]) as alice:
        submitted(
            alice, folder_zip({"Cu.cif": CIF}), source_name="lab_zebra", group="lab", visible_to=["group:lab"]
        )
    with server.client(tokens["carol"]) as carol:
        sub = submitted(carol, folder_zip({"Cu.cif": CIF}), source_name="lab_zebra", visible_to=["group:lab"])
        assert sub["source_id"] == "lab_zebra_v2"
    with server.client(tokens["bob"]) as bob:
        r = upload(bob, folder_zip({"Cu.cif": CIF}), source_name="lab_zebra")
        assert r.status_code == 409 and r.json()["title"] == "Name not available"
    # servables: published for the group as lab/NAME; its members publish its versions
    alice = Hub(server.url, token=tokens["alice"], progress=False)
    carol = Hub(server.url, token=tokens["carol"], progress=False)
    bob = Hub(server.url, token=tokens["bob"], progress=False)
    try:
        assert alice.publish_servable(alice.describe(echo, name="lab_echo"), group="lab") == "lab/lab_echo"
        assert carol.publish_servable(carol.describe(echo, name="lab_echo"), group="lab") == "lab/lab_echo"
        assert carol.servable("lab/lab_echo").versions == [1, 2]
        from hub.exceptions import AccessDeniedError

        with pytest.raises(AccessDeniedError, match="not a member"):
            bob.publish_servable(bob.describe(echo, name="lab_echo"), group="lab")
    finally:
        for h in (alice, carol, bob):
            h.close()


# -- users have immutable ids ----------------------------------------------------------------------


def test_a_user_deleted_and_created_again_gets_nothing_of_the_old_one(service: dict[str, Any]) -> None:
    server: ServerProcess = service["server"]
    tokens = service["tokens"]
    secret = b"dave's secret notes\n"
    with server.client(tokens["dave"]) as dave:
        sub = submitted(
            dave,
            folder_zip({"Cu.cif": CIF, "notes.txt": secret}),
            source_name="dave_zebra",
            visible_to=["user:dave"],
        )
        assert dave.get("/api/datasets/dave_zebra/files/notes.txt").content == secret
    with server.client(tokens["alice"]) as alice:
        submitted(alice, folder_zip({"Cu.cif": CIF}), source_name="alice_for_dave", visible_to=["user:dave"])
    remote = Hub(server.url, token=tokens["dave"], progress=False)
    assert (
        remote.publish_servable(remote.describe(echo, name="dave_echo", visible_to=["user:dave"]))
        == "dave/dave_echo"
    )
    remote.close()

    with server.client(server.admin_token) as admin:
        assert admin.delete("/api/users/dave").status_code == 204
        assert (
            httpx.get(
                f"{server.url}/api/whoami", headers={"Authorization": f"Bearer {tokens['dave']}"}
            ).status_code
            == 401
        )
        shown = admin.get("/api/datasets/dave_zebra").json()
        assert shown["owner"] == "dave (deleted)"
        assert admin.get("/api/servables/dave/dave_echo").json()["owner"] == "dave (deleted)"
        assert admin.post("/api/users", json={"name": "dave", "groups": [P]}).status_code == 201
        new_token = admin.post("/api/tokens", json={"user": "dave"}).json()["token"]

    with server.client(new_token) as dave:
        assert dave.get("/api/whoami").json()["user"] == "dave"
        seen = [d["source_name"] for d in dave.get("/api/datasets").json()]
        assert "dave_zebra" not in seen and "alice_for_dave" not in seen
        for path in (
            "/api/datasets/dave_zebra",
            "/api/datasets/dave_zebra/files/notes.txt",
            "/api/datasets/alice_for_dave",
            "/api/servables/dave/dave_echo",
            f"/api/submissions/{sub['id']}",
        ):
            assert dave.get(path).status_code == 404, path
        old_ones = ("dave_zebra", "alice_for_dave")
        body = {"q": "*", "limit": 100, "facets": ["mdf.source_name"]}
        hits = dave.post("/api/search", json=body).json()
        assert not [h for h in hits["hits"] if h["id"].startswith(old_ones)]
        assert not [b for b in hits["facets"]["mdf.source_name"]["buckets"] if b["value"] in old_ones]
        scroll = dave.post("/api/search/scroll", json={"q": "*"}).json()
        assert not [h for h in scroll["hits"] if h["id"].startswith(old_ones)]
        globus = dave.get("/globus-search/v1/index/mdf/search", params={"q": "*", "limit": 100}).json()
        assert not [g for g in globus["gmeta"] if g["subject"].startswith(old_ones)]
        found = dave.get("/api/servables", params={"q": "*", "limit": 100}).json()["hits"]
        assert "dave/dave_echo" not in [h["id"] for h in found]
        opt = dave.get("/optimade/v1/structures", params={"page_limit": 100}).json()
        assert not [d for d in opt["data"] if "dave_zebra" in d["id"] or "alice_for_dave" in d["id"]]
        assert dave.get("/api/submissions").json() == []
        # nor can he change its ACL, nor publish under its names
        r = dave.patch("/api/datasets/dave_zebra", json={"visible_to": ["public"]})
        assert r.status_code == 404, r.text
        r = upload(dave, folder_zip({"Cu.cif": CIF}), source_name="dave_zebra")
        assert r.status_code == 409 and r.json()["title"] == "Name not available"
    remote = Hub(server.url, token=new_token, progress=False)
    from hub.exceptions import NameNotAvailableError

    with pytest.raises(NameNotAvailableError, match="choose another servable name"):
        remote.publish_servable(remote.describe(echo, name="dave_echo"))
    remote.close()
    assert httpx.get(f"{server.url}/api/datasets/dave_zebra").status_code == 404, "still private"
    record("ids: a re-created user", cases=14, leaks=0)


def test_deleting_a_user_can_hand_their_things_to_another(service: dict[str, Any], tmp_path: Path) -> None:
    server: ServerProcess = service["server"]
    tokens = service["tokens"]
    with server.client(tokens["fay"]) as fay:
        sub = submitted(
            fay, PRIVATE_FILES, source_name="fay_zebra", visible_to=["user:fay"], custom={"zebra": "fay"}
        )
    with server.client(tokens["alice"]) as alice:
        submitted(alice, folder_zip({"Cu.cif": CIF}), source_name="alice_for_fay", visible_to=["user:fay"])
    remote = Hub(server.url, token=tokens["fay"], progress=False)
    servable = remote.publish_servable(remote.describe(echo, name="fay_echo", visible_to=["user:fay"]))
    remote.close()
    with server.client(server.admin_token) as admin:
        r = admin.delete("/api/users/fay", params={"transfer_to": "nobody"})
        assert r.status_code == 404
        assert (
            httpx.get(
                f"{server.url}/api/whoami", headers={"Authorization": f"Bearer {tokens['fay']}"}
            ).status_code
            == 200
        )
        assert admin.delete("/api/users/fay", params={"transfer_to": "gus"}).status_code == 204
    assert (
        httpx.get(
            f"{server.url}/api/whoami", headers={"Authorization": f"Bearer {tokens['fay']}"}
        ).status_code
        == 401
    )
    with server.client(tokens["gus"]) as gus:
        ds = gus.get("/api/datasets/fay_zebra").json()
        assert ds["owner"] == "gus" and ds["metadata"]["mdf"]["visible_to"] == ["user:gus"]
        assert gus.get("/api/datasets/fay_zebra/files/notes.txt").status_code == 200
        assert gus.get("/api/datasets/alice_for_fay").json()["metadata"]["mdf"]["visible_to"] == ["user:gus"]
        hits = gus.post("/api/search", json={"q": "custom.zebra:fay", "limit": 10}).json()
        assert [h["id"] for h in hits["hits"] if h["id"] == "fay_zebra_v1"] == ["fay_zebra_v1"]
        assert gus.get(f"/api/servables/{servable}").json()["owner"] == "gus"
        assert [s["id"] for s in gus.get("/api/submissions").json()] == [sub["id"]]
        assert gus.patch("/api/datasets/fay_zebra", json={"title": "gus's now"}).status_code == 200
    gus_hub = Hub(server.url, token=tokens["gus"], progress=False)
    try:
        assert gus_hub.run(servable, 2.0) == 2.0
    finally:
        gus_hub.close()
    record("ids: a transfer", cases=8, leaks=0)
