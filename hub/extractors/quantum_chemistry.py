"""Quantum-chemistry outputs of every program cclib reads, read with cclib.

cclib (https://cclib.github.io) reads the outputs of ADF, CFOUR, Dalton, GAMESS,
GAMESS-UK, Firefly, Gaussian, Jaguar, Molcas, Molpro, MOPAC, NWChem, ORCA, Psi4,
Q-Chem, TURBOMOLE, xtb and more into one data model.  A file is claimed when
cclib's own detection (its trigger phrases, :data:`cclib.io.ccio.triggers`)
recognises a program in its first 64 KB; documents and data files (``*.md``,
``*.json``, ``*.cif``, ...) and binary files are never claimed.

What the record says, and where it comes from (cclib's attribute in brackets):

``dft.code``, ``dft.code_version``, ``dft.code_build``
    The program (cclib's parser, spelt as its authors spell it: ``Q-Chem``,
    ``Dalton``, ``Firefly``), its release (``legacy_package_version``; Gaussian's
    as ``16``, ``09``) and the full version with its build (``package_version``).
``dft.method``, ``dft.basis_set``
    The correlated method when one ran (``methods``), else the functional
    (``functional``; see :mod:`hub.extractors.qc_methods` for ORCA, ADF and
    GAMESS), else ``HF``; the basis set (``basis_set``).
``dft.total_energy``, ``dft.energy_method``
    The final energy of the method asked for, in eV: the last coupled-cluster
    energy (``ccenergies``), else the highest-order Møller-Plesset energy
    (``mpenergies``), else the last SCF energy (``scfenergies``);
    ``energy_method`` says which (``CCSD(T)``, ``MP2``, ``SCF``).
``dft.converged``, ``dft.termination``, ``dft.termination_reason``
    ``normal`` when the program reports a normal end (``metadata["success"]``), no
    SCF failure is printed at the end of the output and a geometry optimisation
    converged (``optdone``); ``not converged`` when the SCF or the optimisation did
    not; ``error`` when the program printed an error at the end; ``interrupted``
    when the output stops before the program's end.  Left out when cclib could not
    read the output to its end (the record then holds what was read, and the
    submission a warning naming the file).
``dft.charge``, ``dft.multiplicity``
    ``charge``, ``mult``.
``dft.homo_energy``, ``dft.lumo_energy``
    The highest occupied and lowest unoccupied orbital energies in eV (``moenergies``
    at ``homos``; over both spins for unrestricted runs).
``dft.frequencies``
    The vibrational frequencies in cm^-1 (``vibfreqs``).
``material``, ``crystal_structure``
    The last geometry (``atomnos``, ``atomcoords``): the molecular formula and elements.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hub.exceptions import ExtractionError
from hub.extractors.base import ExtractionContext, Extractor, PartialExtractionWarning
from hub.extractors.crystal import atoms_to_record, read_head
from hub.extractors.ending import NORMAL, Ending
from hub.extractors.qc_methods import method_name, program_name

#: How much of a file cclib's detection looks at in ``claims``.
DETECT_BYTES = 64 * 1024
#: How much of the start is read for the names cclib leaves out (see qc_methods).
HEAD_TEXT_BYTES = 256 * 1024
#: How much of the end is read for error and SCF-failure messages.
TAIL_BYTES = 16 * 1024
#: Suffixes of documents and data files: never an output, whatever phrase they hold.
NOT_OUTPUT = frozenset(
    {
        ".md", ".rst", ".html", ".htm", ".tex", ".bib", ".ipynb", ".py", ".sh", ".json", ".yaml",
        ".yml", ".toml", ".xml", ".csv", ".tsv", ".cif", ".xyz", ".extxyz", ".pdb", ".mol", ".mol2",
        ".sdf", ".poscar", ".vasp", ".upf", ".psp8", ".h5", ".hdf5", ".nc", ".npy", ".npz", ".zarr",
        ".gz", ".bz2", ".xz", ".zip", ".tar", ".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".bmp",
        ".pdf", ".dm3", ".dm4", ".emd", ".xlsx", ".parquet",
    }
)  # fmt: skip
#: The end of an output that stopped on an error (looked for in the last 16 KB).
ERROR_MARKERS = (
    "Error termination",  # Gaussian
    "ORCA finished by error termination",
    "aborting the run",  # ORCA
    "Q-Chem fatal error",
    "Psi4 encountered an error",
    "PsiException",
    "TERMINATED -ABNORMALLY-",  # GAMESS, Firefly
    "SEVERE ERROR",  # Dalton
    "ERROR DETECTED",  # ADF
    "For further details see manual section",  # NWChem
    "ERROR EXIT",  # Molpro
    "ERROR:",  # Jaguar, TURBOMOLE
)
#: SCF failures (looked for in the last 16 KB).
SCF_FAILURE_MARKERS = (
    "Convergence failure",  # Gaussian
    "SCF NOT CONVERGED",  # ORCA
    "Could not converge SCF",  # Psi4
    "SCF failed to converge",  # Q-Chem
    "Calculation failed to converge",  # NWChem
    "SCF IS UNCONVERGED",  # GAMESS, Firefly
    "No convergence",  # Molpro
)
_GAUSSIAN_RELEASE = re.compile(r"^(\d+)\s*rev", re.IGNORECASE)


def detected_program(path: Path) -> str | None:
    """The cclib parser that cclib's detection picks for the first 64 KB of ``path``, or None.

    Binary files and the suffixes of :data:`NOT_OUTPUT` give None without a look.
    """
    if path.suffix.lower() in NOT_OUTPUT:
        return None
    head = read_head(path, DETECT_BYTES)
    if not head or b"\0" in head:
        return None
    from cclib.io.ccio import guess_filetype, triggers

    text = head.decode("utf-8", errors="replace")
    lower = text.lower()
    # cclib's detection walks line by line through its triggers; most files hold none of
    # them, which one pass over the lowered head tells quickly
    if not any(all(p.lower() in lower for p in phrases) for _, phrases, _ in triggers):
        return None
    parser = guess_filetype(text.splitlines(keepends=True))
    # guess_filetype returns a parser class (cclib annotates it as an instance)
    return None if parser is None else str(parser.__name__)  # type: ignore[attr-defined]


class QuantumChemistryExtractor(Extractor):
    """Quantum-chemistry outputs of every program cclib reads: one record per output.

    See the module docstring for what the record says and where it comes from.
    """

    name = "quantum_chemistry"
    description = (
        "Quantum-chemistry outputs (Gaussian, ORCA, NWChem, Psi4, Q-Chem, GAMESS, Molpro, ...) via cclib"
    )
    provides = ("material", "crystal_structure", "dft")
    patterns = ("*",)  # any name: ``claims`` runs cclib's detection on the head
    imports = ("cclib", "ase", "spglib")

    def claims(self, path: Path) -> bool:
        """Whether cclib's detection recognises a program in the first 64 KB of ``path``."""
        return detected_program(path) is not None

    def extract(self, group: tuple[Path, ...], context: ExtractionContext) -> dict[str, Any]:
        """Read the output in ``group`` with cclib.

        When cclib stops part-way (a truncated or edited output, or a cclib bug), the
        record holds what was read before and a :class:`PartialExtractionWarning`
        names the file.

        Raises
        ------
        ExtractionError
            When cclib recognises no program in the file, or cannot open it.
        """
        (path,) = group
        data, failure = _parse(path)
        metadata: dict[str, Any] = dict(getattr(data, "metadata", {}) or {})
        package = str(metadata.get("package") or "")
        if not _read_anything(data, metadata):
            if failure is not None:
                raise ExtractionError(
                    f"{path.name}: cclib recognised a {package or 'quantum-chemistry'} output but could "
                    f"not read it ({failure}). The file may be truncated or edited; upload the output "
                    "as the program wrote it.",
                    file=str(path),
                )
            return {}
        head = read_head(path, HEAD_TEXT_BYTES).decode("utf-8", errors="replace")
        dft = _program_fields(package, metadata, head)
        dft.update(_energy_fields(data, metadata))
        if failure is None:
            dft.update(_ending(data, metadata, path).fields())
        else:
            warnings.warn(
                PartialExtractionWarning(
                    f"{path.name}: cclib's {package} parser stopped part-way ({failure}); the record holds "
                    "what was read before that point and does not say how the run ended."
                ),
                stacklevel=2,
            )
        dft.update(_system_fields(data))
        record: dict[str, Any] = _geometry(data)
        record["dft"] = dft
        return record


def _parse(path: Path) -> tuple[Any, str | None]:
    """The data cclib reads from ``path`` and None, or what its parser had read and why it stopped."""
    from cclib.io.ccio import ccopen

    try:
        parser = ccopen(str(path), loglevel=logging.CRITICAL, logstream=io.StringIO())
    except Exception as exc:
        raise ExtractionError(
            f"{path.name}: cclib cannot open the file ({type(exc).__name__}: {exc}).", file=str(path)
        ) from exc
    if parser is None:
        raise ExtractionError(
            f"{path.name}: cclib recognises no quantum-chemistry program in the file.", file=str(path)
        )
    try:
        return parser.parse(), None
    except Exception as exc:
        # cclib keeps what it read as the parser's attributes until parse() finishes
        return parser, f"{type(exc).__name__}: {exc}"
    finally:
        parser.inputfile.close()
        _forget_logger(parser.logger)


def _forget_logger(logger: logging.Logger) -> None:
    """Drop the logger cclib made for one file (named after its path), so a long-lived hub does not keep one per file."""
    logger.handlers.clear()
    logging.Logger.manager.loggerDict.pop(logger.name, None)


def _read_anything(data: Any, metadata: dict[str, Any]) -> bool:
    return any(
        _has(data, name) for name in ("atomnos", "scfenergies", "mpenergies", "ccenergies", "moenergies")
    ) or bool(metadata.get("package_version"))


def _has(data: Any, name: str) -> bool:
    value = getattr(data, name, None)
    return value is not None and len(value) > 0


def _program_fields(package: str, metadata: dict[str, Any], head: str) -> dict[str, Any]:
    dft: dict[str, Any] = {"code": program_name(package, head)}
    release = metadata.get("legacy_package_version")
    if release:
        release = str(release)
        if package == "Gaussian":
            match = _GAUSSIAN_RELEASE.match(release)
            release = match.group(1) if match else release
        dft["code_version"] = release
    if metadata.get("package_version"):
        dft["code_build"] = str(metadata["package_version"])
    method = method_name(package, metadata, head)
    if method:
        dft["method"] = method
    if metadata.get("basis_set"):
        dft["basis_set"] = str(metadata["basis_set"])
    return dft


def _energy_fields(data: Any, metadata: dict[str, Any]) -> dict[str, Any]:
    methods = [str(m) for m in metadata.get("methods") or []]
    if _has(data, "ccenergies"):
        cc = [m for m in methods if m.upper().startswith(("CC", "QCI"))]
        return {"total_energy": float(data.ccenergies[-1]), "energy_method": cc[-1] if cc else "CC"}
    if _has(data, "mpenergies"):
        orders = data.mpenergies[-1]
        if len(orders) > 0:
            return {"total_energy": float(orders[-1]), "energy_method": f"MP{len(orders) + 1}"}
    if _has(data, "scfenergies"):
        return {"total_energy": float(data.scfenergies[-1]), "energy_method": "SCF"}
    return {}


def _ending(data: Any, metadata: dict[str, Any], path: Path) -> Ending:
    tail = _tail(path)
    if not metadata.get("success"):
        error = _line_with(tail, ERROR_MARKERS)
        if error is not None:
            return Ending("error", error)
        scf = _line_with(tail, SCF_FAILURE_MARKERS)
        if scf is not None:
            return Ending("not converged", scf)
        return Ending(
            "interrupted",
            "the output stops before the program reports its end (killed, out of time, or truncated)",
        )
    scf = _line_with(tail, SCF_FAILURE_MARKERS)
    if scf is not None:
        return Ending("not converged", scf)
    optdone = getattr(data, "optdone", None)
    if optdone is not None and not optdone:
        return Ending("not converged", "the geometry optimisation did not converge")
    return NORMAL


def _tail(path: Path) -> str:
    with path.open("rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - TAIL_BYTES))
        return fh.read().decode("utf-8", errors="replace")


def _line_with(text: str, markers: Sequence[str]) -> str | None:
    """The last line of ``text`` holding one of ``markers``, stripped."""
    for line in reversed(text.splitlines()):
        if any(m in line for m in markers):
            return line.strip()
    return None


def _system_fields(data: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    charge = getattr(data, "charge", None)
    if charge is not None:
        out["charge"] = int(charge)
    mult = getattr(data, "mult", None)
    if mult is not None and int(mult) >= 1:
        out["multiplicity"] = int(mult)
    out.update(_frontier_orbitals(data))
    if _has(data, "vibfreqs"):
        out["frequencies"] = [float(f) for f in data.vibfreqs]
    return out


def _frontier_orbitals(data: Any) -> dict[str, float]:
    """HOMO and LUMO energies (eV) over the spins cclib read."""
    energies = getattr(data, "moenergies", None)
    homos = getattr(data, "homos", None)
    if energies is None or homos is None:
        return {}
    occupied, virtual = [], []
    for spin, homo in zip(energies, homos):
        h = int(homo)
        if 0 <= h < len(spin):
            occupied.append(float(spin[h]))
        if 0 <= h + 1 < len(spin):
            virtual.append(float(spin[h + 1]))
    out = {}
    if occupied:
        out["homo_energy"] = max(occupied)
    if virtual:
        out["lumo_energy"] = min(virtual)
    return out


def _geometry(data: Any) -> dict[str, Any]:
    """``material`` and ``crystal_structure`` of the last geometry, or {} when there is none."""
    numbers = getattr(data, "atomnos", None)
    coords = getattr(data, "atomcoords", None)
    if numbers is None or coords is None or len(numbers) == 0 or len(coords) == 0:
        return {}
    last = coords[-1]
    if len(last) != len(numbers):
        return {}
    from ase import Atoms

    return atoms_to_record(Atoms(numbers=[int(z) for z in numbers], positions=[list(p) for p in last]))
