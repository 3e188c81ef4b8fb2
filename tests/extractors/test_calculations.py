"""Tests of the calculation extractors: hub/extractors/{vasp,espresso,espresso_xml}.py.

The quantum-chemistry outputs (cclib) are tested in test_quantum_chemistry.py.
"""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import ase
import pytest
from ase.units import Rydberg

from hub.exceptions import ExtractionError
from hub.extractors.base import ExtractionContext, Extractor, PartialExtractionWarning
from hub.extractors.espresso import EspressoExtractor, text_ending, xc_functional
from hub.extractors.quantum_chemistry import QuantumChemistryExtractor
from hub.extractors.vasp import (
    VaspExtractor,
    functional,
    read_incar,
    read_oszicar,
    read_outcar_info,
)
from hub.records.record import BLOCKS

#: The VASP files the ase wheel ships with its tests (the same as ../shared/data/ase/vasp).
ASE_VASP = Path(ase.__file__).parent / "test" / "testdata" / "vasp"


def check_record(record: Any) -> dict[str, Any]:
    """JSON-serializable and valid against the record blocks."""
    assert isinstance(record, dict)
    json.dumps(record)
    for block, content in record.items():
        BLOCKS[block].model_validate(content)
    return record


def run(extractor: Extractor, group: tuple[Path, ...]) -> dict[str, Any]:
    context = ExtractionContext(root=group[0].parent)
    return check_record(extractor.extract(group, context))


def touch(root: Path, *names: str, text: str = "") -> list[Path]:
    paths = []
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append(path)
    return paths


def ase_text(module: str, name: str) -> str:
    """A sample output that ASE keeps in its test modules (skips when it is gone)."""
    mod = pytest.importorskip(module)
    text = getattr(mod, name, None)
    if not isinstance(text, str):
        pytest.skip(f"{module}.{name} is not in this version of ASE")
    return text


def ase_vasp(name: str) -> Path:
    path = ASE_VASP / name
    if not path.is_file():
        pytest.skip(f"{path} is not shipped with this ASE")
    return path


# -- VASP: grouping ------------------------------------------------------------------------


def test_vasp_run_folder_is_one_group(tmp_path: Path) -> None:
    run_files = touch(tmp_path, *(f"run/{n}" for n in ("INCAR", "OUTCAR", "POSCAR", "OSZICAR")))
    nested = touch(tmp_path, "run/relax2/vasprun.xml", "run/relax2/KPOINTS")
    loose = touch(tmp_path, "loose/OUTCAR_example_1", "loose/vasprun_pstress.xml")
    other = touch(tmp_path, "loose/POSCAR_example_1", "notes/readme.txt")
    groups = list(VaspExtractor().group(run_files + nested + loose + other, ExtractionContext(tmp_path)))
    assert sorted(groups) == sorted(
        [
            tuple(sorted(run_files)),
            tuple(sorted(nested)),
            (loose[0],),
            (loose[1],),
        ]
    )


def test_vasp_claims() -> None:
    x = VaspExtractor()
    for name in ("OUTCAR", "OUTCAR_example_1", "convergence_OUTCAR_y_n", "vasprun.xml", "vasprun_dfpt.xml"):
        assert x.claims(Path(name)), name
    for name in ("POSCAR", "INCAR", "vasprun.txt"):
        assert not x.claims(Path(name)), name


# -- VASP: parsing helpers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "potcars", "expected"),
    [
        ({}, ["PAW Al 17Apr2000", "PAW Ni 02Aug2007"], "LDA"),
        ({"GGA": "--"}, ["PAW_PBE Ni 02Aug2007"], "PBE"),
        ({}, ["PAW_GGA Fe 03Mar1998"], "PW91"),
        ({"GGA": "PS"}, ["PAW_PBE Si 05Jan2001"], "PBEsol"),
        ({"GGA": "PE", "LDAU": ".TRUE."}, [], "PBE+U"),
        ({"LHFCALC": ".TRUE.", "HFSCREEN": "0.2"}, ["PAW_PBE Si 05Jan2001"], "HSE06"),
        ({"LHFCALC": "T"}, ["PAW_PBE Si 05Jan2001"], "PBE0"),
        ({"METAGGA": "R2SCAN", "GGA": "--"}, ["PAW_PBE Si 05Jan2001"], "r2SCAN"),
        ({"GGA": "PE", "IVDW": "12"}, [], "PBE-D3(BJ)"),
        ({"METAGGA": "F", "LHFCALC": "F"}, [], None),
    ],
)
def test_vasp_functional(params: dict[str, str], potcars: list[str], expected: str | None) -> None:
    assert functional(params, potcars) == expected


def test_read_incar(tmp_path: Path) -> None:
    (path,) = touch(
        tmp_path, "INCAR", text="ENCUT = 520 # eV\nGGA = PS; ISMEAR = 0\n! comment\nlhfcalc=.TRUE.\n"
    )
    assert read_incar(path) == {"ENCUT": "520", "GGA": "PS", "ISMEAR": "0", "LHFCALC": ".TRUE."}


_OSZICAR = """       N       E                     dE             d eps       ncg     rms          rms(c)
DAV:   1     0.477422024893E+02    0.47742E+02   -0.65429E+03  8636   0.130E+03
DAV:   2    -0.121967120906E+02   -0.64826E-03   -0.64824E-03 10503   0.779E-01    0.146E-02
RMM:   3    -0.121966968865E+02    0.15204E-04   -0.37903E-04  9874   0.203E-01
   1 F= -.12196697E+02 E0= -.12196690E+02  d E =0.000000E+00  mag=     0.0000
"""


def test_read_oszicar(tmp_path: Path) -> None:
    (path,) = touch(tmp_path, "OSZICAR", text=_OSZICAR)
    energy, steps = read_oszicar(path)
    assert energy == pytest.approx(-12.19669)
    assert steps == 3


@pytest.mark.parametrize(
    ("name", "with_message", "expected"),
    [
        # "y"/"n": whether the energy changes look converged / what VASP 6's message says.
        ("convergence_OUTCAR_y_y", True, True),
        ("convergence_OUTCAR_y_y", False, True),
        ("convergence_OUTCAR_y_n", True, False),
        ("convergence_OUTCAR_y_n", False, True),
        ("convergence_OUTCAR_n_y", True, True),
        ("convergence_OUTCAR_n_y", False, False),
    ],
)
def test_outcar_convergence_matches_ase(
    tmp_path: Path, name: str, with_message: bool, expected: bool
) -> None:
    lines = ase_vasp(name).read_text().splitlines(keepends=True)
    path = tmp_path / "OUTCAR"
    path.write_text("".join(lines if with_message else lines[:-1]))
    assert read_outcar_info(path).electronic is expected

    from ase.calculators.vasp import Vasp

    assert Vasp().read_convergence(path.read_text().splitlines(keepends=True)) is expected


def test_outcar_relaxation_needs_required_accuracy(tmp_path: Path) -> None:
    fragment = ase_vasp("convergence_OUTCAR_y_y").read_text()
    (path,) = touch(tmp_path, "OUTCAR", text="   IBRION =      2\n   NSW    =     50\n" + fragment)
    assert run(VaspExtractor(), (path,))["dft"]["converged"] is False
    path.write_text(
        path.read_text() + " reached required accuracy - stopping structural energy minimisation\n"
    )
    assert run(VaspExtractor(), (path,))["dft"]["converged"] is True


# -- VASP: whole files shipped with ASE ------------------------------------------------------


def test_vasp_outcar_example(tmp_path: Path) -> None:
    record = run(VaspExtractor(), (ase_vasp("OUTCAR_example_1"),))
    assert record["material"] == {"composition": "Ni", "elements": ["Ni"]}
    assert record["crystal_structure"]["number_of_atoms"] == 18
    assert record["dft"] == {
        "code": "VASP",
        "code_version": "5.3.3",
        "method": "PBE",
        "converged": True,
        "termination": "normal",
        "total_energy": pytest.approx(-68.23102426),  # energy(sigma->0)
        "cutoff_energy": 300.0,
    }


@pytest.mark.parametrize(
    ("name", "composition", "version", "method", "energy"),
    [
        ("vasprun_pstress.xml", "C", "6.3.0", "LDA", -20.24720095),
        ("vasprun_dfpt.xml", "ClNa", "6.3.2", "PBE", -6.74587304),
    ],
)
def test_vasp_vasprun_examples(name: str, composition: str, version: str, method: str, energy: float) -> None:
    record = run(VaspExtractor(), (ase_vasp(name),))
    assert record["material"]["composition"] == composition
    dft = record["dft"]
    assert (dft["code"], dft["code_version"], dft["method"]) == ("VASP", version, method)
    assert dft["converged"] is True
    assert dft["total_energy"] == pytest.approx(energy)
    assert dft["cutoff_energy"] == 400.0


@pytest.mark.parametrize(
    ("name", "converged"),
    [("convergence_OUTCAR_y_y", True), ("convergence_OUTCAR_y_n", False), ("convergence_OUTCAR_n_y", True)],
)
def test_vasp_convergence_fragments(name: str, converged: bool) -> None:
    record = run(VaspExtractor(), (ase_vasp(name),))
    dft = record.pop("dft")
    assert record == {}
    assert (dft["code"], dft["converged"]) == ("VASP", converged)
    assert dft["termination"] == ("normal" if converged else "not converged")


def test_vasp_outcar_with_nothing_usable(tmp_path: Path) -> None:
    (path,) = touch(tmp_path, "OUTCAR", text="nothing from VASP here\n")
    with pytest.raises(ExtractionError, match="could not be read"):
        run(VaspExtractor(), (path,))


def test_vasp_truncated_vasprun_falls_back_to_outcar(tmp_path: Path) -> None:
    text = ase_vasp("vasprun_dfpt.xml").read_text(encoding="latin-1")
    (tmp_path / "vasprun.xml").write_text(text[: len(text) // 3], encoding="latin-1")
    shutil.copy(ase_vasp("OUTCAR_example_1"), tmp_path / "OUTCAR")
    (group,) = VaspExtractor().group(sorted(tmp_path.iterdir()), ExtractionContext(tmp_path))
    record = run(VaspExtractor(), group)
    assert record["material"]["composition"] == "Ni"


def test_vasp_broken_vasprun_alone_is_an_error(tmp_path: Path) -> None:
    text = ase_vasp("vasprun_dfpt.xml").read_text(encoding="latin-1")
    (path,) = touch(tmp_path, "vasprun.xml", text=text[: len(text) // 3])
    with pytest.raises(ExtractionError, match=r"vasprun\.xml"):
        run(VaspExtractor(), (path,))


# -- Quantum ESPRESSO --------------------------------------------------------------------------


def test_espresso_group_takes_the_outermost_folder(tmp_path: Path) -> None:
    header = "\n     Program PWSCF v.6.1 starts on 1Jan2020\n"
    (out,) = touch(tmp_path, "calc/scf.out", text=header)
    (nested_out,) = touch(tmp_path, "calc/init/old.out", text=header)
    inside = touch(tmp_path, "calc/pw.in", "calc/out/x.save/data-file.xml", "calc/pseudo/Na.UPF")
    (second,) = touch(tmp_path, "other/run.log", text=header)
    unrelated = touch(tmp_path, "notes/a.out", text="not a pw.x output\n")
    files = [out, nested_out, second, *inside, *unrelated]
    groups = list(EspressoExtractor().group(files, ExtractionContext(tmp_path)))
    assert groups == [tuple(sorted([out, nested_out, *inside])), (second,)]
    assert EspressoExtractor().claims(out) and not EspressoExtractor().claims(unrelated[0])


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("     Exchange-correlation      = SLA  PW   PBE  PBE ( 1  4  3  4 0 0)\n", "PBE"),
        (
            "     Exchange-correlation= PBESOL\n                           (   1   4  10   8   0   0   0)\n",
            "PBEsol",
        ),
        ("     Exchange-correlation      = SLA  PZ   NOGX NOGC ( 1  1  0  0 0 0)\n", "LDA"),
        ("     Exchange-correlation= PBE\n", "PBE"),
        (
            "     Exchange-correlation= XYZ\n                           (   9   9   9   9   0   0   0)\n",
            "XYZ",
        ),
        ("no functional here\n", None),
    ],
)
def test_xc_functional(line: str, expected: str | None) -> None:
    assert xc_functional(line) == expected


def test_espresso_unfinished_relaxation(tmp_path: Path) -> None:
    # ASE's sample: two SCF steps of a BFGS relaxation that never printed "bfgs converged".
    (path,) = touch(tmp_path, "calc/pw.out", text=ase_text("ase.test.fio.test_espresso", "pw_output_text"))
    record = run(EspressoExtractor(), (path,))
    assert record["material"] == {
        "composition": "Fe2H",
        "elements": ["Fe", "H"],
    }  # Hill order: no carbon, so alphabetical
    dft = record["dft"]
    assert dft["code_version"] == "v.5.3.0"
    assert dft["method"] == "PBE"
    assert dft["converged"] is False
    assert dft["cutoff_energy"] == pytest.approx(144.0 * Rydberg)
    assert dft["total_energy"] == pytest.approx(-509.83806077 * Rydberg, rel=1e-6)


def test_espresso_converged_cell_relaxation(tmp_path: Path) -> None:
    # ASE's sample is an excerpt that stops before JOB DONE: an interrupted run until it ends
    text = ase_text("ase.test.fio.test_espresso", "pw_output_cell")
    (path,) = touch(tmp_path, "calc/pw.out", text=text)
    assert run(EspressoExtractor(), (path,))["dft"]["termination"] == "interrupted"
    path.write_text(text + "\n   JOB DONE.\n")
    record = run(EspressoExtractor(), (path,))
    dft = record["dft"]
    assert (dft["code_version"], dft["method"], dft["converged"]) == ("v.7.4", "PBE", True)
    assert dft["total_energy"] == pytest.approx(-21.70223615 * Rydberg, rel=1e-6)


def test_espresso_output_without_results(tmp_path: Path) -> None:
    text = "     Program PWSCF v.6.1 starts\n     kinetic-energy cutoff     =      40.0000  Ry\n"
    (path,) = touch(tmp_path, "calc/pw.out", text=text)
    assert run(EspressoExtractor(), (path,)) == {
        "dft": {
            "code": "Quantum ESPRESSO",
            "code_version": "v.6.1",
            "converged": False,
            "termination": "interrupted",
            "termination_reason": "the output stops before JOB DONE (killed by the scheduler, out of time, or truncated)",
            "cutoff_energy": pytest.approx(40 * Rydberg),
        }
    }


# -- real files (../shared/data) -------------------------------------------------------------


@pytest.mark.shared_data
def test_alni_static_lda(shared_data: Path) -> None:
    folder = shared_data / "materialsio" / "vasp" / "AlNi_static_LDA"
    files = sorted(folder.iterdir())
    (group,) = VaspExtractor().group(files, ExtractionContext(shared_data))
    assert group == tuple(files)
    record = run(VaspExtractor(), group)
    assert record["material"] == {"composition": "AlNi", "elements": ["Al", "Ni"]}
    assert record["crystal_structure"]["space_group_number"] == 221
    assert record["dft"] == {
        "code": "VASP",
        "code_version": "5.3.2",
        "method": "LDA",
        "converged": True,
        "termination": "normal",
        "total_energy": pytest.approx(-12.19669689),  # OUTCAR: energy(sigma->0)
        "cutoff_energy": 650.0,
    }


@pytest.mark.shared_data
def test_ase_vasp_folder(shared_data: Path) -> None:
    folder = shared_data / "ase" / "vasp"
    groups = list(VaspExtractor().group(sorted(folder.iterdir()), ExtractionContext(shared_data)))
    assert [g[0].name for g in groups] == [
        "OUTCAR_example_1",
        "convergence_OUTCAR_n_y",
        "convergence_OUTCAR_y_n",
        "convergence_OUTCAR_y_y",
        "vasprun_dfpt.xml",
        "vasprun_pstress.xml",
    ]
    records = {g[0].name: run(VaspExtractor(), g) for g in groups}
    assert records["OUTCAR_example_1"]["material"]["composition"] == "Ni"
    assert records["convergence_OUTCAR_y_n"]["dft"]["converged"] is False


@pytest.mark.shared_data
def test_naf_scf(shared_data: Path) -> None:
    folder = shared_data / "materialsio" / "pwscf"
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    (group,) = EspressoExtractor().group(files, ExtractionContext(shared_data))
    assert group == tuple(files)  # out/aiida.save, pseudo/ and init_input/ included
    record = run(EspressoExtractor(), group)
    assert record["material"] == {"composition": "FNa", "elements": ["F", "Na"]}
    assert record["crystal_structure"]["space_group_number"] == 225
    dft = record["dft"]
    assert dft["code"] == "Quantum ESPRESSO"
    assert dft["code_version"] == "v.5.4.0"
    assert dft["method"] == "PBE"
    assert dft["converged"] is True
    assert dft["total_energy"] == pytest.approx(-143.96084355 * Rydberg, rel=1e-6)
    assert dft["cutoff_energy"] == pytest.approx(50.0 * Rydberg)


@pytest.mark.shared_data
def test_no_other_file_is_claimed_as_a_calculation(shared_data: Path) -> None:
    files = [p for p in shared_data.rglob("*") if p.is_file()]
    claimed = {p.name for p in files if QuantumChemistryExtractor().claims(p)}
    assert "molecule.log" in claimed and "aiida.out" not in claimed
    pw = {p.name for p in files if EspressoExtractor().claims(p)}
    assert pw == {"aiida.out"}


# -- Quantum ESPRESSO: AiiDA's pw.x fixtures (../shared/data/qe_fixtures) ---------------------

#: (run, version, functional, composition, termination, reason starts with)
QE_RUNS = [
    ("default_xml_230310", "v.7.2", "PBE+U", "CoLiO2", "normal", None),
    ("default_xml_250521", "v.7.5", "PBEsol", "FLi", "normal", None),
    ("default_xml_260128", "v.7.5", "PBEsol", "I2Zn", "normal", None),
    ("failed_scf_not_converged", "v.6.6", "PBE", "Si", "not converged", "the SCF did not converge"),
    ("failed_interrupted", "v.6.1", "PBE", "Si", "interrupted", "the output stops before JOB DONE"),
]


def qe_run(shared_data: Path, run: str) -> tuple[Path, dict[str, Any]]:
    folder = shared_data / "qe_fixtures" / run
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    (group,) = EspressoExtractor().group(files, ExtractionContext(folder))
    with warnings.catch_warnings():
        warnings.simplefilter("error", PartialExtractionWarning)
        return folder, run_extractor(EspressoExtractor(), group)


def run_extractor(extractor: Extractor, group: tuple[Path, ...]) -> dict[str, Any]:
    return check_record(extractor.extract(group, ExtractionContext(root=group[0].parent)))


@pytest.mark.shared_data
@pytest.mark.parametrize(("run", "version", "method", "composition", "termination", "reason"), QE_RUNS)
def test_qe_fixture_runs(
    shared_data: Path,
    run: str,
    version: str,
    method: str,
    composition: str,
    termination: str,
    reason: str | None,
) -> None:
    folder, record = qe_run(shared_data, run)
    text = (folder / "aiida.out").read_text()
    printed_version = re.search(r"Program PWSCF (v\.[\d.]+)", text)
    assert printed_version and printed_version.group(1) == version
    dft = record["dft"]
    assert (dft["code"], dft["code_version"], dft["method"]) == ("Quantum ESPRESSO", version, method)
    assert record["material"]["composition"] == composition
    assert (dft["termination"], dft["converged"]) == (termination, termination == "normal")
    if reason is None:
        assert "termination_reason" not in dft
    else:
        assert dft["termination_reason"].startswith(reason)
    energies = re.findall(r"^!\s+total energy\s+=\s+(\S+) Ry", text, flags=re.MULTILINE)
    if energies:  # the printed total energy, in Ry
        assert dft["total_energy"] == pytest.approx(float(energies[-1]) * Rydberg, abs=2e-6)
    else:  # the unconverged SCF prints no "!" line: the XML's etot is the last SCF step's
        steps = re.findall(r"^\s+total energy\s+=\s+(\S+) Ry", text, flags=re.MULTILINE)
        assert dft["total_energy"] == pytest.approx(float(steps[-1]) * Rydberg, abs=2e-6)
    cutoff = re.search(r"kinetic-energy cutoff\s+=\s+(\S+)\s+Ry", text)
    assert cutoff and dft["cutoff_energy"] == pytest.approx(float(cutoff.group(1)) * Rydberg)


@pytest.mark.shared_data
def test_qe_xml_agrees_with_the_text_output(shared_data: Path, tmp_path: Path) -> None:
    # the 7.2 run read from its text alone (no XML): the same version, functional and energy
    source = shared_data / "qe_fixtures" / "default_xml_230310"
    shutil.copy(source / "aiida.out", tmp_path / "aiida.out")
    text_record = run_extractor(EspressoExtractor(), (tmp_path / "aiida.out",))
    _, xml_record = qe_run(shared_data, "default_xml_230310")
    for key in ("code_version", "method", "converged", "termination"):
        assert text_record["dft"][key] == xml_record["dft"][key], key
    assert text_record["dft"]["total_energy"] == pytest.approx(xml_record["dft"]["total_energy"], abs=2e-6)
    assert text_record["material"] == xml_record["material"]


@pytest.mark.shared_data
def test_qe_75_text_only_keeps_what_it_reads(shared_data: Path, tmp_path: Path) -> None:
    # ASE cannot read the structure of a 7.5 text output; without its XML the record keeps the
    # header, energy and ending, and a warning names the file (before: a failed extraction)
    shutil.copy(shared_data / "qe_fixtures" / "default_xml_250521" / "aiida.out", tmp_path / "aiida.out")
    with pytest.warns(PartialExtractionWarning, match=r"aiida\.out"):
        record = run_extractor(EspressoExtractor(), (tmp_path / "aiida.out",))
    dft = record["dft"]
    assert (dft["code_version"], dft["method"], dft["termination"]) == ("v.7.5", "PBEsol", "normal")
    assert dft["total_energy"] == pytest.approx(-252.68718165 * Rydberg, abs=2e-6)


@pytest.mark.shared_data
def test_qe_truncated_xml_falls_back_to_the_text(shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / "qe_fixtures" / "default_xml_230310"
    shutil.copy(source / "aiida.out", tmp_path / "aiida.out")
    xml = (source / "data-file-schema.xml").read_text()
    (tmp_path / "data-file-schema.xml").write_text(xml[: len(xml) // 2])
    group = (tmp_path / "aiida.out", tmp_path / "data-file-schema.xml")
    with pytest.warns(PartialExtractionWarning, match=r"data-file-schema\.xml"):
        record = run_extractor(EspressoExtractor(), group)
    assert record["dft"]["code_version"] == "v.7.2" and record["material"]["composition"] == "CoLiO2"


@pytest.mark.parametrize(
    ("text", "termination"),
    [
        ("convergence has been achieved\n   JOB DONE.\n", "normal"),
        ("convergence NOT achieved after 100 iterations: stopping\n   JOB DONE.\n", "not converged"),
        ("BFGS Geometry Optimization\nconvergence has been achieved\n   JOB DONE.\n", "not converged"),
        ("convergence has been achieved\n     Maximum CPU time exceeded\n   JOB DONE.\n", "interrupted"),
        ("convergence has been achieved\n     Writing output data file\n", "interrupted"),
        (
            " %%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%\n     Error in routine cdiaghg (159):\n     S matrix not positive definite\n"
            " %%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%\n",
            "error",
        ),
    ],
)
def test_pw_text_endings(text: str, termination: str) -> None:
    assert text_ending(text).termination == termination
