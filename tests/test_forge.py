"""Forge-style helpers (``hub/forge.py``) over a real hub built from real files.

Expected ids, counts and values are computed here from the submitted files (read
with ASE, parsed by hand, or known because the test wrote them), never from the
hub's own extractors.
"""

from __future__ import annotations

import csv
import hashlib
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import ase
import ase.io
import pytest
from ase.build import bulk, molecule
from luqum import tree
from luqum.parser import parser

from hub import Hub
from hub.exceptions import IntegrityError, QueryError, ValidationError
from hub.forge import Forge, quote

AUTHORS = ["Ward, Logan"]
MINERALS = Path(ase.__file__).parent / "test" / "testdata" / "minerals"

#: The generated structures: path in the dataset -> (atoms factory, space group number or None).
GENERATED: dict[str, tuple[Callable[[], ase.Atoms], int | None]] = {
    "Cu.cif": (lambda: bulk("Cu"), 225),
    "NaCl.cif": (lambda: bulk("NaCl", "rocksalt", a=5.64), 225),
    "Si.cif": (lambda: bulk("Si"), 227),
    "gaas/POSCAR": (lambda: bulk("GaAs", "zincblende", a=5.65), 216),
    "mgo/POSCAR": (lambda: bulk("MgO", "rocksalt", a=4.21), 225),
    "h2o.xyz": (lambda: molecule("H2O"), None),
    "ch4.xyz": (lambda: molecule("CH4"), None),
}
#: The CSV submitted with a mapping: formula, band gap (eV), formation energy (eV/atom).
BAND_GAPS = [
    ("NaCl", 5.0, -4.26),
    ("CoO", 2.5, -1.23),
    ("Fe2O3", 2.1, -1.7),
    ("Cu2O", 2.17, -0.61),
    ("ZnO", 3.37, -1.8),
    ("Si", 1.12, 0.0),
    ("GaAs", 1.42, -0.37),
    ("MgO", 7.8, -3.0),
]
CSV_NAME = "gaps.csv"
MAPPING = {
    "material.composition": "formula",
    "custom.band_gap": "band_gap",
    "custom.formation_energy": "e_form",
}
GEN_TITLE = "Generated (test) structures: Cu/NaCl"
GAPS_TITLE = "Band gaps of oxides & friends"
COD_DOI = "10.5555/cod-minerals"
RELATED_DOI = "10.1016/0927-0256(96)00008-0"  # Kresse & Furthmueller 1996: parentheses in a DOI


def formula_elements(formula: str) -> set[str]:
    return set(re.findall(r"[A-Z][a-z]?", formula))


def cif_space_group(path: Path) -> int:
    m = re.search(r"^_space_group_IT_number\s+(\d+)", path.read_text(), re.MULTILINE)
    assert m, path
    return int(m.group(1))


def read_elements(path: Path) -> set[str]:
    """The elements of a structure file, read with ASE (not with the hub's extractors)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        atoms = ase.io.read(path)
    assert isinstance(atoms, ase.Atoms)
    return set(atoms.get_chemical_symbols())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the corpus: what the test knows about every record, independently of the hub ----------


def corpus(gen_dir: Path) -> list[dict[str, Any]]:
    """One entry per record: source, path, elements, band gap, formation energy, space group."""
    out = []
    for p in sorted(MINERALS.glob("*.cif")):
        out.append(
            {
                "source": "cod_minerals",
                "path": p.name,
                "elements": read_elements(p),
                "sg": cif_space_group(p),
                "file": p,
            }
        )
    for rel, (make, sg) in GENERATED.items():
        out.append(
            {
                "source": "generated",
                "path": rel,
                "elements": set(make().get_chemical_symbols()),
                "sg": sg,
                "file": gen_dir / rel,
            }
        )
    for formula, gap, e_form in BAND_GAPS:
        out.append(
            {
                "source": "band_gaps",
                "path": CSV_NAME,
                "elements": formula_elements(formula),
                "gap": gap,
                "e_form": e_form,
                "sg": None,
            }
        )
    return out


def key(doc: dict[str, Any]) -> tuple[Any, ...]:
    """A record's identity for comparisons: source, first file, band gap (CSV rows share a file)."""
    if doc["mdf"]["resource_type"] == "dataset":
        return ("dataset", doc["mdf"]["source_name"])
    return (doc["mdf"]["source_name"], doc["files"][0]["path"], (doc.get("custom") or {}).get("band_gap"))


def expected(
    entries: Iterable[dict[str, Any]], pred: Callable[[dict[str, Any]], bool]
) -> set[tuple[Any, ...]]:
    return {(e["source"], e["path"], e.get("gap")) for e in entries if pred(e)}


def keys(docs: Iterable[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {key(d) for d in docs}


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("forge_files")
    gen = root / "generated"
    for rel, (make, _) in GENERATED.items():
        target = gen / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        ase.io.write(target, make(), format="vasp" if target.name == "POSCAR" else None)
    gaps = root / "gaps"
    gaps.mkdir()
    with open(gaps / CSV_NAME, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["formula", "band_gap", "e_form"])
        w.writerows(BAND_GAPS)
    return {"generated": gen, "gaps": gaps}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, files: dict[str, Path]) -> Iterable[Hub]:
    if not MINERALS.is_dir():
        pytest.skip("this ase build ships no test data")
    h = Hub(tmp_path_factory.mktemp("forge_hub") / "hub", progress=False)
    subs = [
        h.submit(
            MINERALS,
            title="COD minerals",
            authors=AUTHORS,
            publicationYear="2019",
            organizations=["Crystallography Open Database"],
            identifier={"identifier": COD_DOI, "identifierType": "DOI"},
        ),
        h.submit(
            files["generated"],
            title=GEN_TITLE,
            authors=["Doe, Jane"],
            source_name="generated",
            publicationYear="2021",
            organizations=["Argonne National Laboratory", "University of Chicago"],
            related_dois=[RELATED_DOI],
        ),
        h.submit(
            files["gaps"],
            title=GAPS_TITLE,
            authors=["Doe, Jane"],
            source_name="band_gaps",
            publicationYear="2023",
            organizations=["Argonne National Laboratory"],
            mapping=MAPPING,
        ),
    ]
    for sub in subs:
        assert sub.status == "complete" and not sub.errors, sub.report()
    yield h
    h.close()


@pytest.fixture(scope="module")
def entries(files: dict[str, Path]) -> list[dict[str, Any]]:
    return corpus(files["generated"])


@pytest.fixture()
def forge(hub: Hub) -> Forge:
    return Forge(hub)


ALL_RECORDS = 8 + len(GENERATED) + len(BAND_GAPS)


# -- quoting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("Co", "Co"),
        ("band_gaps", "band_gaps"),
        (2.5, "2.5"),
        (7, "7"),
        (-5, r"\-5"),
        (-2.5, r"\-2.5"),
        (1e20, "1e+20"),
        (True, "true"),
        (False, "false"),
        ("2019", "2019"),
        ("-0.61", r"\-0.61"),
        ("false", "false"),
        ("2020-01-31", "2020-01-31"),
        ("2020-01-31T12:00:00Z", r"2020-01-31T12\:00\:00Z"),
        ("Quantum ESPRESSO", '"Quantum ESPRESSO"'),
        (GEN_TITLE, f'"{GEN_TITLE}"'),
        (RELATED_DOI, f'"{RELATED_DOI}"'),
        ('say "hi"', r'"say \"hi\""'),
        ("a\\b", r'"a\\b"'),
        ("AND", '"AND"'),
        ("not", '"not"'),
        ("Co*", "Co*"),
        ("mp-*", "mp-*"),
        ("10.18126/*", r"10.18126\/*"),
        ("-x*", r"\-x*"),
    ],
)
def test_quote_writes_values_the_query_language_reads(value: Any, written: str) -> None:
    assert quote(value) == written
    node = parser.parse(f"f:{written}")
    assert isinstance(node, tree.SearchField)
    assert isinstance(node.expr, tree.Word | tree.Phrase), "one value, never an operator"


def test_quote_wildcard_override() -> None:
    assert quote("what*", wildcard=False) == '"what*"'
    assert quote("Co", wildcard=True) == "Co"
    with pytest.raises(ValidationError, match="cannot contain whitespace"):
        quote("a b*", wildcard=True)
    assert quote("a b*") == '"a b*"', "with whitespace a * is literal text"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        (float("nan"), "finite number"),
        (float("inf"), "finite number"),
        (["Co"], "string, number or boolean; got list"),
        (None, "string, number or boolean; got NoneType"),
    ],
)
def test_quote_rejects_what_is_not_a_value(value: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        quote(value)


def test_quoted_values_match_in_the_index(forge: Forge) -> None:
    def sources(docs: list[dict[str, Any]]) -> set[str]:
        return {d["mdf"]["source_name"] for d in docs}

    # parentheses, a colon and a slash in a title, in a phrase
    assert sources(forge.match_titles(GEN_TITLE).search()) == {"generated"}
    assert sources(forge.match_titles("oxides & friends").search()) == {"band_gaps"}
    # a DOI with parentheses and slashes
    assert sources(forge.match_dois(RELATED_DOI).search()) == {"generated"}
    # negative numbers, numbers given as strings, zero
    for value in (-1.23, "-1.23"):
        (row,) = forge.match_field("custom.formation_energy", value).search()
        assert row["material"]["composition"] == "CoO"
    (row,) = forge.match_field("custom.band_gap", "2.5").search()
    assert row["custom"]["band_gap"] == 2.5
    (row,) = forge.match_field("custom.formation_energy", 0).search()
    assert row["material"]["composition"] == "Si"
    # booleans: molecules are not periodic
    molecules = forge.match_field("crystal_structure.pbc", False).search()
    assert {d["files"][0]["path"] for d in molecules} == {"h2o.xyz", "ch4.xyz"}
    # a wildcard
    wild = forge.match_field("files.path", "*/POSCAR").search()
    assert {d["files"][0]["path"] for d in wild} == {"gaas/POSCAR", "mgo/POSCAR"}
    # the year is a string in DataCite; an int and a str both find it
    for year in (2019, "2019"):
        assert sources(forge.match_field("dc.publicationYear", year).search()) == {"cod_minerals"}
    # full text, in any field
    assert sources(forge.match_term("Crystallography Open Database").search()) == {"cod_minerals"}
    assert forge.match_term("gaps").match_term("oxides", required=False).current_query() == "(gaps OR oxides)"
    assert sources(forge.search()) == {"band_gaps"}


# -- building queries ------------------------------------------------------------------------


def test_chaining_builds_mdf_style_groups(forge: Forge) -> None:
    assert forge.current_query() == ""
    same = forge.match_field("material.elements", "Co")
    assert same is forge
    assert forge.current_query() == "(material.elements:Co)"
    forge.match_field("material.elements", "O").match_field("material.elements", "Fe", required=False)
    assert forge.current_query() == ("(material.elements:Co AND material.elements:O OR material.elements:Fe)")
    forge.match_range("custom.band_gap", 1, 3, new_group=True).exclude_field("material.composition", "CoO")
    assert forge.current_query() == (
        "(material.elements:Co AND material.elements:O OR material.elements:Fe)"
        " AND (custom.band_gap:[1 TO 3] AND NOT material.composition:CoO)"
    )
    forge.match_exists("dft.total_energy", required=False, new_group=True)
    assert forge.current_query().endswith(" OR (_exists_:dft.total_energy)")
    forge.reset_query()
    assert forge.current_query() == ""

    q = (
        forge.match_elements(["Co", "O"])
        .match_source_names(["band_gaps", "cod_minerals_v1"])
        .match_years([2021, "2019"])
        .match_resource_types("record")
        .match_organizations(["Argonne National Laboratory", "UChicago"], match_all=False)
        .match_not_exists("custom.band_gap", new_group=True)
        .exclude_range("custom.formation_energy", stop=-1, inclusive=False)
        .match_range("mdf.ingest_date", "2020-01-01")
        .current_query()
    )
    assert q == (
        "(material.elements:Co AND material.elements:O)"
        " AND (mdf.source_name:band_gaps OR mdf.source_name:cod_minerals_v1 OR mdf.source_id:cod_minerals_v1)"
        " AND (dc.publicationYear:2019 OR dc.publicationYear:2021)"
        " AND (mdf.resource_type:record)"
        ' AND (mdf.organizations:"Argonne National Laboratory" OR mdf.organizations:UChicago)'
        " AND (NOT _exists_:custom.band_gap AND NOT custom.formation_energy:{* TO -1}"
        " AND mdf.ingest_date:[2020-01-01 TO *])"
    )
    parser.parse(q)  # the whole string is valid query syntax


def test_match_elements_all_or_any(forge: Forge, entries: list[dict[str, Any]]) -> None:
    got = forge.match_elements(["Co", "S"]).search(limit=100)
    assert keys(got) == expected(entries, lambda e: {"Co", "S"} <= e["elements"])
    assert len(got) == 2, "the two cobaltite-like COD minerals"
    got = forge.match_elements(["cu", "ZN"], match_all=False).search(limit=100)  # case normalised
    assert keys(got) == expected(entries, lambda e: bool({"Cu", "Zn"} & e["elements"]))
    assert forge.search_by_elements("O", source_names="band_gaps", limit=100)
    got = forge.search_by_elements(["O"], source_names=["band_gaps"], limit=100)
    assert keys(got) == expected(entries, lambda e: e["source"] == "band_gaps" and "O" in e["elements"])
    assert forge.current_query() == "", "search resets the query"


def test_required_false_ors_within_the_group_and_new_group_ands(
    forge: Forge, entries: list[dict[str, Any]]
) -> None:
    forge.match_field("material.elements", "Zn").match_field("material.elements", "Mg", required=False)
    got = forge.search(limit=100)
    assert keys(got) == expected(entries, lambda e: bool({"Zn", "Mg"} & e["elements"]))
    # the same OR, then a new group ANDed with it
    forge.match_field("material.elements", "Zn").match_field("material.elements", "Mg", required=False)
    got = forge.match_source_names("generated").search(limit=100)
    assert keys(got) == expected(
        entries, lambda e: e["source"] == "generated" and bool({"Zn", "Mg"} & e["elements"])
    )
    # without the new group AND binds tighter: Zn OR (Mg AND generated)
    forge.match_field("material.elements", "Zn").match_field("material.elements", "Mg", required=False)
    got = forge.match_field("mdf.source_name", "generated").search(limit=100)
    assert keys(got) == expected(
        entries, lambda e: "Zn" in e["elements"] or ("Mg" in e["elements"] and e["source"] == "generated")
    )


def test_exclusions(forge: Forge, entries: list[dict[str, Any]]) -> None:
    got = forge.match_source_names("band_gaps").exclude_field("material.elements", "O").search(limit=100)
    assert keys(got) - {("dataset", "band_gaps")} == expected(
        entries, lambda e: e["source"] == "band_gaps" and "O" not in e["elements"]
    )
    # an exclusion first in the query still means "everything but"
    got = forge.exclude_field("mdf.source_name", "cod_minerals").match_resource_types("record").aggregate()
    assert keys(got) == expected(entries, lambda e: e["source"] != "cod_minerals")


def test_ranges(forge: Forge, entries: list[dict[str, Any]]) -> None:
    def gaps(pred: Callable[[float], bool]) -> set[tuple[Any, ...]]:
        return expected(entries, lambda e: "gap" in e and pred(e["gap"]))

    assert keys(forge.match_range("custom.band_gap", 2, 4).search(limit=100)) == gaps(lambda g: 2 <= g <= 4)
    got = forge.match_range("custom.band_gap", 2.1, 3.37, inclusive=False).search(limit=100)
    assert keys(got) == gaps(lambda g: 2.1 < g < 3.37)
    assert keys(forge.match_range("custom.band_gap", start=3).search(limit=100)) == gaps(lambda g: g >= 3)
    assert keys(forge.match_range("custom.band_gap", None, 2, inclusive=False).search(limit=100)) == gaps(
        lambda g: g < 2
    )
    got = forge.match_range("custom.formation_energy", -3, -1).search(limit=100)
    assert keys(got) == expected(entries, lambda e: "e_form" in e and -3 <= e["e_form"] <= -1)
    got = forge.match_source_names("band_gaps").exclude_range("custom.band_gap", 2, 4).search(limit=100)
    assert keys(got) - {("dataset", "band_gaps")} == gaps(lambda g: not 2 <= g <= 4)
    got = forge.match_range("crystal_structure.space_group_number", 200, 230).search(limit=100)
    assert keys(got) == expected(entries, lambda e: e["sg"] is not None and 200 <= e["sg"] <= 230)
    # both bounds open: the field exists
    assert forge.match_range("custom.band_gap").current_query() == "(_exists_:custom.band_gap)"
    assert (
        forge.exclude_range("custom.band_gap").current_query().endswith("AND NOT _exists_:custom.band_gap)")
    )
    forge.reset_query()
    # dates
    assert len(forge.match_range("mdf.ingest_date", "2000-01-01").aggregate()) == ALL_RECORDS + 3
    assert forge.match_range("mdf.ingest_date", stop="2000-01-01T00:00:00Z").search() == []


def test_range_with_a_whole_and_a_fractional_bound(forge: Forge, entries: list[dict[str, Any]]) -> None:
    # tantivy types 2.0 as an integer and 2.5 as a float: the engine must not panic on the mix
    got = forge.match_range("custom.band_gap", 2, 2.5).search(limit=100)
    assert keys(got) == expected(entries, lambda e: "gap" in e and 2 <= e["gap"] <= 2.5)
    got = forge.match_range("custom.formation_energy", -1.7, 0, inclusive=False).search(limit=100)
    assert keys(got) == expected(entries, lambda e: "e_form" in e and -1.7 < e["e_form"] < 0)


def test_exists_and_not_exists(forge: Forge, entries: list[dict[str, Any]]) -> None:
    got = forge.match_exists("custom.band_gap").search(limit=100)
    assert keys(got) == expected(entries, lambda e: e["source"] == "band_gaps")
    got = forge.match_not_exists("custom.band_gap").match_resource_types("record").search(limit=100)
    assert keys(got) == expected(entries, lambda e: e["source"] != "band_gaps")


def test_years(forge: Forge) -> None:
    def sources(docs: list[dict[str, Any]]) -> set[str]:
        return {d["mdf"]["source_name"] for d in docs}

    assert sources(forge.match_years(2019).search()) == {"cod_minerals"}
    assert sources(forge.match_years(["2019", 2023]).search()) == {"cod_minerals", "band_gaps"}
    # a range is a numeric range on the (string) year
    forge.match_years(start=2020)
    assert forge.current_query() == "(dc.publicationYear:[2020 TO *])"
    assert sources(forge.search()) == {"generated", "band_gaps"}
    assert sources(forge.match_years(start=2019, stop=2023, inclusive=False).search()) == {"generated"}
    assert sources(forge.match_years(stop=2021).search()) == {"cod_minerals", "generated"}
    # no year in the range: nothing
    forge.match_years(start=1990, stop=2000)
    assert forge.current_query() == "(dc.publicationYear:[1990 TO 2000])"
    assert forge.search() == []
    # years wins over start/stop; nothing given, nothing added
    assert forge.match_years(2019, start=2020).current_query() == "(dc.publicationYear:2019)"
    forge.reset_query()
    assert forge.match_years().match_years([]).current_query() == ""


def test_year_range_in_the_query_language(forge: Forge) -> None:
    docs = forge.search(q="dc.publicationYear:[2020 TO 2024]")
    assert {d["mdf"]["source_name"] for d in docs} == {"generated", "band_gaps"}


def test_dataset_helpers(forge: Forge) -> None:
    def sources(docs: list[dict[str, Any]]) -> set[str]:
        return {d["mdf"]["source_name"] for d in docs}

    assert sources(forge.match_dois(COD_DOI).search()) == {"cod_minerals"}
    assert sources(forge.match_field("dc.identifier.identifier", "10.5555/*").search()) == {"cod_minerals"}
    both = forge.match_dois([f"https://doi.org/{COD_DOI}", f"doi:{RELATED_DOI}"]).search()
    assert sources(both) == {"cod_minerals", "generated"}
    assert all(d["mdf"]["resource_type"] == "dataset" for d in both)
    argonne = forge.match_organizations("Argonne National Laboratory").search()
    assert sources(argonne) == {"generated", "band_gaps"}
    both_orgs = forge.match_organizations(["Argonne National Laboratory", "University of Chicago"]).search()
    assert sources(both_orgs) == {"generated"}
    assert sources(forge.search_by_titles(["COD minerals", GAPS_TITLE])) == {"cod_minerals", "band_gaps"}
    datasets = forge.match_resource_types("dataset").search(limit=100)
    assert sources(datasets) == {"cod_minerals", "generated", "band_gaps"} and len(datasets) == 3
    records = forge.match_resource_types(["record"]).aggregate()
    assert len(records) == ALL_RECORDS
    assert len(forge.match_resource_types(["record", "dataset"]).aggregate()) == ALL_RECORDS + 3
    versioned = forge.match_source_names("generated_v1").search(limit=100)
    assert sources(versioned) == {"generated"} and len(versioned) == len(GENERATED) + 1
    assert len(forge.aggregate_sources(["band_gaps", "generated"])) == len(BAND_GAPS) + len(GENERATED) + 2


# -- running queries -------------------------------------------------------------------------


def test_search_limit_info_and_reset(forge: Forge) -> None:
    forge.match_resource_types("record")
    assert len(forge.search(reset_query=False)) == 10, "10 results by default, as MDF Forge"
    assert forge.current_query() == "(mdf.resource_type:record)"
    results, info = forge.search(limit=5, info=True)
    assert len(results) == 5
    assert info["total"] == info["total_query_matches"] == ALL_RECORDS
    assert info["query"] == "(mdf.resource_type:record)" and info["limit"] == 5
    assert forge.current_query() == "", "reset after the search"
    assert forge.search(q="mdf.resource_type:record", limit=0, info=True)[1]["total"] == ALL_RECORDS
    assert len(forge.search(q="*", limit=100)) == ALL_RECORDS + 3


def test_search_with_q_leaves_the_built_query(forge: Forge) -> None:
    forge.match_source_names("band_gaps")
    docs = forge.search(q='dc.titles.title:"COD minerals"')
    assert {d["mdf"]["source_name"] for d in docs} == {"cod_minerals"}
    assert forge.current_query() == "(mdf.source_name:band_gaps)"
    assert len(forge.aggregate(q="mdf.source_name:generated")) == len(GENERATED) + 1
    assert forge.current_query() == "(mdf.source_name:band_gaps)"


def test_a_bad_query_keeps_the_built_query(forge: Forge) -> None:
    forge.match_field("custom.band_gap", 1)
    with pytest.raises(QueryError):
        forge.search(q="custom.band_gap:[1 TO")
    assert forge.current_query() == "(custom.band_gap:1)"


def test_facets_count_the_whole_result(forge: Forge, entries: list[dict[str, Any]]) -> None:
    everything = Counter(el for e in entries for el in e["elements"])
    assert forge.facets("material.elements", size=100) == dict(everything), "no query: everything visible"
    forge.match_source_names("cod_minerals").match_resource_types("record")
    cod = Counter(el for e in entries if e["source"] == "cod_minerals" for el in e["elements"])
    counts = forge.facets("material.elements", size=100)
    assert counts == dict(cod)
    assert list(counts.values()) == sorted(counts.values(), reverse=True), "most frequent first"
    assert forge.current_query() != "", "facets do not reset the query"
    top = forge.facets("material.elements", size=2)
    assert sorted(top.values()) == sorted(cod.values())[-2:]
    assert all(cod[k] == v for k, v in top.items())
    # in search(): over the whole result, not only the page
    results, info = forge.search(limit=1, info=True, facets=["material.elements", "mdf.source_name"])
    assert len(results) == 1
    elements = info["facets"]["material.elements"]
    assert len(elements) == 10, "10 values by default"
    assert all(cod[k] == v for k, v in elements.items())
    assert sorted(elements.values()) == sorted(cod.values())[-10:]
    assert info["facets"]["mdf.source_name"] == {"cod_minerals": 8}
    gaps = forge.facets("custom.band_gap", q="mdf.source_name:band_gaps", size=100)
    assert gaps == {gap: 1 for _, gap, _ in BAND_GAPS}


def test_show_fields(forge: Forge) -> None:
    fields = forge.show_fields()
    assert fields["custom.band_gap"] == "number"
    assert fields["custom.formation_energy"] == "number"
    assert fields["material.elements"] == "keyword"
    assert fields["mdf.ingest_date"] == "date"
    assert fields["crystal_structure.pbc"] == "boolean"
    assert fields["dc.publicationYear"] == "keyword"
    material = forge.show_fields("material")
    assert material == {"material.composition": "keyword", "material.elements": "keyword"}
    assert forge.show_fields("custom") == {"custom.band_gap": "number", "custom.formation_energy": "number"}
    assert set(forge.show_fields("top")) == {p.split(".")[0] for p in fields}
    assert set(forge.show_fields("top").values()) == {"object"}
    assert forge.show_fields("no_such_block") == {}


# -- files -----------------------------------------------------------------------------------


def test_download_flat_and_with_folders(
    forge: Forge, files: dict[str, Path], tmp_path: Path, entries: list[dict[str, Any]]
) -> None:
    gen = forge.match_source_names("generated").match_resource_types("record").search(limit=100)
    gaps = forge.match_source_names("band_gaps").aggregate()
    # flat: filenames; the two POSCARs collide and get their source_id in front
    written = forge.download((gen + gaps, {"info": "as search(info=True) returns"}), tmp_path / "flat")
    names = {p.name for p in written}
    assert names == {
        "Cu.cif",
        "NaCl.cif",
        "Si.cif",
        "h2o.xyz",
        "ch4.xyz",
        "POSCAR",
        "generated_v1-POSCAR",
        CSV_NAME,
    }
    assert len(written) == len(GENERATED) + 1, "the CSV's rows share one file, downloaded once"
    assert all(p.parent == tmp_path / "flat" for p in written)
    originals = {rel: files["generated"] / rel for rel in GENERATED} | {CSV_NAME: files["gaps"] / CSV_NAME}
    by_content = {sha256(p): p for p in originals.values()}
    for p in written:
        assert sha256(p) in by_content and p.read_bytes() == by_content[sha256(p)].read_bytes()
    # with folders: dest/<source_id>/<path>, byte for byte
    written = forge.download(gen, tmp_path / "tree", preserve_dir=True)
    assert sorted(p.relative_to(tmp_path / "tree").as_posix() for p in written) == sorted(
        f"generated_v1/{rel}" for rel in GENERATED
    )
    for rel, original in originals.items():
        if rel != CSV_NAME:
            assert (tmp_path / "tree" / "generated_v1" / rel).read_bytes() == original.read_bytes()
    # again: the same files, replaced in place
    assert forge.download(gen, tmp_path / "tree", preserve_dir=True) == written
    # one record; a dataset document has no files
    (cu,) = [d for d in gen if d["files"][0]["path"] == "Cu.cif"]
    assert forge.download(cu, tmp_path / "one") == [tmp_path / "one" / "Cu.cif"]
    dataset = forge.match_resource_types("dataset").match_source_names("generated").search()
    assert forge.download(dataset, tmp_path / "none") == []


def test_download_refuses_a_file_that_does_not_match_its_record(forge: Forge, tmp_path: Path) -> None:
    (doc,) = forge.match_source_names("generated").match_field("files.path", "Cu.cif").search()
    forged = {**doc, "files": [{**doc["files"][0], "sha256": "0" * 64}]}
    with pytest.raises(IntegrityError, match="does not match its record"):
        forge.download([forged], tmp_path)
    assert list(tmp_path.iterdir()) == [], "nothing half-written is left behind"
    with pytest.raises(IntegrityError):
        list(forge.stream([forged]))


def test_stream(forge: Forge, files: dict[str, Path]) -> None:
    gen = forge.match_source_names("generated").match_resource_types("record").search(limit=100)
    contents = list(forge.stream(gen))
    by_path = {d["files"][0]["path"]: d for d in gen}
    assert len(contents) == len(GENERATED)
    assert sorted(contents) == sorted((files["generated"] / rel).read_bytes() for rel in by_path)
    rows = forge.match_source_names("band_gaps").match_resource_types("record").aggregate()
    assert list(forge.stream(rows)) == [(files["gaps"] / CSV_NAME).read_bytes()]


# -- arguments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: f.match_field("material elements", "Co"), "dotted path"),
        (lambda f: f.match_field("material.elements", ""), "must not be empty"),
        (lambda f: f.match_field("material.elements", "Co", "yes"), "required must be True or False"),
        (lambda f: f.match_elements("CoO"), "'CoO' is not an element symbol"),
        (lambda f: f.match_elements(42), "is not an element symbol"),
        (lambda f: f.match_elements({}), "non-empty list"),
        (lambda f: f.match_range("custom.band_gap", 5, 1), "start 5 is greater than stop 1"),
        (lambda f: f.match_range("custom.band_gap", "a b", 3), "a range bound must be"),
        (lambda f: f.match_range("custom.band_gap", True, 3), "got the boolean"),
        (lambda f: f.match_years("last year"), "years such as 2019"),
        (lambda f: f.match_years(start=2020, stop=2019), "no year lies between"),
        (lambda f: f.match_resource_types("servable"), "'servable' is not one of 'record', 'dataset'"),
        (lambda f: f.match_dois([""]), "a DOI must be a non-empty string"),
        (lambda f: f.search(), "there is no query to run"),
        (lambda f: f.aggregate(), "there is no query to run"),
        (lambda f: f.search(q="  "), "q must be a non-empty query string"),
        (lambda f: f.search(q="*", limit=10_001), "from 0 to 10000; got 10001. Use forge.aggregate()"),
        (lambda f: f.search(q="*", limit=-1), "from 0 to 10000; got -1"),
        (lambda f: f.search(q="*", facets=["material.elements"]), "info=True"),
        (lambda f: f.search(q="*", facets=[3], info=True), "a facet is a field path"),
        (lambda f: f.facets("material.elements", size=0), "size must be a whole number >= 1; got 0"),
        (lambda f: f.show_fields(""), "block must be None, 'top' or a block name"),
        (lambda f: f.download(["not a document"], "."), "found str"),
        (lambda f: f.download([{"files": [{"path": "x"}]}], "."), "needs mdf.source_id"),
        (lambda f: f.stream(42), "got int"),
    ],
)
def test_bad_arguments_say_what_was_received_and_what_is_allowed(
    forge: Forge, call: Callable[[Forge], Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        call(forge)


def test_forge_opens_the_default_hub(hub_home: Path) -> None:
    f = Forge()
    assert f.hub.home == hub_home
    assert f.search(q="*") == []
    f.hub.close()
    g = Forge(hub_home)
    assert g.hub.home == hub_home
    g.hub.close()
    with pytest.raises(ValidationError, match="Forge needs a Hub"):
        Forge(42)  # type: ignore[arg-type]


# -- aggregate beyond the search engine's page limit ---------------------------------------------

BIG_ROWS = 12_000
BIG_FORMULAS = ("NaCl", "CoO", "Fe2O3", "Cu2O")


@pytest.fixture(scope="module")
def big_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterable[Hub]:
    root = tmp_path_factory.mktemp("forge_big")
    (root / "rows").mkdir()
    lines = ["formula,band_gap"] + [f"{BIG_FORMULAS[i % 4]},{i / 1000}" for i in range(BIG_ROWS)]
    (root / "rows" / "big.csv").write_text("\n".join(lines) + "\n")
    h = Hub(root / "hub", progress=False)
    sub = h.submit(
        root / "rows",
        title="Twelve thousand rows",
        authors=AUTHORS,
        source_name="big",
        mapping={"material.composition": "formula", "custom.band_gap": "band_gap"},
    )
    assert sub.status == "complete", sub.report()
    yield h
    h.close()


def test_aggregate_returns_every_result(big_hub: Hub) -> None:
    f = Forge(big_hub)
    f.match_source_names("big").match_resource_types("record")
    page, info = f.search(limit=10_000, info=True, reset_query=False)
    assert len(page) == 10_000 and info["total"] == BIG_ROWS, "search stops at the engine's page limit"
    rows = f.aggregate()
    assert len(rows) == BIG_ROWS
    assert len({r["mdf"]["record_id"] for r in rows}) == BIG_ROWS
    assert sorted(r["custom"]["band_gap"] for r in rows) == [i / 1000 for i in range(BIG_ROWS)]
    assert Counter(r["material"]["composition"] for r in rows) == {x: BIG_ROWS // 4 for x in BIG_FORMULAS}
    assert len(f.aggregate_sources("big")) == BIG_ROWS + 1, "with the dataset document"
    assert len(f.match_range("custom.band_gap", 10, 11).aggregate()) == 1001
    assert f.facets("material.composition", q="*") == {x: BIG_ROWS // 4 for x in BIG_FORMULAS}


# -- access control ---------------------------------------------------------------------------


def test_private_datasets_stay_private(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "s.csv").write_text("formula,secret_level\nPuO2,9\nUO2,7\n")
    (tmp_path / "public").mkdir()
    ase.io.write(tmp_path / "public" / "Cu.cif", bulk("Cu"))
    with Hub(home, user="alice", progress=False) as alice:
        sub = alice.submit(
            tmp_path / "secret",
            title="Alice secret",
            authors=AUTHORS,
            source_name="alice_secret",
            visible_to=["user:alice"],
            mapping={"material.composition": "formula", "custom.secret_level": "secret_level"},
        )
        assert sub.status == "complete", sub.report()
        assert alice.submit(tmp_path / "public", title="Alice public", authors=AUTHORS).status == "complete"
        a = Forge(alice)
        assert len(a.match_source_names("alice_secret").aggregate()) == 3
        assert a.facets("material.elements", q="*")["O"] == 2
        assert "custom.secret_level" in a.show_fields()

    with Hub(home, user="bob", progress=False) as bob_hub:
        bob = Forge(bob_hub)
        results, info = bob.match_source_names("alice_secret").search(info=True, facets=["material.elements"])
        assert results == [] and info["total"] == 0 and info["facets"]["material.elements"] == {}
        assert bob.search(q="custom.secret_level:*") == []
        assert bob.match_elements("Pu").aggregate() == []
        everything = bob.aggregate(q="*")
        assert {d["mdf"]["source_name"] for d in everything} == {"alice_public"}
        assert len(everything) == 2
        assert bob.facets("material.elements", q="*") == {"Cu": 1}
        assert bob.facets("custom.secret_level", q="*") == {}
        assert "custom.secret_level" not in bob.show_fields()
        assert bob.show_fields("custom") == {}
        assert {d["mdf"]["source_name"] for d in bob.match_years(start=1900).search(limit=100)} == {
            "alice_public"
        }


# -- real data: MaterialsIO and G4MP2 ---------------------------------------------------------------


def read_g4mp2_xyz(path: Path) -> list[str]:
    """The species of a G4MP2 extended-XYZ file (which ase.io.read cannot read whole)."""
    lines = path.read_text().splitlines()
    n = int(lines[0].split()[0])
    return [line.split()[0] for line in lines[2 : 2 + n]]


@pytest.mark.shared_data
def test_real_materialsio_and_g4mp2(shared_data: Path, tmp_path: Path) -> None:
    sugars = shared_data / "g4mp2" / "GDB_Sugar_Data"
    mio = shared_data / "materialsio"
    hub = Hub(tmp_path / "hub", progress=False)
    for source, title, name in ((sugars, "G4MP2 sugars", "g4mp2"), (mio, "MaterialsIO", "materialsio")):
        sub = hub.submit(source, title=title, authors=AUTHORS, source_name=name)
        assert sub.status == "complete", sub.report()
    f = Forge(hub)

    species = {p.name: read_g4mp2_xyz(p) for p in sorted(sugars.glob("*.xyz"))}
    assert len(species) == 102
    molecules = f.match_source_names("g4mp2").match_exists("material.elements").aggregate()
    assert {d["files"][0]["path"] for d in molecules} == set(species)
    # elements: every molecule with C, H and O; facet counts over all of them
    cho = f.match_source_names("g4mp2").match_elements(["C", "H", "O"]).aggregate()
    assert {d["files"][0]["path"] for d in cho} == {
        n for n, s in species.items() if {"C", "H", "O"} <= set(s)
    }
    presence = Counter(el for s in species.values() for el in set(s))
    assert f.facets("material.elements", q="mdf.source_name:g4mp2", size=20) == dict(presence)
    # a range on the number of atoms
    got = f.match_source_names("g4mp2").match_range("crystal_structure.number_of_atoms", 10, 20).aggregate()
    assert {d["files"][0]["path"] for d in got} == {n for n, s in species.items() if 10 <= len(s) <= 20}
    # a value with a space: one Quantum ESPRESSO run folder, one record
    (qe,) = f.match_field("dft.code", "Quantum ESPRESSO").search()
    on_disk = {p.relative_to(mio).as_posix() for p in (mio / "pwscf").rglob("*") if p.is_file()}
    assert {x["path"] for x in qe["files"]} == on_disk
    # elements read with ASE from the real CIF; its file downloaded byte for byte
    ce = read_elements(mio / "crystal_structure" / "Ce3VO16.cif")
    (rec,) = f.match_source_names("materialsio").match_elements(sorted(ce)).search()
    (path,) = f.download(rec, tmp_path / "dl")
    assert path.name == "Ce3VO16.cif"
    assert path.read_bytes() == (mio / "crystal_structure" / "Ce3VO16.cif").read_bytes()
    formic = f.match_source_names("g4mp2").match_field("files.filename", "acid-formicacid.xyz").search()
    assert list(f.stream(formic)) == [(sugars / "acid-formicacid.xyz").read_bytes()]
    hub.close()
