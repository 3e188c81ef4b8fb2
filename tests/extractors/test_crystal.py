"""Tests of hub/extractors/crystal.py: CIF, POSCAR, XYZ and the shared atoms_to_record."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import ase.io
import pytest
from ase import Atoms
from ase.build import bulk, molecule
from ase.units import Hartree, kcal, mol

from hub.exceptions import ExtractionError
from hub.extractors import crystal
from hub.extractors.base import ExtractionContext
from hub.extractors.crystal import (
    CrystalExtractor,
    XYZExtractor,
    anonymous_formula,
    atoms_to_record,
)
from hub.records.record import BLOCKS


def _plain(value: Any) -> bool:
    """Whether ``value`` is made of plain Python types only (no numpy scalars)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


def check_record(record: dict[str, Any]) -> dict[str, Any]:
    """The checks every extractor output passes: JSON, plain types, the block schemas."""
    json.dumps(record)
    assert _plain(record)
    for block, content in record.items():
        BLOCKS[block].model_validate(content)
    return record


def extract(extractor: CrystalExtractor | XYZExtractor, path: Path) -> dict[str, Any]:
    assert extractor.claims(path)
    record = extractor.extract((path,), ExtractionContext(root=path.parent))
    assert isinstance(record, dict)
    return check_record(record)


# -- atoms_to_record ---------------------------------------------------------------------


def test_atoms_to_record_periodic() -> None:
    record = check_record(atoms_to_record(bulk("Cu", cubic=True)))
    assert record["material"] == {"composition": "Cu", "elements": ["Cu"]}
    cs = record["crystal_structure"]
    assert cs["number_of_atoms"] == 4
    assert cs["stoichiometry"] == "A"
    assert cs["pbc"] == [True, True, True]
    assert cs["dimension_types"] == [1, 1, 1]
    assert cs["space_group_number"] == 225
    assert cs["space_group_symbol"] == "Fm-3m"
    assert cs["volume"] == pytest.approx(3.61**3)
    assert cs["lattice"][0] == pytest.approx([3.61, 0.0, 0.0])
    assert cs["species_at_sites"] == ["Cu"] * 4
    assert len(cs["cartesian_site_positions"]) == 4


def test_atoms_to_record_molecule_has_no_cell() -> None:
    record = check_record(atoms_to_record(molecule("CH3COOH")))
    assert record["material"] == {"composition": "C2H4O2", "elements": ["C", "H", "O"]}  # molecular formula
    cs = record["crystal_structure"]
    assert cs["stoichiometry"] == "A2BC"
    assert cs["pbc"] == [False, False, False]
    assert cs["dimension_types"] == [0, 0, 0]
    for key in ("volume", "lattice", "space_group_number", "space_group_symbol"):
        assert key not in cs


def test_atoms_to_record_slab_has_cell_but_no_space_group() -> None:
    slab = bulk("Al", cubic=True)
    slab.pbc = [True, True, False]
    cs = atoms_to_record(slab)["crystal_structure"]
    assert cs["dimension_types"] == [1, 1, 0]
    assert "lattice" in cs and "space_group_number" not in cs


def test_atoms_to_record_drops_sites_above_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crystal, "MAX_SITES", 3)
    cs = atoms_to_record(bulk("Cu", cubic=True))["crystal_structure"]
    assert cs["number_of_atoms"] == 4
    assert "species_at_sites" not in cs and "cartesian_site_positions" not in cs


def test_atoms_to_record_refuses_no_atoms() -> None:
    with pytest.raises(ExtractionError, match="no atoms"):
        atoms_to_record(Atoms())


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({"Al": 4, "O": 6}, "A3B2"),
        ({"Na": 1, "Cl": 1}, "AB"),
        ({"C": 8}, "A"),
        ({"C": 2, "H": 4, "O": 2}, "A2BC"),
        ({f"X{i}": 1 for i in range(28)}, "ABCDEFGHIJKLMNOPQRSTUVWXYZAaAb"),
    ],
)
def test_anonymous_formula(counts: dict[str, int], expected: str) -> None:
    assert anonymous_formula(counts) == expected


# -- CIF -------------------------------------------------------------------------------------


def test_cif_written_by_ase(tmp_path: Path) -> None:
    path = tmp_path / "NaCl.cif"
    ase.io.write(path, bulk("NaCl", "rocksalt", a=5.64), format="cif")
    record = extract(CrystalExtractor(), path)
    assert record["material"] == {"composition": "ClNa", "elements": ["Cl", "Na"]}
    assert record["crystal_structure"]["space_group_number"] == 225
    assert "n_structures" not in record["crystal_structure"]


def test_cif_with_several_blocks_gives_the_first(tmp_path: Path) -> None:
    path = tmp_path / "two.cif"
    ase.io.write(path, [bulk("Cu"), bulk("Si")], format="cif")
    record = extract(CrystalExtractor(), path)
    assert record["material"]["composition"] == "Cu"
    assert record["crystal_structure"]["n_structures"] == 2


@pytest.mark.parametrize(
    ("keep", "match"),
    [
        (lambda text: text[: text.index("loop_")], "holds no structure"),
        (lambda text: text[: text.rindex("0.5")], "cannot be read"),
    ],
    ids=["cut-before-the-atoms", "cut-inside-an-atom-row"],
)
def test_truncated_cif(tmp_path: Path, keep: Any, match: str) -> None:
    whole = tmp_path / "whole.cif"
    ase.io.write(whole, bulk("NaCl", "rocksalt", a=5.64), format="cif")
    path = tmp_path / "cut.cif"
    path.write_text(keep(whole.read_text()))
    with pytest.raises(ExtractionError, match=match) as err:
        CrystalExtractor().extract((path,), ExtractionContext(root=tmp_path))
    assert "truncated" in err.value.message


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (os.urandom(4000), "binary"),
        (b"", "empty"),
        (gzip.compress(b"data_x\n_cell_length_a 1\n"), "gzip"),
    ],
    ids=["random-bytes", "empty", "gzip"],
)
def test_cif_that_is_not_text(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "x.cif"
    path.write_bytes(content)
    with pytest.raises(ExtractionError, match=match):
        CrystalExtractor().extract((path,), ExtractionContext(root=tmp_path))


# -- POSCAR ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["POSCAR", "CONTCAR", "POSCAR_relaxed", "cu.vasp"])
def test_poscar_written_by_ase(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    ase.io.write(path, bulk("Cu") * (2, 1, 1), format="vasp", direct=True)
    record = extract(CrystalExtractor(), path)
    assert record["material"]["composition"] == "Cu"
    assert record["crystal_structure"]["number_of_atoms"] == 2
    assert record["crystal_structure"]["space_group_number"] == 225


_VASP4 = """{title}
 1.0
 3.0 0.0 0.0
 0.0 3.0 0.0
 0.0 0.0 3.0
 1 1
Direct
 0.0 0.0 0.0
 0.5 0.5 0.5
"""


def test_vasp4_poscar_with_species_in_the_title(tmp_path: Path) -> None:
    path = tmp_path / "POSCAR"
    path.write_text(_VASP4.format(title="CsCl cubic"))
    record = extract(CrystalExtractor(), path)
    assert record["material"] == {"composition": "ClCs", "elements": ["Cl", "Cs"]}
    assert record["crystal_structure"]["species_at_sites"] == ["Cs", "Cl"]
    assert record["crystal_structure"]["space_group_number"] == 221


def test_vasp4_poscar_without_species_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "POSCAR"
    path.write_text(_VASP4.format(title="my structure"))
    # ASE would take the species from a neighbouring OUTCAR; the extractor must not.
    (tmp_path / "OUTCAR").write_text(" POTCAR:    PAW_PBE Ni 02Aug2007\n" * 2)
    with pytest.raises(ExtractionError, match="POSCAR has no species line") as err:
        CrystalExtractor().extract((path,), ExtractionContext(root=tmp_path))
    assert "add the species names above the counts line" in err.value.message


def test_short_poscar_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "POSCAR"
    path.write_text("Cu\n1.0\n3 0 0\n")
    with pytest.raises(ExtractionError, match="at least 7 lines"):
        CrystalExtractor().extract((path,), ExtractionContext(root=tmp_path))


def test_crystal_claims() -> None:
    x = CrystalExtractor()
    for name in ("a.cif", "B.CIF", "POSCAR", "CONTCAR", "POSCAR.orig", "x.vasp"):
        assert x.claims(Path(name)), name
    for name in ("OUTCAR", "vasprun.xml", "a.xyz", "cif.txt"):
        assert not x.claims(Path(name)), name


# -- XYZ --------------------------------------------------------------------------------------


def test_extxyz_written_by_ase(tmp_path: Path) -> None:
    path = tmp_path / "water.extxyz"
    ase.io.write(path, molecule("H2O"), format="extxyz")
    record = extract(XYZExtractor(), path)
    assert record["material"] == {"composition": "H2O", "elements": ["H", "O"]}
    assert "dft" not in record


def test_plain_xyz_with_several_frames(tmp_path: Path) -> None:
    path = tmp_path / "traj.xyz"
    frame = "3\nwater, frame {i}\nO 0 0 0\nH 0.76 0.59 0\nH -0.76 0.59 0\n"
    path.write_text("".join(frame.format(i=i) for i in range(3)))
    record = extract(XYZExtractor(), path)
    assert record["crystal_structure"]["number_of_atoms"] == 3
    assert record["crystal_structure"]["n_structures"] == 3


_G4MP2 = """3
Properties=species:S:1:pos:R:3 pbc="F F F"
O 0.0 0.0 0.117
H 0.0 0.757 -0.477
H 0.0 -0.757 -0.477
G4MP2-0K                                             (Ha): -76.332000
G4MP2-ZPE                                            (Ha):   0.021000
G4MP2-Energy                                         (Ha): -76.329000
G4MP2-Enthalpy                                       (Ha): -76.328000
G4MP2-FreeE                                          (Ha): -76.350000
Solvation Energies (kcal/mol)
Water    -6.5
ACN      -5.0
"""


def test_xyz_with_a_g4mp2_energy_block(tmp_path: Path) -> None:
    path = tmp_path / "water.xyz"
    path.write_text(_G4MP2)
    record = extract(XYZExtractor(), path)
    dft = record["dft"]
    assert dft["energy_method"] == "G4MP2"
    assert (dft["method"], dft["basis_set"]) == ("B3LYP", "6-31G(2df,p)")
    assert dft["total_energy"] == pytest.approx(-76.332 * Hartree)
    assert dft["zero_point_energy"] == pytest.approx(0.021 * Hartree)
    assert dft["thermal_energy"] == pytest.approx(-76.329 * Hartree)
    assert dft["enthalpy"] == pytest.approx(-76.328 * Hartree)
    assert dft["free_energy"] == pytest.approx(-76.350 * Hartree)
    assert dft["solvation_energies"] == pytest.approx({"Water": -6.5 * kcal / mol, "ACN": -5.0 * kcal / mol})


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (_G4MP2 + "this is not xyz\n", "line 14"),
        (_G4MP2.replace("G4MP2-ZPE", "G4MP2-XYZ"), "not a known energy line"),
        ("5\ncomment\nO 0 0 0\nH 0 0 1\n", "announces 5 atoms"),
        ("water\n3\nO 0 0 0\n", "should be the number of atoms"),
        ("3\nc\nO 0 0 0\nH 0 0 1\nH 0 1 0\n3\nc\nO 0 0 0\n", "truncated"),
    ],
    ids=["trailing-text", "unknown-energy", "too-few-atoms", "no-count", "cut-frame"],
)
def test_bad_xyz(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "bad.xyz"
    path.write_text(text)
    with pytest.raises(ExtractionError, match=match):
        XYZExtractor().extract((path,), ExtractionContext(root=tmp_path))


# -- real files (../shared/data) ---------------------------------------------------------------


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("name", "composition", "number"),
    [
        ("diamond.cif", "C", 227),
        ("Al2O3.cif", "Al2O3", 167),
        ("C13H22O3.cif", "C13H22O3", 2),
        ("Ce3VO16.cif", "Ce3O16V", 141),
    ],
)
def test_materialsio_cifs(shared_data: Path, name: str, composition: str, number: int) -> None:
    record = extract(CrystalExtractor(), shared_data / "materialsio" / "crystal_structure" / name)
    assert record["material"]["composition"] == composition
    assert record["crystal_structure"]["space_group_number"] == number


@pytest.mark.shared_data
def test_cod_minerals(shared_data: Path) -> None:
    expected = {
        "cod_1010930.cif": ("NiSb", 194),
        "cod_1010995.cif": ("CSi", 216),
        "cod_9007661.cif": ("MoS2", 160),
        "cod_9017338.cif": ("O2Si", 92),
    }
    for path in sorted((shared_data / "ase" / "minerals").glob("*.cif")):
        record = extract(CrystalExtractor(), path)
        if path.name in expected:
            cs = record["crystal_structure"]
            got = (record["material"]["composition"], cs["space_group_number"])
            assert got == expected[path.name]


@pytest.mark.shared_data
def test_poscar_without_species_line(shared_data: Path) -> None:
    path = shared_data / "ase" / "vasp" / "POSCAR_example_1"
    with pytest.raises(ExtractionError, match="POSCAR has no species line"):
        CrystalExtractor().extract((path,), ExtractionContext(root=path.parent))


@pytest.mark.shared_data
def test_alni_poscar_and_contcar(shared_data: Path) -> None:
    for name in ("POSCAR", "CONTCAR"):
        path = shared_data / "materialsio" / "vasp" / "AlNi_static_LDA" / name
        record = extract(CrystalExtractor(), path)
        assert record["material"]["elements"] == ["Al", "Ni"]
        assert record["crystal_structure"]["space_group_number"] == 221


@pytest.mark.shared_data
def test_g4mp2_formic_acid(shared_data: Path) -> None:
    path = shared_data / "g4mp2" / "GDB_Sugar_Data" / "acid-formicacid.xyz"
    record = extract(XYZExtractor(), path)
    assert record["material"]["composition"] == "CH2O2"
    assert record["crystal_structure"]["pbc"] == [False, False, False]
    dft = record["dft"]
    assert dft["energy_method"] == "G4MP2"
    assert dft["method"] == "B3LYP"
    assert dft["basis_set"] == "6-31G(2df,p)"
    assert dft["total_energy"] == pytest.approx(-189.567759 * 27.211386245988, rel=1e-8)
    assert dft["zero_point_energy"] == pytest.approx(0.033402 * 27.211386245988, rel=1e-8)
    assert dft["free_energy"] == pytest.approx(-189.591838 * 27.211386245988, rel=1e-8)
    assert dft["solvation_energies"]["Water"] == pytest.approx(-4.2553 * 0.0433641043)
    assert set(dft["solvation_energies"]) == {"Water", "ACN", "DMSO"}


@pytest.mark.shared_data
def test_every_g4mp2_file(shared_data: Path) -> None:
    paths = sorted((shared_data / "g4mp2" / "GDB_Sugar_Data").glob("*.xyz"))
    assert paths
    for path in paths:
        record = extract(XYZExtractor(), path)
        assert set(record["material"]["elements"]) <= {"C", "H", "O"}
        assert record["dft"]["energy_method"] == "G4MP2"
        assert record["dft"]["total_energy"] < 0


@pytest.mark.shared_data
def test_opls_extended_xyz(shared_data: Path) -> None:
    record = extract(XYZExtractor(), shared_data / "ase" / "opls_structure_ext.xyz")
    assert record["material"] == {"composition": "CHO", "elements": ["C", "H", "O"]}
    cs = record["crystal_structure"]
    assert cs["pbc"] == [True, True, True]
    assert cs["volume"] == pytest.approx(216.0)
