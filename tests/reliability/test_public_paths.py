"""Issue 26, items 6 and 7, against a live ``matterhub serve``: what anonymous callers and
other users are shown names no server path; the search engine's panics and refusals are
plain 400s; documents hidden from a caller change nothing about a field's type that the
caller can observe (sort order, fields, ranges)."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from reliability_server import CIF, ServerProcess, record, wait_submission

from hub import Hub

#: alice publishes a servable too (servable-publishers: the right to, once the service requires it)
USERS = {"alice": ["lab", "servable-publishers"], "bob": []}
#: What an engine's own failure looks like (a Rust panic, its memory accounting, a traceback).
ENGINE_WORDS = (
    "panick", "unwrap", ".rs:", "Rust", "memory limit", "PB", "Traceback", "kw.",
    "invalid argument", "parse error", "expected u32",
)  # fmt: skip


def _wait_indexed(
    server: ServerProcess, token: str, q: str, n: int, fields: Callable[[dict[str, Any]], bool] = bool
) -> None:
    """Wait until ``q`` finds ``n`` documents and the fields listing passes ``fields`` (a
    submission is complete once its version is committed; the index follows right after)."""
    deadline = time.monotonic() + 60
    with server.client(token) as http:
        while http.get("/api/search", params={"q": q, "limit": 0}).json()["total"] < n or not fields(
            http.get("/api/fields").json()
        ):
            assert time.monotonic() < deadline, f"{q} did not reach the index"
            time.sleep(0.1)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("paths")
    server = ServerProcess(root / "hub", root / "server")
    try:
        server.start()
        tokens = server.add_users(USERS)
        src = root / "src"
        src.mkdir()
        (src / "Cu.cif").write_bytes(CIF)
        (src / "gaps.csv").write_text("formula,gap\nCu,0.0\nZnO,3.4\n")
        alice = Hub(server.url, token=tokens["alice"], progress=False)
        public = alice.submit(
            src, "Copper", ["Ward, Logan"], source_name="copper", visible_to=["public"], custom={"gap": 1.5}
        )
        wide = alice.submit(
            src, "Wide gap", ["Ward, Logan"], source_name="wide", visible_to=["public"], custom={"gap": 1e6}
        )
        private = alice.submit(
            src, "Lab copper", ["Ward, Logan"], source_name="labcu", visible_to=["group:lab"]
        )
        assert public.status == wide.status == private.status == "complete", (public.message, private.message)
        alice.publish_servable(alice.describe(where_am_i, name="where_am_i"))
        alice.close()
        _wait_indexed(server, tokens["alice"], "mdf.source_name:(copper OR wide OR labcu)", 3 * 3)
        yield {"server": server, "tokens": tokens, "public": public.source_id, "root": root}
    finally:
        server.stop()


def where_am_i(x: float) -> float:
    """Fail, naming the folder the worker runs in."""
    import os

    raise RuntimeError(f"cannot write in {os.getcwd()}")


def _secrets(server: ServerProcess) -> list[str]:
    """What no body shown to a non-admin may hold: the hub's folder, the temporary folder, uploads."""
    home = server.home
    return sorted({str(home), str(home.resolve()), tempfile.gettempdir() + "/", "/tmp/", "uploads/"})


def _check(server: ServerProcess, what: str, r: httpx.Response) -> None:
    assert r.status_code < 500, (what, r.status_code, r.text[:300])
    for secret in _secrets(server):
        assert secret not in r.text, f"{what} ({r.status_code}) shows {secret!r}: {r.text[:400]}"


# -- item 6: no server path in what users are shown ---------------------------------------------------


def test_records_name_logical_locations(service: dict[str, Any]) -> None:
    server: ServerProcess = service["server"]
    with server.client() as http:
        doc = http.get(f"/api/datasets/{service['public']}").json()["metadata"]
    assert doc["data"]["location"] == f"matterhub://{service['public']}/"
    assert doc["data"]["origin"] == "upload:src.zip"  # RemoteHub.submit zips the folder and uploads it


def test_nothing_shown_to_others_names_a_server_path(service: dict[str, Any]) -> None:
    server: ServerProcess = service["server"]
    sid = service["public"]
    bob = service["tokens"]["bob"]
    with server.client(bob) as http:  # one of bob's own: an upload with a file no extractor reads
        r = http.post(
            "/api/submissions/upload",
            files={"file": ("bad.npy", b"garbage, not numpy", "application/octet-stream")},
            data={"metadata": json.dumps({"title": "Bad array", "authors": ["Bob, B."]})},
        )
        assert r.status_code == 202, r.text
        own = wait_submission(http, r.json()["id"])
    assert own["source"] == "upload:bad.npy", own
    with server.client() as http:
        record_id = http.get("/api/search", params={"q": f"mdf.source_id:{sid}", "kinds": "record"}).json()
        record_id = record_id["hits"][0]["id"]
        structure = http.get("/optimade/v1/structures").json()["data"][0]["id"]
    gets = [
        "/api/search?q=*",
        f"/api/search?q=mdf.source_id:{sid}&kinds=dataset",
        "/api/datasets",
        f"/api/datasets/{sid}",
        f"/api/datasets/{sid}/versions",
        f"/api/datasets/{sid}/records",
        f"/api/datasets/{sid}/files",
        f"/api/datasets/{sid}/manifest",
        f"/api/datasets/{sid}/datacite",
        f"/api/records/{record_id}",
        "/api/fields",
        "/api/info",
        "/api/servables",
        "/globus-search/v1/index/mdf/search?q=*",
        "/globus-search/v1/index/mdf/subject?subject=copper",
        "/globus-search/beta/index/mdf/mapping",
        "/optimade/v1/structures",
        f"/optimade/v1/structures/{structure}",
        "/api/datasets/labcu_v1",  # hidden: an error body
        f"/api/datasets/{sid}/files/missing.txt",
        "/api/search?q=a:[1 TO",
    ]
    posts = [
        ("/api/search", {"q": "*", "facets": ["mdf.source_name"], "limit": 100}),
        ("/api/search/scroll", {"q": "*"}),
        ("/globus-search/v1/index/mdf/search", {"q": "*", "limit": 100}),
    ]
    cases = 0
    for who, token in (("anonymous", None), ("bob", bob)):
        with server.client(token) as http:
            for path in gets:
                _check(server, f"{who} GET {path}", http.get(path))
            for path, body in posts:
                _check(server, f"{who} POST {path}", http.post(path, json=body))
            if token is not None:
                _check(server, f"{who}'s submissions", http.get("/api/submissions"))
                _check(server, f"{who}'s submission", http.get(f"/api/submissions/{own['id']}"))
            cases += len(gets) + len(posts)
    record("paths: nothing shown to others names a server path", cases=cases, leaks=0)


def test_a_servable_error_shown_to_others_names_no_server_path(service: dict[str, Any]) -> None:
    server: ServerProcess = service["server"]
    with server.client(service["tokens"]["bob"]) as http:
        r = http.post("/api/servables/alice/where_am_i/run", json={"inputs": 1.0})
        assert r.status_code == 422 and "cannot write in" in r.json()["detail"], r.text
        _check(server, "a servable's error", r)
        task = http.post("/api/servables/alice/where_am_i/run", json={"inputs": 2.0, "asynchronous": True})
        task_id = task.json()["task"]["id"]
        deadline = time.monotonic() + 120
        while (r := http.get(f"/api/tasks/{task_id}")).json()["status"] not in ("completed", "failed"):
            assert time.monotonic() < deadline, r.text
            time.sleep(0.1)
        assert "cannot write in" in r.json()["error"]["message"], r.text
        _check(server, "a failed task", r)


def test_admins_see_where_an_upload_was_kept(service: dict[str, Any]) -> None:
    server: ServerProcess = service["server"]
    with server.client(server.admin_token) as http:
        subs = http.get("/api/submissions").json()
    uploads = server.home / "uploads"
    assert subs and all(s["source"].startswith(f"{uploads}/") for s in subs), [s["source"] for s in subs]
    # the queue still finds an upload by its path, and removes it once its submission succeeded
    done = [Path(s["source"]) for s in subs if s["status"] == "complete"]
    assert done and not any(p.parent.exists() for p in done)


# -- item 7: engine panics and refusals are plain 400s ---------------------------------------------------


def test_a_globus_histogram_up_to_1e300_is_answered(service: dict[str, Any]) -> None:
    server: ServerProcess = service["server"]
    facet = {
        "name": "gap",
        "field_name": "custom.gap",
        "type": "numeric_histogram",
        "size": 4,
        "histogram_range": {"low": 0, "high": 1e300},
    }
    with server.client() as http:
        r = http.post("/globus-search/v1/index/mdf/search", json={"q": "*", "facets": [facet]})
    assert r.status_code == 200, r.text
    buckets = r.json()["facet_results"][0]["buckets"]
    assert [b["count"] for b in buckets] == [2, 0, 0, 0]  # the public datasets' custom.gap: 1.5 and 1e6


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"q": "custom.gap:[0 TO 1e20]"}, 2),  # bounds the engine typed i64 and f64: a panic
        ({"q": "custom.gap:{-1e30 TO 10}"}, 1),
        ({"q": "custom.gap:[0 TO 18446744073709551615]"}, 2),  # i64 and u64
        ({"q": "custom.gap:1e400"}, 0),  # not a number the engine takes: no match, no error
    ],
)
def test_ranges_the_engine_panicked_on_are_answered(
    service: dict[str, Any], body: Any, expected: int
) -> None:
    server: ServerProcess = service["server"]
    with server.client() as http:
        r = http.post("/api/search", json={**body, "kinds": ["dataset"]})
    assert r.status_code == 200, r.text
    assert r.json()["total"] == expected


@pytest.mark.parametrize(
    "body",
    [
        {"q": "*", "facets": [{"field": "custom.gap", "type": "histogram", "interval": 1e-300}]},
        {"q": "*", "facets": [{"field": "custom.gap", "type": "histogram", "interval": 1}]},
        {"q": "*", "facets": [{"field": "mdf.ingest_date", "type": "date_histogram", "interval": "1x"}]},
        {"q": "*", "facets": [{"field": "mdf.ingest_date", "type": "date_histogram", "interval": "0d"}]},
        {"q": "*", "facets": [{"field": "custom.gap", "type": "histogram", "interval": -1}]},
        {"q": "*", "facets": [{"field": "custom.gap", "size": 10**12}]},
        {"q": "*", "facets": [{"field": "custom.gap", "type": "histogram", "buckets": 10**9}]},
        {"q": '"copper lab"~99999999999999999999'},
        {"q": "copper^99999999999999999999"},
    ],
)
def test_what_the_engine_refuses_is_a_plain_400(service: dict[str, Any], body: Any) -> None:
    server: ServerProcess = service["server"]
    with server.client() as http:
        r = http.post("/api/search", json=body)
    assert r.status_code == 400, (body, r.status_code, r.text[:300])
    for word in ENGINE_WORDS:
        assert word not in r.json()["detail"], (body, word, r.text[:400])


# -- item 7: a hidden document changes no type another principal observes ---------------------------------


def _observed(http: httpx.Client) -> dict[str, Any]:
    """What a caller sees of the field custom.score: the sort order of the records, the fields
    listing and a range's results."""
    sort = http.post(
        "/api/search",
        json={"q": "custom.score:*", "kinds": ["record"], "sort": "custom.score", "limit": 100},
    ).json()
    ranged = http.post(
        "/api/search", json={"q": "custom.score:[5 TO 50]", "kinds": ["record"], "limit": 100}
    ).json()
    desc = http.post(
        "/api/search",
        json={"q": "custom.score:*", "kinds": ["record"], "sort": "-custom.score", "limit": 100},
    ).json()
    return {
        "order": [h["document"]["custom"]["score"] for h in sort["hits"]],
        "descending": [h["document"]["custom"]["score"] for h in desc["hits"]],
        "fields": http.get("/api/fields").json().get("custom.score"),
        "range": sorted(h["document"]["custom"]["score"] for h in ranged["hits"]),
    }


def test_hidden_text_in_a_numeric_field_changes_nothing_others_observe(
    service: dict[str, Any], tmp_path: Path
) -> None:
    server: ServerProcess = service["server"]
    tokens = service["tokens"]
    scores = tmp_path / "scores"
    scores.mkdir()
    (scores / "scores.csv").write_text("sample,score\na,9\nb,10\nc,100\n")
    bob = Hub(server.url, token=tokens["bob"], progress=False)
    sub = bob.submit(
        scores,
        "Scores",
        ["Bob, B."],
        source_name="scores",
        visible_to=["public"],
        mapping={"custom.score": "score"},
    )
    assert sub.status == "complete", sub.message
    bob.close()
    _wait_indexed(server, tokens["bob"], "mdf.source_name:scores", 4, lambda f: "custom.score" in f)
    viewers = {"anonymous": None, "bob": tokens["bob"]}
    before = {}
    for who, token in viewers.items():
        with server.client(token) as http:
            before[who] = _observed(http)
    assert before["anonymous"]["order"] == [9, 10, 100], before
    assert before["anonymous"]["fields"] == {"number": 3}
    # alice's private records hold words in the same field, and outnumber bob's numbers
    words = tmp_path / "words"
    words.mkdir()
    (words / "words.csv").write_text("sample,score\nd,high\ne,low\nf,mid\ng,none\nh,some\n")
    alice = Hub(server.url, token=tokens["alice"], progress=False)
    sub = alice.submit(
        words,
        "Words",
        ["Ward, Logan"],
        source_name="words",
        visible_to=["group:lab"],
        mapping={"custom.score": "score"},
    )
    assert sub.status == "complete", sub.message
    alice.close()
    _wait_indexed(
        server, tokens["alice"], "mdf.source_name:words", 6, lambda f: f["custom.score"].get("keyword") == 5
    )
    for who, token in viewers.items():
        with server.client(token) as http:
            assert _observed(http) == before[who], who
    record("paths: a hidden document changes no observed type", cases=len(viewers) * 4, leaks=0)
