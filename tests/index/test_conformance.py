"""The query language, construct by construct, on a fixed corpus with known answers.

The corpus goes through a real hub: two datasets of generated records (a JSON
file submitted with a mapping) and the 8 COD mineral CIFs shipped in the ase
wheel; a second table runs on MaterialsIO's real files (../shared/data) when
they are present.  Every expected set below was written by reading the rows
(or the CIFs' ``_chemical_formula_sum``, ``_space_group_IT_number`` and
``_cell_volume``), never by running the code under test: records are named by
their ``custom.key`` (``r01``), minerals by their file (``cod_9004112``),
datasets by their source_id.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub import Hub

from .conftest import write_rows

MAPPING = {
    "custom.key": "key",
    "material.composition": "formula",
    "custom.gap": "gap",
    "custom.stable": "stable",
    "custom.measured": "measured",
    "custom.phase": "phase",
    "custom.tags": "tags",
    "custom.note": "note",
    "dft.code": "code",
    "dft.total_energy": "energy",
    "crystal_structure.space_group_number": "sg",
}
VASP, QE = "VASP", "Quantum ESPRESSO"


def row(key, formula, gap, stable, measured, phase, tags, note, code, energy, sg) -> dict[str, Any]:
    values = dict(
        key=key, formula=formula, gap=gap, stable=stable, measured=measured, phase=phase,
        tags=tags, note=note, code=code, energy=energy, sg=sg,
    )  # fmt: skip
    return {k: v for k, v in values.items() if v is not None and v != []}


# gap: ints (4, 3, 1), floats, an integral float (2.0); measured: days, UTC and offset datetimes
OXIDES = [
    row("r01", "CoO", 2.5, True, "2019-03-14", "rocksalt", ["magnetic"], "cobalt oxide thin film", VASP, -7.25, 225),
    row("r02", "Co3O4", 1.6, True, "2020-06-01", "Spinel", ["magnetic", "battery"], "cobalt spinel powder", VASP, -6.9, 227),
    row("r03", "NiO", 4, False, "2020-12-31T18:30:00Z", "rocksalt", ["magnetic"], "nickel oxide thin film", QE, -5.5, 225),
    row("r04", "Fe2O3", 2.0, True, "2021-01-01", "Corundum", ["pigment"], "hematite red pigment", VASP, -8, 167),
    row("r05", "ZnO", 3.3, True, "2018-07-04", "wurtzite", ["battery", "transparent"], "zinc oxide nanowires", QE, -4.1, 186),
    row("r06", "MnO2", None, False, None, "rutile", [], "manganese dioxide cathode", VASP, -6.2, 136),
    row("r07", "CuO", 1.2, False, "2022-02-02", "Tenorite", [], "copper oxide film", None, None, 15),
    row("r08", "TiO2", 3, True, "2021-11-11T08:00:00+02:00", "RUTILE", ["photocatalyst"], "titanium dioxide photocatalyst", VASP, -9.75, 136),
]  # fmt: skip
PEROVSKITES = [
    row("p01", "SrTiO3", 3.2, True, "2019-01-01", "perovskite", ["cubic"], "strontium titanate substrate", VASP, -8.5, 221),
    row("p02", "BaTiO3", 2.7, True, "2019-06-15", "perovskite", ["ferroelectric", "cubic"], "barium titanate ferroelectric", QE, -8.1, 99),
    row("p03", "CaTiO3", 3.5, True, "2020-02-29", "Perovskite", ["mineral"], "calcium titanate", VASP, -8.3, 62),
    row("p04", "LaMnO3", 1, False, "2021-05-05", "perovskite", ["magnetic"], "lanthanum manganite magnetoresistance", VASP, -7.6, 62),
    row("p05", "CsPbI3", 1.73, False, "2023-03-03T12:00:00Z", "perovskite", ["photovoltaic"], "cesium lead iodide solar absorber", VASP, -3.2, 221),
    row("p06", "KNbO3", None, None, "2017-10-10", "perovskite", ["ferroelectric"], "potassium niobate", None, None, 38),
]  # fmt: skip

DSX, DSP, DSM = "oqmd_oxides_v1", "oqmd_perovskites_v1", "cod_minerals_v1"
OX = {r["key"] for r in OXIDES}
PV = {r["key"] for r in PEROVSKITES}
# file -> (_chemical_formula_sum, _space_group_IT_number, _cell_volume) of each CIF
MINERAL_FACTS = {
    "cod_1010930": ("Ni Sb", 194, 68.4),
    "cod_1010995": ("C Si", 216, 82.2),
    "cod_9001665": ("Al F3 H2 O2 Pb", 2, 198.618),
    "cod_9004112": ("As Co S", 4, 89.064),
    "cod_9004218": ("As Co S", 29, 174.168),
    "cod_9007640": ("Ni3 S2", 155, 67.500),
    "cod_9007661": ("Mo S2", 160, 159.162),
    "cod_9017338": ("O2 Si", 92, 171.257),
}
MIN = set(MINERAL_FACTS)
DATASETS = {DSX, DSP, DSM}
RECORDS = OX | PV | MIN
ALL = RECORDS | DATASETS
STABLE = {"r01", "r02", "r04", "r05", "r08", "p01", "p02", "p03"}
UNSTABLE = {"r03", "r06", "r07", "p04", "p05"}
WITH_CODE = {"r01", "r02", "r03", "r04", "r05", "r06", "r08", "p01", "p02", "p03", "p04", "p05"}

# fmt: off
CASES: list[tuple[str, set[str]]] = [
    # bare words: every string of records and datasets, analyzed
    ("cobalt", {"r01", "r02", DSX}),  # DSX's title is "Cobalt and nickel oxides"
    ("Cobalt", {"r01", "r02", DSX}),
    ("COBALT", {"r01", "r02", DSX}),
    ("oxide", {"r01", "r03", "r05", "r07"}),  # "oxides" is another word
    ("ferroelectric", {"p02", "p06"}),
    ("perovskite", PV | {DSP}),
    ("co", {"r01", "r02", "cod_9004112", "cod_9004218"}),  # the element Co
    ("nothingmatchesthis", set()),
    # implicit AND, AND, OR, NOT, +, -, parentheses
    ("cobalt film", {"r01"}),
    ("cobalt AND film", {"r01"}),
    ("cobalt OR nickel", {"r01", "r02", "r03", DSX}),
    ("(cobalt OR nickel) AND mdf.resource_type:record", {"r01", "r02", "r03"}),
    ("film -oxide", set()),  # every film is an oxide film here
    ("film AND NOT cobalt", {"r03", "r07"}),
    ("film -cobalt", {"r03", "r07"}),
    ("+film -cobalt", {"r03", "r07"}),
    ("NOT mdf.resource_type:record", DATASETS),
    ("-mdf.resource_type:record", DATASETS),
    ("material.elements:O AND NOT material.elements:Ti",
     OX - {"r08"} | {"p04", "p06", "cod_9001665", "cod_9017338"}),
    ("material.elements:O -material.elements:Ti",
     OX - {"r08"} | {"p04", "p06", "cod_9001665", "cod_9017338"}),
    ("NOT (dft.code:VASP OR dft.code:espresso)", ALL - WITH_CODE),
    ("(custom.phase:rocksalt OR custom.phase:wurtzite) AND custom.stable:true", {"r01", "r05"}),
    ("custom.stable:true OR NOT _exists_:custom.stable", STABLE | (ALL - STABLE - UNSTABLE)),
    ("*", ALL),
    ("*:*", ALL),
    # phrases and proximity
    ('"thin film"', {"r01", "r03"}),
    ('"oxide thin film"', {"r01", "r03"}),
    ('"film thin"', set()),
    ('"cobalt oxide"', {"r01"}),  # not DSX: "Cobalt and nickel oxides"
    ('"cobalt film"~2', {"r01"}),
    ('"cobalt film"~1', set()),
    ('custom.note:"thin film"', {"r01", "r03"}),
    ('dc.titles.title:"nickel oxides"', {DSX}),
    # field:value on dotted paths, lists of values, nested lists of objects
    ("material.elements:Co", {"r01", "r02", "cod_9004112", "cod_9004218"}),
    ("material.elements:co", {"r01", "r02", "cod_9004112", "cod_9004218"}),
    ("material.elements:Ti", {"r08", "p01", "p02", "p03"}),
    ("material.elements:(Co OR Ni)",
     {"r01", "r02", "r03", "cod_1010930", "cod_9004112", "cod_9004218", "cod_9007640"}),
    ("material.elements:(S AND Co)", {"cod_9004112", "cod_9004218"}),
    ("material.composition:CoO", {"r01"}),
    ("material.composition:coo", {"r01"}),
    ("dft.code:VASP", WITH_CODE - {"r03", "r05", "p02"}),
    ('dft.code:"Quantum ESPRESSO"', {"r03", "r05", "p02"}),
    ("dft.code:espresso", {"r03", "r05", "p02"}),  # a word of the value
    ("custom.note:film", {"r01", "r03", "r07"}),
    ("custom.tags:magnetic", {"r01", "r02", "r03", "p04"}),
    ("custom.tags:(battery OR pigment)", {"r02", "r04", "r05"}),
    ("custom.tags:(magnetic AND battery)", {"r02"}),
    ("files.filename:cod_9004112.cif", {"cod_9004112"}),
    ('files.filename:"cod_9004112.cif"', {"cod_9004112"}),
    ("crystal_structure.space_group_number:225", {"r01", "r03"}),
    ("crystal_structure.space_group_number:62", {"p03", "p04"}),
    ("crystal_structure.space_group_number:160", {"cod_9007661"}),
    ("dc.titles.title:perovskite", {DSP}),
    ("dc.titles.title:Perov*", {DSP}),
    # MDF field names and records vs datasets
    ("mdf.source_name:oqmd*", OX | PV | {DSX, DSP}),
    ("mdf.source_name:oqmd_oxides", OX | {DSX}),
    ("mdf.source_name:*minerals", MIN | {DSM}),
    ("dc.creators.creatorName:Ward", {DSX, DSM}),
    ("dc.creators.name:Ward", {DSX, DSM}),
    ('dc.creators.creatorName:"Chard, Kyle"', {DSP}),
    ("dc.creators.familyName:Blaiszik", {DSX}),
    ("mdf.resource_type:dataset", DATASETS),
    ("mdf.resource_type:record", RECORDS),
    ("mdf.resource_type:dataset AND cobalt", {DSX}),
    # custom fields, on records and on datasets
    ("custom.facility:APS", {DSX}),
    ("custom.facility:nersc", {DSP}),
    ("custom.beamline:7", {DSX}),
    ("custom.beamline:7.0", {DSX}),
    ("custom.beamline:>=5", {DSX}),
    # booleans
    ("custom.stable:true", STABLE),
    ("custom.stable:TRUE", STABLE),
    ('custom.stable:"true"', STABLE),
    ("custom.stable:false", UNSTABLE),
    ("NOT custom.stable:true", ALL - STABLE),
    ("_exists_:custom.stable AND NOT custom.stable:true", UNSTABLE),
    # numbers written as ints and as floats
    ("custom.gap:2", {"r04"}),  # stored 2.0
    ("custom.gap:2.0", {"r04"}),
    ("custom.gap:4", {"r03"}),  # stored 4
    ("custom.gap:4.0", {"r03"}),
    ("custom.gap:1", {"p04"}),
    ('custom.gap:"2.5"', {"r01"}),
    ("custom.gap:1.73", {"p05"}),
    ("dft.total_energy:-8", {"r04"}),
    ("dft.total_energy:-8.0", {"r04"}),
    ("dft.total_energy:(-8 OR -7.25)", {"r01", "r04"}),
    # number ranges
    ("custom.gap:[2 TO 3]", {"r01", "r04", "r08", "p02"}),
    ("custom.gap:{2 TO 3}", {"r01", "p02"}),
    ("custom.gap:[2 TO 3}", {"r01", "r04", "p02"}),
    ("custom.gap:[1.6 TO 2.5]", {"r01", "r02", "r04", "p05"}),
    ("custom.gap:[2.0 TO 2.5]", {"r01", "r04"}),
    ("custom.gap:>=3.3", {"r03", "r05", "p03"}),
    ("custom.gap:>3.3", {"r03", "p03"}),
    ("custom.gap:<1.6", {"r07", "p04"}),
    ("custom.gap:<=1.6", {"r02", "r07", "p04"}),
    ("custom.gap:[* TO 1.2]", {"r07", "p04"}),
    ("custom.gap:[3 TO *]", {"r03", "r05", "r08", "p01", "p03"}),
    ("dft.total_energy:[-8.3 TO -7.25]", {"r01", "r04", "p02", "p03", "p04"}),
    ("dft.total_energy:<-8.3", {"r08", "p01"}),
    ("dft.total_energy:>=-5.5", {"r03", "r05", "p05"}),
    ("crystal_structure.space_group_number:[200 TO 230]",
     {"r01", "r02", "r03", "p01", "p05", "cod_1010995"}),
    ("crystal_structure.space_group_number:<5", {"cod_9001665", "cod_9004112"}),
    ("crystal_structure.volume:>=150", {"cod_9001665", "cod_9004218", "cod_9007661", "cod_9017338"}),
    ("crystal_structure.volume:[60 TO 70]", {"cod_1010930", "cod_9007640"}),
    # dates: a day is the whole day, as a term and as a range bound
    ("custom.measured:2020-12-31", {"r03"}),
    ("custom.measured:2021-11-11", {"r08"}),  # 2021-11-11T06:00Z
    ('custom.measured:"2021-01-01"', {"r04"}),
    ("custom.measured:[2020-01-01 TO 2020-12-31]", {"r02", "r03", "p03"}),
    ("custom.measured:{2020-01-01 TO 2021-01-01}", {"r02", "r03", "p03"}),
    ("custom.measured:>=2021-01-01", {"r04", "r07", "r08", "p04", "p05"}),
    ("custom.measured:>2020-12-31", {"r04", "r07", "r08", "p04", "p05"}),
    ("custom.measured:<2019-01-01", {"r05", "p06"}),
    ("custom.measured:<=2019-01-01", {"r05", "p06", "p01"}),
    ("custom.measured:[2021-11-11T05:00:00Z TO 2021-11-11T07:00:00Z]", {"r08"}),
    ("custom.measured:[2023-03-03T12:00:00Z TO *]", {"p05"}),
    ("custom.measured:{2023-03-03T12:00:00Z TO *]", set()),
    # keyword ranges: byte order, upper case before lower case
    ("custom.phase:[a TO s]", {"r01", "r03", "r06", "p01", "p02", "p04", "p05", "p06"}),
    ("custom.phase:[A TO Z]", {"r02", "r04", "r07", "r08", "p03"}),
    ("custom.phase:>=wurtzite", {"r05"}),
    # case: exact values are case-sensitive, their words are not
    ("custom.phase:rutile", {"r06", "r08"}),
    ("custom.phase:RUTILE", {"r06", "r08"}),
    ("custom.phase:Perovskite", PV),
    # fuzzy
    ("custom.phase:rutlie~1", {"r06", "r08"}),  # a transposition is one edit
    ("cobalt~1", {"r01", "r02", DSX}),
    ("kobalt~1", {"r01", "r02", DSX}),
    ("nikel~1", {"r03", DSX}),
    ("titanat~1", {"p01", "p02", "p03"}),
    ("perovskit~", PV | {DSP}),  # 2 edits: also "perovskites" of mdf.source_name
    ("custom.phase:spinal~1", {"r02"}),
    ("material.elements:Cs~0", {"p05"}),
    # one edit from Cs: Cu, Ca, Co, As, C; and from "cs" (the word): "s"
    ("material.elements:Cs~1",
     {"p05", "r07", "p03", "r01", "r02", "cod_9004112", "cod_9004218", "cod_1010995", "cod_9007640",
      "cod_9007661"}),
    # wildcards
    ("material.composition:Co*", {"r01", "r02"}),
    ("material.composition:*TiO3", {"p01", "p02", "p03"}),
    ("custom.phase:?utile", {"r06", "r08"}),
    ("files.filename:cod_90076??.cif", {"cod_9007640", "cod_9007661"}),
    ("titan*", {"r08", "p01", "p02", "p03"}),
    ("custom.note:*film", {"r01", "r03", "r07"}),
    # regular expressions
    ("material.composition:/Co[0-9]?O[0-9]*/", {"r01", "r02"}),
    ("custom.phase:/r.*e/", {"r06", "r08"}),
    ("/titan.*/", {"r08", "p01", "p02", "p03"}),
    ("custom.phase:/b|.*ite/", {"r05", "r07"} | PV),  # not DSP ("Perovskite screening")
    # _exists_
    ("_exists_:custom.gap", OX - {"r06"} | PV - {"p06"}),
    ("custom.gap:[* TO *]", OX - {"r06"} | PV - {"p06"}),
    ("custom.gap:*", OX - {"r06"} | PV - {"p06"}),
    ("_exists_:dft", WITH_CODE),
    ("_exists_:crystal_structure.volume", MIN),
    ("custom.tags:*", OX - {"r06", "r07"} | PV),
    ("NOT _exists_:custom.measured AND mdf.resource_type:record", {"r06"} | MIN),
    ("_exists_:custom", OX | PV | {DSX, DSP}),
]
# fmt: on


def _mineral_formula_elements() -> dict[str, set[str]]:
    return {k: {e.rstrip("0123456789") for e in f.split()} for k, (f, _, _) in MINERAL_FACTS.items()}


def test_the_table_is_large_and_consistent():
    assert len(CASES) >= 60
    assert len({q for q, _ in CASES}) == len(CASES), "a query appears twice"
    for q, expected in CASES:
        assert expected <= ALL, q
    # the mineral facts the table relies on, checked against each other
    elements = _mineral_formula_elements()
    assert {k for k, e in elements.items() if "Co" in e} == {"cod_9004112", "cod_9004218"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, minerals: Path) -> Iterator[tuple[Hub, dict[str, str]]]:
    """The hub, and name -> id (records by custom.key or file, datasets by source_id)."""
    root = tmp_path_factory.mktemp("conformance")
    hub = Hub(root / "hub", progress=False)
    x = hub.submit(
        write_rows(root / "src_x", OXIDES), "Cobalt and nickel oxides", ["Ward, Logan", "Blaiszik, Ben"],
        mapping=MAPPING, source_name="oqmd_oxides", custom={"facility": "APS", "beamline": 7},
        description="Band gaps of binary transition metal oxides",
    )  # fmt: skip
    p = hub.submit(
        write_rows(root / "src_p", PEROVSKITES), "Perovskite screening", ["Chard, Kyle"],
        mapping=MAPPING, source_name="oqmd_perovskites", custom={"facility": "NERSC"},
    )  # fmt: skip
    m = hub.submit(minerals, "COD minerals", ["Ward, Logan"], source_name="cod_minerals")
    assert all(s.status == "complete" and not s.errors for s in (x, p, m)), [s.report() for s in (x, p, m)]
    names: dict[str, str] = {sid: sid for sid in DATASETS}
    for sid in (DSX, DSP):
        for rec in hub.dataset(sid).records():
            names[rec["custom"]["key"]] = rec["mdf"]["record_id"]
    for rec in hub.dataset(DSM).records():
        names[Path(rec["files"][0]["filename"]).stem] = rec["mdf"]["record_id"]
    assert set(names) == ALL
    yield hub, names
    hub.close()


def _search(hub: Hub, query: str, names: dict[str, str]) -> set[str]:
    by_id = {v: k for k, v in names.items()}
    res = hub.search(query, limit=1000)
    got = [by_id.get(h.id, h.id) for h in res.hits]
    assert res.total == len(got), f"{query!r}: total {res.total} but {len(got)} hits"
    assert len(set(got)) == len(got), f"{query!r}: a hit is repeated"
    return set(got)


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[q for q, _ in CASES])
def test_conformance(corpus, query: str, expected: set[str]):
    hub, names = corpus
    got = _search(hub, query, names)
    assert got == expected, (
        f"{query!r}: missing {sorted(expected - got)}, unexpected {sorted(got - expected)}"
    )


def test_mineral_elements_follow_the_cifs(corpus):
    """Each CIF's formula gives the record's elements (one query per element)."""
    hub, names = corpus
    elements = _mineral_formula_elements()
    for symbol in sorted(set().union(*elements.values())):
        got = _search(hub, f"material.elements:{symbol} AND mdf.source_name:cod_minerals", names)
        assert got == {k for k, e in elements.items() if symbol in e}, symbol


def test_kinds_restrict_to_records_or_datasets(corpus):
    hub, names = corpus
    by_id = {v: k for k, v in names.items()}
    recs = hub.search("cobalt", kinds=["record"], limit=100)
    assert {by_id[h.id] for h in recs.hits} == {"r01", "r02"}
    assert {h.kind for h in recs.hits} == {"record"}
    sets = hub.search("cobalt", kinds=["dataset"], limit=100)
    assert [by_id[h.id] for h in sets.hits] == [DSX] and sets.hits[0].kind == "dataset"


# -- real files: MaterialsIO's test data -------------------------------------------

#: Each record of the MaterialsIO folder, named by its first file.
# fmt: off
SHARED_CASES: list[tuple[str, set[str]]] = [
    ("dft.code:VASP", {"vasp"}),
    ('dft.code:"Quantum ESPRESSO"', {"pwscf"}),
    ("dft.code:Gaussian", {"gaussian"}),
    ("_exists_:dft", {"vasp", "pwscf", "gaussian"}),
    ("material.elements:Na AND material.elements:F", {"pwscf"}),
    ("material.elements:(Al AND Ni)", {"vasp"}),
    ("material.elements:O AND crystal_structure.space_group_number:[100 TO 200]", {"Al2O3", "Ce3VO16"}),
    ("crystal_structure.space_group_number:227", {"diamond"}),
    ("material.elements:C -material.elements:H", {"diamond"}),
    ("material.elements:(C AND H AND O)", {"C13H22O3", "gaussian"}),
    ("files.path:crystal_structure*", {"Al2O3", "C13H22O3", "Ce3VO16", "diamond"}),
    ("files.filename:*.dm3", {"test-1.dm3", "test-EDS_spectrum.dm3"}),
    ("files.filename:/test-1\\.dm[34]/", {"test-1.dm3", "test-1.dm4"}),
    ("mdf.extractors:microscopy", {"test-1.dm3", "test-1.dm4", "test-EDS_spectrum.dm3"}),
    ("_exists_:electron_microscopy", {"test-EDS_spectrum.dm3"}),
    ("files.filename:OUTCAR", {"vasp"}),
    ("files.filename:aiida.in", {"pwscf"}),
    ("NOT _exists_:material AND mdf.resource_type:record",
     {"test-1.dm3", "test-1.dm4", "test-EDS_spectrum.dm3", "dog2.jpeg", "test_json.json", "test_xml.xml",
      "test_yaml.yaml"}),
]
# fmt: on


def _shared_name(rec: dict[str, Any]) -> str:
    first = rec["files"][0]["path"]
    for folder in ("vasp", "pwscf", "gaussian"):
        if first.startswith(folder + "/"):
            return folder
    name = Path(first).name
    return Path(name).stem if first.startswith("crystal_structure/") else name


@pytest.fixture(scope="module")
def shared_corpus(
    tmp_path_factory: pytest.TempPathFactory, shared_data: Path
) -> Iterator[tuple[Hub, dict[str, str]]]:
    hub = Hub(tmp_path_factory.mktemp("conformance_shared") / "hub", progress=False)
    sub = hub.submit(shared_data / "materialsio", "MaterialsIO", ["Ward, Logan"], source_name="materialsio")
    assert sub.status == "complete", sub.report()
    names = {_shared_name(r): r["mdf"]["record_id"] for r in hub.dataset(sub.source_id).records()}
    assert len(names) == 14, sorted(names)
    yield hub, names
    hub.close()


@pytest.mark.shared_data
@pytest.mark.parametrize(("query", "expected"), SHARED_CASES, ids=[q for q, _ in SHARED_CASES])
def test_conformance_on_materialsio(shared_corpus, query: str, expected: set[str]):
    hub, names = shared_corpus
    got = _search(hub, f"({query}) AND mdf.resource_type:record", names)
    assert got == expected, (
        f"{query!r}: missing {sorted(expected - got)}, unexpected {sorted(got - expected)}"
    )
