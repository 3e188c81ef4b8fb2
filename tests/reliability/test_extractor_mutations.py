"""Every extractor fed mutated versions of the real files in ../shared/data: truncations, bit
flips (anywhere and in the header), huge headers, random bytes, doubled files.

Each mutant goes through ``Hub.submit`` (the whole Connect path) in a child process that
the test watches: the submission must come back ``complete`` (the broken file a per-file
error) or ``failed`` / refused with a message; no exception may escape, the child may not
crash (a segfault in a C library) or hang.  The child runs under a 6 GB address-space cap,
so a mutant that makes a parser allocate wildly shows up as an error, not as a machine
out of memory.  The default suite tries one mutant per real file; ``make reliability``
tries every mutant of every file and more random flips.
"""

from __future__ import annotations

import json
import random
import select
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from reliability_mutants import mutations
from reliability_server import long_run, record

import hub.exceptions

pytestmark = pytest.mark.shared_data

#: (extractor family, real file or folder under ../shared/data, the file of the folder to mutate, mapping)
SEEDS: list[tuple[str, str, str | None, dict[str, str] | None]] = [
    ("crystal", "materialsio/crystal_structure/Al2O3.cif", None, None),
    ("crystal", "ase/minerals/cod_1010930.cif", None, None),
    ("crystal (POSCAR)", "materialsio/vasp/AlNi_static_LDA/POSCAR", None, None),
    ("xyz", "ase/opls_structure_ext.xyz", None, None),
    ("xyz", "g4mp2/GDB_Sugar_Data/acid-aceticacid.xyz", None, None),
    ("vasp", "materialsio/vasp/AlNi_static_LDA", "OUTCAR", None),
    ("vasp", "materialsio/vasp/AlNi_static_LDA", "OSZICAR", None),
    ("vasp", "ase/vasp/vasprun_pstress.xml", None, None),
    ("vasp", "ase/vasp/OUTCAR_example_1", None, None),
    ("espresso", "materialsio/pwscf/NaF.scf", "aiida.out", None),
    ("espresso", "materialsio/pwscf/NaF.scf", "out/aiida.save/data-file.xml", None),
    ("quantum_chemistry", "materialsio/gaussian/molecule.log", None, None),
    ("quantum_chemistry", "qc_programs/ORCA/basicORCA5.0/dvb_sp.out", None, None),
    ("quantum_chemistry", "qc_programs/NWChem/basicNWChem6.5/dvb_gopt_ks.out", None, None),
    ("quantum_chemistry", "qc_programs/Psi4/basicPsi4-1.3.1/dvb_gopt_rks.out", None, None),
    ("quantum_chemistry", "qc_programs/QChem/basicQChem5.1/dvb_sp.out", None, None),
    ("quantum_chemistry", "qc_programs/GAMESS/basicFirefly8.0/dvb_sp.out", None, None),
    ("quantum_chemistry", "qc_programs/Molpro/basicMolpro2012/dvb_gopt.out", None, None),
    ("quantum_chemistry", "qc_programs/Jaguar/basicJaguar13.3/dvb_gopt_hf.out", None, None),
    ("quantum_chemistry", "qc_programs/ADF/basicADF2007.01/dvb_gopt.adfout", None, None),
    ("quantum_chemistry", "qc_programs/DALTON/basicDALTON-2013/dvb_gopt_ks.out", None, None),
    ("espresso", "qe_fixtures/default_xml_250521", "data-file-schema.xml", None),
    ("espresso", "qe_fixtures/default_xml_260128", "aiida.out", None),
    ("espresso", "qe_fixtures/failed_interrupted", "aiida.out", None),
    ("microscopy", "materialsio/electron_microscopy/test-1.dm3", None, None),
    ("microscopy", "rosettasciio/digitalmicrograph/1D/test-EELS_spectrum.dm3", None, None),
    ("microscopy", "rosettasciio/emd/Si100_3D.emd", None, None),
    ("microscopy", "rosettasciio/tiff/FEI-Helios-Ebeam-8bits.tif", None, None),
    ("image", "materialsio/image/dog2.jpeg", None, None),
    ("tabular", "matminer/dielectric_constant.csv", None, None),
    ("arrays", "cdi_nn/ft_downsampled_32.npy", None, None),
    ("arrays", "cdi_nn/structure_weights.hdf5", None, None),
    ("mapping", "materialsio/json/test_json.json", None, {"material.composition": "compost", "custom.f2": "dict1.field2"}),
    ("mapping", "materialsio/yaml/test_yaml.yaml", None, {"material.composition": "compost", "custom.f2": "dict1.field2"}),
    ("mapping", "materialsio/xml/test_xml.xml", None, {"material.composition": "root.compost"}),
]  # fmt: skip
#: The large tables are cut to their first rows (at a line end): still the real file's bytes.
MAX_TABLE_BYTES = 64 * 1024
#: A case that takes longer than this is a hang (a liveness bound, not a timing assertion).
HANG_S = 240.0
SEED = 1234


class Child:
    """The submitting child process; restarted after a crash or a hang."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.proc: subprocess.Popen[str] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        script = Path(__file__).with_name("reliability_mutants.py")
        self.proc = subprocess.Popen(
            [sys.executable, str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log.open("a"),
            text=True,
            bufsize=1,
        )
        ready = self._line(300)
        assert ready and json.loads(ready).get("ready"), f"the child did not start: {ready!r}"

    def _line(self, timeout: float) -> str | None:
        assert self.proc is not None and self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        return self.proc.stdout.readline()

    def submit(self, folder: Path, mapping: dict[str, str] | None) -> dict[str, Any]:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"folder": str(folder), "mapping": mapping}) + "\n")
        self.proc.stdin.flush()
        line = self._line(HANG_S)
        if line is None:
            self.stop()
            return {"hang": True}
        if not line:
            code = self.proc.wait(30)
            self.proc = None
            return {"crash": code}
        out: dict[str, Any] = json.loads(line)
        return out

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(30)
            self.proc = None


def _base_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".csv" and len(data) > MAX_TABLE_BYTES:
        data = data[: data.rfind(b"\n", 0, MAX_TABLE_BYTES) + 1]
    return data


def cases(
    shared: Path, everything: bool
) -> list[tuple[str, str, str, Path, str | None, bytes, dict[str, str] | None]]:
    """(family, seed, mutation, seed path, file in folder, mutant bytes, mapping)."""
    out = []
    rng = random.Random(SEED)
    for i, (family, rel, inner, mapping) in enumerate(SEEDS):
        path = shared / rel
        target = path / inner if inner else path
        base = _base_bytes(target)
        mutants = list(mutations(base, rng))
        if everything:
            extra = random.Random(SEED + i)
            mutants += [(f"random flips #{k}", _flips(base, extra)) for k in range(4)]
        else:
            mutants = [mutants[i % len(mutants)]]
        for name, data in mutants:
            out.append((family, rel + (f"/{inner}" if inner else ""), name, path, inner, data, mapping))
    return out


def _flips(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 64)):
        if out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def run_mutations(shared: Path, tmp: Path, everything: bool) -> None:
    hub_errors = {
        name
        for name, obj in vars(hub.exceptions).items()
        if isinstance(obj, type) and issubclass(obj, Exception)
    }
    child = Child(tmp / "child.log")
    findings: list[str] = []
    statuses: Counter[str] = Counter()
    error_types: Counter[str] = Counter()
    library_errors: Counter[str] = Counter()
    families: Counter[str] = Counter()
    try:
        for k, (family, seed, name, path, inner, data, mapping) in enumerate(cases(shared, everything)):
            folder = tmp / f"case{k:04d}"
            if inner:
                shutil.copytree(path, folder)
                (folder / inner).write_bytes(data)
            else:
                folder.mkdir()
                (folder / path.name).write_bytes(data)
            t0 = time.monotonic()
            out = child.submit(folder, mapping)
            elapsed = time.monotonic() - t0
            where = f"{family}: {seed} ({name})"
            families[family] += 1
            if "hang" in out:
                findings.append(f"{where}: no answer within {HANG_S:.0f} s")
            elif "crash" in out:
                findings.append(f"{where}: the process died (exit {out['crash']})")
            elif "unhandled" in out:
                findings.append(f"{where}: {out['unhandled']}\n{out.get('traceback', '')}")
            else:
                statuses[out["status"]] += 1
                if out["status"] not in ("complete", "failed", "refused"):
                    findings.append(f"{where}: status {out['status']}")
                if out["status"] != "complete" and not out.get("message"):
                    findings.append(f"{where}: {out['status']} without a message")
                for e in out["errors"]:
                    error_types[str(e["error"])] += 1
                    if not e.get("message"):
                        findings.append(f"{where}: an error without a message: {e}")
                    if e["error"] not in hub_errors:
                        library_errors[f"{e['error']} ({e['extractor']})"] += 1
            shutil.rmtree(folder, ignore_errors=True)
            if elapsed > 60:
                print(f"slow: {where} took {elapsed:.0f} s")
    finally:
        child.stop()
    n = sum(families.values())
    record(
        "extractors: mutated real files",
        cases=n,
        faults=n,
        unhandled=len(findings),
        child_restarts=child.starts - 1,
        statuses=dict(statuses),
        families=dict(families),
        library_errors_passed_through=sum(library_errors.values()),
        top_library_errors=dict(library_errors.most_common(8)),
        top_errors=dict(error_types.most_common(8)),
    )
    assert not findings, f"{len(findings)} of {n} mutants were not handled:\n" + "\n".join(findings[:20])


def test_mutated_real_files_short(shared_data: Path, tmp_path: Path) -> None:
    run_mutations(shared_data, tmp_path, everything=False)


@pytest.mark.reliability
def test_mutated_real_files_long(shared_data: Path, tmp_path: Path) -> None:
    run_mutations(shared_data, tmp_path, everything=long_run())


def test_mutations_are_what_they_say() -> None:
    rng = random.Random(0)
    data = b"data_x\n_cell_length_a 3.0\n" * 10
    got = dict(mutations(data, rng))
    assert got["empty"] == b"" and got["one byte"] == b"d" and got["twice over"] == data * 2
    assert got["cut at 1/2"] == data[: len(data) // 2]
    assert sum(bin(a ^ b).count("1") for a, b in zip(got["1 bit flipped"], data)) == 1
    assert len(got["8 MB first line"]) > 8 * 1024 * 1024 and got["8 MB first line"].endswith(data)
    binary = bytes(range(256)) * 4
    assert dict(mutations(binary, rng))["0xFF header"][:64] == b"\xff" * 64
