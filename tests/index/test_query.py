"""Regressions of the query compiler and of the analysis shared by indexing and
querying (hub/index/query.py, analysis.py, documents.py), one bug each."""

from __future__ import annotations

from typing import Any

import pytest
import tantivy

from hub import Hub
from hub.exceptions import QueryError
from hub.index.analysis import parse_date, tokenize, value_type
from hub.index.documents import _prepare
from hub.index.query import compile_query

from .conftest import ADMIN, hit_ids, index_of, write_rows


@pytest.fixture()
def search(tmp_path):
    docs: list[dict[str, Any]] = [
        {"id": "circled", "t": "xⒶy"},  # Ⓐ is alphabetic for Rust, not for Python
        {"id": "sigma", "t": "ΟΔΟΣ"},  # a final sigma lowercases differently
        {"id": "long", "t": "start " + "b" * 40 + " end"},  # 40 bytes: not indexed
        {"id": "lines", "t": "line one\nline two", "s": "a*b"},
        {"id": "list", "tags": ["alpha", "beta"]},
        {"id": "old", "d": "0001-01-01T00:00:00+05:00", "e": "9999-12-31"},
        {"id": "day", "d": "2020-01-05T10:00:00Z", "n": -8, "b": True},
        {"id": "neg", "n": -7.25, "e": "2262-04-11"},
    ]
    index = index_of(tmp_path / "index", {"s": docs})
    return lambda q: hit_ids(index.search(q, ADMIN, limit=100))


def test_tokens_are_tantivys(search):
    analyzer = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .build()
    )
    for text in ["xⒶy", "ΟΔΟΣ", "a" * 39 + " " + "b" * 40, "İstanbul", "snake_case Co3O4 x-1"]:
        assert tokenize(text) == analyzer.analyze(text)
    assert search("xⒶy") == search("t:xⓐy") == {"circled"}
    assert search("ΟΔΟΣ") == search("t:οδοσ") == {"sigma"}


def test_a_word_too_long_to_index_keeps_the_phrase_shape(search):
    assert search('"start ' + "b" * 40 + ' end"') == {"long"}
    assert search('t:"start ' + "b" * 40 + ' end"') == {"long"}
    assert search('"start end"') == set()


def test_a_phrase_does_not_run_across_values(search):
    assert search('"alpha beta"') == set()
    assert search("alpha beta") == {"list"}


def test_wildcards_and_regexes_cross_newlines(search):
    assert search("t:line*two") == {"lines"}
    assert search("t:line?one*") == {"lines"}
    assert search("t:/line.*two/") == {"lines"}
    assert search("t:/one|x.*/") == {"lines", "circled"}, "a regex matches a value or a word of it"
    assert search("tags:/gamma|.*two/") == set(), "an alternation stays inside the field's values"


def test_an_escaped_star_is_a_star(search):
    assert search("s:a\\*b") == {"lines"}
    assert search("s:a\\**") == {"lines"}
    assert search("s:a\\*c*") == set()


def test_dates_tantivy_cannot_hold_are_keywords(search):
    assert parse_date("0001-01-01T00:00:00+05:00") is None and parse_date("2262-04-12") is None
    assert value_type("9999-12-31") == "keyword" and value_type("2262-04-11") == "date"
    kw, _, _ = _prepare({"d": "0001-01-01T00:00:00+05:00"}, "", [], set())
    assert kw == {"d": "0001-01-01T00:00:00+05:00"}
    assert search('d:"0001-01-01T00:00:00+05:00"') == {"old"}
    assert search("e:9999-12-31") == {"old"}
    assert search("e:2262-04-11") == {"neg"}
    assert search("d:[1000-01-01 TO 3000-01-01]") == {"day"}, "bounds beyond tantivy's dates are clamped"
    assert search("d:>=0001-01-01") == {"day"}


def test_a_day_is_the_whole_day(search):
    assert search("d:2020-01-05") == search("d:[2020-01-05 TO 2020-01-05]") == {"day"}
    assert search("d:{2020-01-05 TO *]") == search("d:>2020-01-05") == search("d:<2020-01-05") == set()


def test_negative_numbers(search):
    for q in ["n:-8", "n:\\-8", "n:(-8)", "n:[-8 TO -8]", "n:<-7.25", "n:<=-7.5", "n:>=-8 AND n:<-7.9"]:
        assert search(q) == {"day"}, q
    assert search("n:(-8 OR -7.25)") == {"day", "neg"}
    assert search("n:>-8") == {"neg"}
    assert search("n:(NOT -8) AND _exists_:n") == {"neg"}


def test_fuzzy_zero_is_exact(search):
    assert search("tags:alpha~0") == {"list"}
    assert search("tags:alpah~0") == set()
    assert search("tags:alpah~1") == search("tags:alpah~") == {"list"}


def test_any_field(search):
    assert search("*:*") == search("*") and len(search("*:*")) == 8
    assert search("*:* AND NOT _exists_:t") == {"list", "old", "day", "neg"}
    assert search("*:alpha") == {"list"}


def test_words_without_letters_are_dropped(search):
    assert search("alpha & beta") == search("alpha — beta") == {"list"}
    assert search("&") == set()


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ("alpha && beta", 6, "'&&' is not an operator"),
        ("alpha || beta", 6, "'||' is not an operator"),
        ("!alpha", 0, "'!' is not an operator"),
        ("tags:[a TO true]", 5, "range bound 'true' cannot be used on words"),
        ("tags:>=inf", 5, "range bound 'inf' cannot be used on words"),
        ("t:/(?=a)/", 2, "bad regular expression"),
        ("(" * 3000 + "a" + ")" * 3000, 0, "nests too deeply"),
    ],
)
def test_clear_errors(search, query, position, message):
    with pytest.raises(QueryError) as info:
        search(query)
    assert message in str(info.value) and info.value.position == position and info.value.hint


def test_rust_regex_syntax_is_accepted(search):
    assert search(r"tags:/\pL+/") == {"list"}


def test_a_date_tantivy_cannot_hold_does_not_break_the_hub(tmp_path):
    """It used to raise OverflowError while indexing: the index went stale, and every
    later opening of the hub failed in the rebuild."""
    hub = Hub(tmp_path / "hub", progress=False)
    rows = [{"key": "k1", "when": "0001-01-01T00:00:00+05:00"}, {"key": "k2", "when": "2020-01-05"}]
    sub = hub.submit(
        write_rows(tmp_path / "src", rows),
        "Dates",
        ["Doe, A"],
        mapping={"custom.key": "key", "custom.when": "when"},
    )
    assert sub.ok and not sub.errors, sub.report()
    assert hub.search("custom.when:2020-01-05").total == 1
    assert hub.search('custom.when:"0001-01-01T00:00:00+05:00"').total == 1
    hub.close()
    assert Hub(tmp_path / "hub", progress=False).rebuild_index() == 3


def test_per_site_data_is_stored_but_not_indexed(tmp_path):
    from hub.access import Principal
    from hub.index.engine import IndexDoc, SearchIndex

    index = SearchIndex(tmp_path / "ix")
    doc = {
        "mdf": {"source_name": "s", "source_id": "s_v1", "resource_type": "record"},
        "crystal_structure": {
            "number_of_atoms": 2,
            "species_at_sites": ["Zq", "Zq"],
            "cartesian_site_positions": [[0.0, 0.0, 0.0], [1.25, 1.25, 1.25]],
        },
    }
    index.replace_sources([], [IndexDoc("s_v1.1", "record", "s_v1", ["public"], doc)])
    anyone = Principal(None)
    assert index.search("crystal_structure.number_of_atoms:2", anyone).hits[0].document == doc  # stored whole
    assert index.search("crystal_structure.species_at_sites:Zq", anyone).total == 0
    assert index.search("Zq", anyone).total == 0
    assert "crystal_structure.cartesian_site_positions" not in index.fields()


def test_a_not_word_runs_only_its_analyzed_term(tmp_path):
    """Under NOT only the matches count: a one-word value of a keyword field needs its
    analyzed term alone (every keyword is also indexed as words), and finds the same."""
    docs: list[dict[str, Any]] = [
        {"id": "fe", "el": ["Fe", "O"], "note": "Fe-rich"},
        {"id": "co", "el": ["Co", "O"], "note": "cobalt"},
        {"id": "ni", "el": ["Ni"], "note": "Fe dopant"},
        {"id": "lower", "el": ["fe"], "note": "Fe"},
    ]
    index = index_of(tmp_path / "index", {"s": docs})
    types = index.field_types(ADMIN)
    query = compile_query("el:O AND NOT el:Fe", index.schema, index.index, types=types)
    excluded = repr(query).split("MustNot", 1)[1]
    assert 'type=Str, "fe"' in excluded and 'type=Str, "Fe"' not in excluded
    assert hit_ids(index.search("el:O AND NOT el:Fe", ADMIN)) == {"co"}
    assert hit_ids(index.search("NOT el:Fe", ADMIN)) == {"co", "ni"}
    assert hit_ids(index.search("NOT note:Fe", ADMIN)) == {"co"}
    assert hit_ids(index.search('NOT note:"Fe dopant"', ADMIN)) == {"fe", "co", "lower"}
