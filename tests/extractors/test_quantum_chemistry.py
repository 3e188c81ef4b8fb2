"""The cclib extractor (hub/extractors/quantum_chemistry.py) on real outputs of ten programs.

Every energy is checked against the value the program printed (grepped from the file
here), converted with ASE's Hartree.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from ase.units import Hartree

from hub.extractors.base import ExtractionContext, PartialExtractionWarning
from hub.extractors.qc_methods import method_name
from hub.extractors.quantum_chemistry import QuantumChemistryExtractor, detected_program
from hub.records.record import BLOCKS


def extract(path: Path) -> dict[str, Any]:
    record = QuantumChemistryExtractor().extract((path,), ExtractionContext(root=path.parent))
    json.dumps(record)
    for block, content in record.items():
        BLOCKS[block].model_validate(content)
    return record


def printed(path: Path, pattern: str, first: bool = False) -> float:
    """The last (or first) number ``pattern``'s group 1 matches in ``path``, as printed."""
    values = re.findall(pattern, path.read_text(errors="replace"), flags=re.MULTILINE)
    assert values, f"{pattern!r} is not in {path.name}"
    return float(values[0] if first else values[-1])


def gaussian_frontier(path: Path) -> tuple[float, float]:
    """The last HOMO and LUMO Gaussian printed (Hartree): the occupied line before the first virtual one."""
    lines = path.read_text().splitlines()
    start = max(
        i for i, line in enumerate(lines) if "Alpha  occ. eigenvalues" in line and "virt" in lines[i + 1]
    )
    return float(lines[start].split()[-1]), float(lines[start + 1].split("--")[1].split()[0])


#: (file under qc_programs, code, code_version, method, basis set, pattern of the printed final
#: energy in Hartree)
PROGRAMS = [
    ("ORCA/basicORCA5.0/dvb_sp.out", "ORCA", "5.0.0", "B3LYP", "STO-3G",
     r"FINAL SINGLE POINT ENERGY\s+(\S+)"),
    ("NWChem/basicNWChem6.5/dvb_gopt_ks.out", "NWChem", "6.5", "B3LYP", "sto-3g",
     r"Total DFT energy =\s+(\S+)"),
    ("Psi4/basicPsi4-1.3.1/dvb_gopt_rks.out", "Psi4", "1.3.1", "B3LYP", "STO-3G",
     r"@RKS Final Energy:\s+(\S+)"),
    ("QChem/basicQChem5.1/dvb_sp.out", "Q-Chem", "5.1.2", "B3LYP", "STO-3G",
     r"Total energy in the final basis set =\s+(\S+)"),
    ("GAMESS/basicFirefly8.0/dvb_sp.out", "Firefly", "8.0.1", "HF", "STO-3G",
     r"FINAL ENERGY IS\s+(\S+)"),
    ("Molpro/basicMolpro2012/dvb_gopt.out", "Molpro", "2012.1", "B3LYP", "STO-3G",
     r"!RKS STATE 1\.1 Energy\s+(\S+)"),
    ("ADF/basicADF2007.01/dvb_gopt.adfout", "ADF", "2007.01", "BLYP", None,
     r"^Total Bonding Energy:\s+(\S+)"),
    ("DALTON/basicDALTON-2013/dvb_gopt_ks.out", "Dalton", "2013", "B3LYP", "STO-3G",
     r"Final DFT energy:\s+(\S+)"),
]  # fmt: skip


@pytest.mark.shared_data
@pytest.mark.parametrize(("rel", "code", "version", "method", "basis", "energy"), PROGRAMS)
def test_program_outputs(
    shared_data: Path, rel: str, code: str, version: str, method: str, basis: str | None, energy: str
) -> None:
    path = shared_data / "qc_programs" / rel
    assert QuantumChemistryExtractor().claims(path)
    record = extract(path)
    assert record["material"] == {"composition": "C10H10", "elements": ["C", "H"]}  # divinylbenzene
    assert record["crystal_structure"]["number_of_atoms"] == 20
    dft = record["dft"]
    assert (dft["code"], dft["code_version"], dft["method"]) == (code, version, method)
    assert dft.get("basis_set") == basis
    assert dft["total_energy"] == pytest.approx(printed(path, energy) * Hartree, rel=1e-7)
    assert dft["energy_method"] == "SCF"
    assert (dft["converged"], dft["termination"]) == (True, "normal")
    assert (dft["charge"], dft["multiplicity"]) == (0, 1)
    assert dft["homo_energy"] < dft["lumo_energy"]


@pytest.mark.shared_data
def test_jaguar_output_read_in_part(shared_data: Path) -> None:
    # cclib 1.8.1's Jaguar parser stops at "Geometry optimization complete" of this 13.3 output
    # (AttributeError); the record keeps what it read before, and a warning names the file
    path = shared_data / "qc_programs" / "Jaguar" / "basicJaguar13.3" / "dvb_gopt_hf.out"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        record = extract(path)
    partial = [w for w in caught if issubclass(w.category, PartialExtractionWarning)]
    assert len(partial) == 1 and "dvb_gopt_hf.out" in str(partial[0].message)
    dft = record["dft"]
    assert (dft["code"], dft["code_version"], dft["method"], dft["basis_set"]) == (
        "Jaguar",
        "13.3",
        "HF",
        "sto-3g",
    )
    assert dft["total_energy"] == pytest.approx(
        printed(path, r"SCFE: SCF energy: HF\s+(\S+)") * Hartree, rel=1e-7
    )
    assert "termination" not in dft and "converged" not in dft  # not read: not guessed
    assert record["material"]["composition"] == "C10H10"


@pytest.mark.shared_data
def test_gaussian_molecule_keeps_every_field(shared_data: Path) -> None:
    # the record the Gaussian regex parser gave, field for field, and what cclib adds
    path = shared_data / "materialsio" / "gaussian" / "molecule.log"
    record = extract(path)
    assert record["material"] == {"composition": "C38H14N8O12", "elements": ["C", "H", "N", "O"]}
    assert record["crystal_structure"]["number_of_atoms"] == 72
    assert record["crystal_structure"]["pbc"] == [False, False, False]
    dft = record["dft"]
    frequencies = dft.pop("frequencies")
    assert dft == {
        "code": "Gaussian",
        "code_version": "16",
        "code_build": "2016+A.03",
        "method": "M06",
        "basis_set": "6-31+G(d,p)",
        "converged": True,
        "termination": "normal",
        "total_energy": pytest.approx(printed(path, r"SCF Done:\s+E\(RM06\)\s*=\s*(\S+)") * Hartree),
        "energy_method": "SCF",
        "charge": 0,
        "multiplicity": 1,
        "homo_energy": pytest.approx(gaussian_frontier(path)[0] * Hartree, abs=1e-4),
        "lumo_energy": pytest.approx(gaussian_frontier(path)[1] * Hartree, abs=1e-4),
    }
    assert len(frequencies) == 3 * 72 - 6
    assert frequencies[0] == pytest.approx(printed(path, r"^\s*Frequencies --\s+(\S+)", first=True))


@pytest.mark.shared_data
def test_claims_only_quantum_chemistry_outputs(shared_data: Path) -> None:
    files = [p for p in shared_data.rglob("*") if p.is_file()]
    claimed = {p.relative_to(shared_data).as_posix() for p in files if QuantumChemistryExtractor().claims(p)}
    assert claimed == {"materialsio/gaussian/molecule.log"} | {
        f"qc_programs/{p.relative_to(shared_data / 'qc_programs').as_posix()}"
        for p in (shared_data / "qc_programs").rglob("*")
        if p.is_file()
    }


def test_detection_needs_cclibs_phrase_and_a_text_output(tmp_path: Path) -> None:
    banner = " Entering Gaussian System, Link 0=g16\n Copyright (c) 1988-2017, Gaussian, Inc.\n"
    cases = {"a.log": banner, "b.txt": banner, "c.md": banner, "d.log": "gaussian smearing of 0.01 Ry\n"}
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "e.bin").write_bytes(b"\0" + banner.encode())
    found = {name: detected_program(tmp_path / name) for name in [*cases, "e.bin"]}
    assert found == {"a.log": "Gaussian", "b.txt": "Gaussian", "c.md": None, "d.log": None, "e.bin": None}


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("cut", "termination"),
    [(0.5, "interrupted"), (0.98, "interrupted")],
)
def test_truncated_output_is_a_record_that_says_so(
    shared_data: Path, tmp_path: Path, cut: float, termination: str
) -> None:
    text = (shared_data / "qc_programs" / "ORCA" / "basicORCA5.0" / "dvb_sp.out").read_text()
    path = tmp_path / "dvb_sp.out"
    path.write_text(text[: int(len(text) * cut)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PartialExtractionWarning)
        record = extract(path)
    dft = record["dft"]
    assert (dft["code"], dft["code_version"]) == ("ORCA", "5.0.0")
    assert dft.get("termination", termination) == termination
    assert dft.get("converged", False) is False


@pytest.mark.shared_data
def test_error_termination(shared_data: Path, tmp_path: Path) -> None:
    text = (shared_data / "materialsio" / "gaussian" / "molecule.log").read_text()
    body = text[: text.rindex(" Normal termination")]
    path = tmp_path / "failed.log"
    path.write_text(body + " Error termination via Lnk1e in /opt/g16/l502.exe at Mon Jan  1 00:00:00 2024.\n")
    dft = extract(path)["dft"]
    assert (dft["converged"], dft["termination"]) == (False, "error")
    assert dft["termination_reason"].startswith("Error termination via Lnk1e")


def test_method_names() -> None:
    assert method_name("Gaussian", {"methods": ["HF", "MP2"]}, "") == "MP2"
    assert method_name("Gaussian", {"methods": ["DFT"], "functional": "M06"}, "") == "M06"
    assert method_name("ORCA", {"methods": ["DFT"], "keywords": ["rks", "B3LYP", "def2-SVP"]}, "") == "B3LYP"
    assert (
        method_name("GAMESS", {"methods": []}, "     SCFTYP=UHF   RUNTYP=ENERGY\n     DFTTYP=NONE\n") == "HF"
    )
    assert method_name("GAMESS", {"methods": ["RHF"]}, "     DFTTYP=PBE0\n") == "PBE0"
    assert method_name("ADF", {"methods": []}, "    Gradient Corrections:   Becke88 Perdew86    \n") == "BP86"
    assert method_name("Molpro", {"methods": ["HF"]}, "") == "HF"
