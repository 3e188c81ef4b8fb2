"""The field registry (hub/index/registry.py): the types a principal is given come only from
documents that principal may see, so a hidden document changes nothing they observe."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.access import Principal
from hub.index.engine import IndexDoc, SearchIndex

from .conftest import ADMIN

BOB = Principal("bob")
ALICE = Principal("alice", frozenset({"lab"}))
ANONYMOUS = Principal(None)


def _docs(source: str, acl: list[str], values: list[object]) -> list[IndexDoc]:
    return [
        IndexDoc(f"{source}.{i}", "record", source, acl, {"custom": {"score": v}})
        for i, v in enumerate(values)
    ]


def _observed(index: SearchIndex, who: Principal) -> dict[str, object]:
    def scores(**kw: object) -> list[object]:
        res = index.search("custom.score:*", who, kinds=["record"], limit=100, **kw)  # type: ignore[arg-type]
        return [h.document["custom"]["score"] for h in res.hits]

    return {
        "ascending": scores(sort="custom.score"),
        "descending": scores(sort="-custom.score"),
        "range": sorted(
            h.document["custom"]["score"] for h in index.search("custom.score:[5 TO 50]", who).hits
        ),
        "term": index.search("custom.score:10", who).total,
        "type": index.field_type("custom.score", who),
        "types": index.field_types(who).get("custom.score"),
        "facet": index.search("*", who, facets=["custom.score"]).facets["custom.score"]["buckets"],
    }


@pytest.fixture()
def index(tmp_path: Path) -> SearchIndex:
    index = SearchIndex(tmp_path / "index")
    index.replace_sources([], _docs("bob_v1", ["public", "user:bob"], [9, 10, 100]))
    return index


def test_hidden_words_in_a_numeric_field_change_nothing_others_observe(index: SearchIndex) -> None:
    before = {who: _observed(index, p) for who, p in [("anonymous", ANONYMOUS), ("bob", BOB)]}
    assert before["anonymous"]["ascending"] == [9, 10, 100] and before["bob"]["type"] == "number"
    # more documents with words than bob has numbers: the majority over all documents says keyword
    index.replace_sources(
        [], _docs("alice_v1", ["user:alice", "group:lab"], ["high", "low", "mid", "x", "y"])
    )
    after = {who: _observed(index, p) for who, p in [("anonymous", ANONYMOUS), ("bob", BOB)]}
    assert after == before
    # alice and the admins see both kinds of value
    assert index.field_types(ALICE)["custom.score"] == {"number": 3, "keyword": 5}
    assert index.field_type("custom.score", ADMIN) == "keyword"


def test_removing_a_source_forgets_its_types(index: SearchIndex) -> None:
    index.replace_sources([], _docs("alice_v1", ["user:alice"], ["high"]))
    assert index.field_types(ADMIN)["custom.score"] == {"number": 3, "keyword": 1}
    index.replace_sources(["alice_v1"], [])
    assert index.field_types(ADMIN)["custom.score"] == {"number": 3}
    assert index.registry.sources() == {"bob_v1"}


def test_another_process_sees_the_registry_change(index: SearchIndex) -> None:
    other = SearchIndex(index.path)  # another process's view of the same folder
    assert other.field_type("custom.score", BOB) == "number"
    index.replace_sources([], _docs("bob_v2", ["public"], ["a", "b", "c", "d"]))
    assert other.field_types(BOB)["custom.score"] == {"number": 3, "keyword": 4}


def test_fields_by_source_count_every_acl(index: SearchIndex) -> None:
    index.replace_sources([], _docs("bob_v1", ["user:bob"], ["w"]))
    assert index.fields(["bob_v1"])["custom.score"] == {"number": 3, "keyword": 1}
    assert index.fields(["nobody_v1"]) == {}
