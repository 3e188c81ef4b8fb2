"""One hub of real structures for the OPTIMADE tests, and what each structure is, read
independently of the hub (plain ASE on the source files).

Public datasets: 4 CIFs (MaterialsIO), 8 mineral CIFs (COD), a VASP run (AlNi), a
Quantum ESPRESSO run (NaF), a Gaussian log and 24 G4MP2 molecules (XYZ with trailing
energy blocks).  Hidden from anonymous callers: two VASP outputs visible to the group
``lab`` (alice is in it) and an extended-XYZ file visible to bob alone.
"""

from __future__ import annotations

import io
import math
import shutil
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import Any

import pytest

G4MP2_MOLECULES = 24


@dataclass(frozen=True)
class Facts:
    """A structure as ASE reads it from its source file."""

    source: str  # dataset source_name
    path: str  # the main file, relative to the dataset
    symbols: tuple[str, ...]
    periodic: tuple[bool, bool, bool]
    space_group: int | None

    @property
    def elements(self) -> list[str]:
        return sorted(set(self.symbols))

    @property
    def nsites(self) -> int:
        return len(self.symbols)

    @property
    def counts(self) -> Counter[str]:
        return Counter(self.symbols)

    @property
    def reduced(self) -> str:
        g = reduce(math.gcd, self.counts.values())
        return "".join(f"{e}{n // g if n // g > 1 else ''}" for e, n in sorted(self.counts.items()))

    @property
    def anonymous(self) -> str:
        g = reduce(math.gcd, self.counts.values())
        amounts = sorted((n // g for n in self.counts.values()), reverse=True)
        return "".join(f"{chr(65 + i)}{n if n > 1 else ''}" for i, n in enumerate(amounts))

    @property
    def ratios(self) -> list[float]:
        return [self.counts[e] / self.nsites for e in self.elements]

    @property
    def nperiodic(self) -> int:
        return sum(self.periodic)


def read_structure(path: Path) -> Any:
    """The structure of a source file, read with ASE alone (first CIF block, last image of
    a calculation, the atoms of an XYZ file without the trailing G4MP2 block)."""
    import ase.io

    name = path.name
    if name.endswith(".cif"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ASE's notes on CIF settings
            return ase.io.read(path, format="cif", index=0)
    if name.endswith(".xyz"):
        lines = path.read_text().splitlines(keepends=True)
        n = int(lines[0])
        return ase.io.read(io.StringIO("".join(lines[: n + 2])), format="extxyz", index=0)
    if name.endswith(".log"):
        return ase.io.read(path, format="gaussian-out", index=-1)
    if name.startswith("vasprun") and name.endswith(".xml"):
        return ase.io.read(path, format="vasp-xml", index=-1)
    if name.startswith("OUTCAR"):
        return ase.io.read(path, format="vasp-out", index=-1)
    if name == "aiida.out":
        return ase.io.read(path, format="espresso-out", index=-1)
    raise ValueError(f"no structure reader for {name}")


_MAIN = (".cif", ".xyz", ".log", "vasprun", "OUTCAR", "aiida.out")


def main_file(paths: list[str]) -> str | None:
    """The file of a record its structure comes from."""
    for marker in _MAIN:
        for p in sorted(paths):
            name = p.rsplit("/", 1)[-1]
            if name.endswith(marker) or name.startswith(marker):
                return p
    return None


def facts_of(source: str, root: Path, relpath: str) -> Facts:
    import spglib

    atoms = read_structure(root / relpath)
    periodic = tuple(bool(p) for p in atoms.pbc)
    group = None
    if all(periodic):
        cell = (atoms.cell[:], atoms.get_scaled_positions(wrap=True), atoms.numbers)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # spglib's notice about its error handling
            data = spglib.get_symmetry_dataset(cell, symprec=1e-3)
        group = int(data.number) if data is not None else None
    return Facts(source, relpath, tuple(atoms.get_chemical_symbols()), periodic, group)  # type: ignore[arg-type]


@dataclass
class StructureHub:
    """The hub, its users' tokens, and the facts of every structure record by record id."""

    home: Path
    hub: Any
    tokens: dict[str, str]
    facts: dict[str, Facts]
    visible_to: dict[str, list[str]]  # source_name -> visible_to
    source_ids: dict[str, str]  # source_name -> source_id

    def as_user(self, name: str | None) -> Any:
        from hub.access import Principal

        if name is None:
            return self.hub.acting_as(Principal(None))
        return self.hub.acting_as(self.hub.users.authenticate(self.tokens[name]))

    def ids_visible_to(self, groups: set[str], user: str | None) -> set[str]:
        allowed = {"public"} | {f"group:{g}" for g in groups} | ({f"user:{user}"} if user else set())
        return {rid for rid, f in self.facts.items() if allowed & set(self.visible_to[f.source])}

    def public_ids(self) -> set[str]:
        return self.ids_visible_to(set(), None)


DATASETS: list[tuple[str, list[str], list[str]]] = [
    # (source_name, files or folders under shared_data, visible_to)
    ("cifs", ["materialsio/crystal_structure"], ["public"]),
    ("minerals", ["ase/minerals"], ["public"]),
    ("dft_runs", ["materialsio/vasp/AlNi_static_LDA", "materialsio/pwscf/NaF.scf"], ["public"]),
    ("molecules", ["materialsio/gaussian/molecule.log"], ["public"]),
    ("lab_runs", ["ase/vasp/vasprun_pstress.xml", "ase/vasp/OUTCAR_example_1"], ["group:lab"]),
    ("bob_only", ["ase/opls_structure_ext.xyz"], ["user:bob"]),
]


@pytest.fixture(scope="session")
def structure_hub(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StructureHub]:
    from hub import Hub

    work = tmp_path_factory.mktemp("optimade")
    hub = Hub(work / "hub", progress=False)
    tokens = {}
    for name, groups in {"alice": ["lab"], "bob": [], "carol": []}.items():
        hub.users.ensure_user(name, groups)
        tokens[name], _ = hub.users.create_token(hub.principal, name, label="optimade tests")
    facts: dict[str, Facts] = {}
    visible_to: dict[str, list[str]] = {}
    source_ids: dict[str, str] = {}
    for source, parts, visible in DATASETS:
        folder = work / "src" / source
        folder.mkdir(parents=True)
        for part in parts:
            src = shared_data / part
            if src.is_dir():
                shutil.copytree(src, folder / src.name)
            else:
                shutil.copy(src, folder / src.name)
        if source == "molecules":
            xyz = sorted((shared_data / "g4mp2" / "GDB_Sugar_Data").glob("*.xyz"))[:G4MP2_MOLECULES]
            for f in xyz:
                shutil.copy(f, folder / f.name)
        sub = hub.submit(folder, title=f"OPTIMADE test {source}", authors=["Ward, Logan"],
                         visible_to=visible, source_name=source)  # fmt: skip
        assert sub.status == "complete", (source, sub.message, sub.errors)
        assert not sub.errors, (source, sub.errors)
        visible_to[source] = visible
        source_ids[source] = sub.source_id
        for record in hub.dataset(sub.source_id).records():
            main = main_file([f["path"] for f in record.get("files", [])])
            assert main is not None, record["files"]
            facts[record["mdf"]["record_id"]] = facts_of(source, folder, main)
    try:
        yield StructureHub(work / "hub", hub, tokens, facts, visible_to, source_ids)
    finally:
        hub.close()


@pytest.fixture(scope="session")
def live_optimade(structure_hub: StructureHub) -> Iterator[str]:
    """The hub service over the test hub, on a loopback port: its ``/optimade`` base URL."""
    from hub.service import create_app
    from hub.service.testing import LiveServer

    with LiveServer(create_app(structure_hub.hub, start_worker=False)) as server:
        yield server.url + "/optimade"
