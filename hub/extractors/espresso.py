"""Quantum ESPRESSO pw.x calculations: one record per calculation folder.

A folder holding a pw.x output (a file whose first 4 KB contain ``Program
PWSCF``) is one calculation, and every file below it, subfolders included
(``out/<prefix>.save``, ``pseudo/``, inputs), joins its group.  A folder below
another calculation folder never becomes a calculation of its own.

The output is read with ASE (``espresso-out``) for the final structure and
energy; the header gives the version, functional and cutoff:

``dft.total_energy``
    The last ``!    total energy`` (ASE's ``get_potential_energy()``), in eV.
``dft.converged``
    The last SCF reached ``convergence has been achieved`` (and, for a BFGS
    relaxation, ``bfgs converged`` was printed).
``dft.method``
    From the ``Exchange-correlation`` line (its index codes, else its names).
``dft.cutoff_energy``
    ``kinetic-energy cutoff`` (ecutwfc) converted from Ry to eV.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from hub.exceptions import ExtractionError
from hub.extractors.base import ExtractionContext, Extractor
from hub.extractors.crystal import atoms_to_record, read_head

_MARKER = b"Program PWSCF"
#: Suffixes that are never a pw.x output, so ``group`` does not open them.
_NOT_OUTPUT = {
    ".xml",
    ".upf",
    ".dat",
    ".in",
    ".sh",
    ".py",
    ".json",
    ".yaml",
    ".yml",
    ".cif",
    ".xyz",
    ".h5",
    ".hdf5",
    ".npy",
    ".npz",
    ".png",
    ".jpg",
    ".jpeg",
    ".tif",
    ".tiff",
    ".pdf",
    ".gz",
    ".zip",
    ".tar",
}
#: QE's exchange-correlation index codes (iexch, icorr, igcx, igcc) -> functional.
_XC_CODES: dict[tuple[int, ...], str] = {
    (1, 1, 0, 0): "LDA",
    (1, 4, 0, 0): "LDA",
    (1, 4, 3, 4): "PBE",
    (1, 4, 10, 8): "PBEsol",
    (1, 4, 2, 2): "PW91",
    (1, 4, 4, 4): "revPBE",
    (1, 3, 1, 3): "BLYP",
    (1, 1, 1, 1): "BP",
    (6, 4, 8, 4): "PBE0",
    (1, 4, 12, 4): "HSE",
    (7, 12, 9, 7): "B3LYP",
}
#: QE's short functional names -> the usual spelling.
_XC_NAMES = {
    "PZ": "LDA",
    "LDA": "LDA",
    "PW": "LDA",
    "PBE": "PBE",
    "PBESOL": "PBEsol",
    "REVPBE": "revPBE",
    "PW91": "PW91",
    "BLYP": "BLYP",
    "PBE0": "PBE0",
    "HSE": "HSE",
    "B3LYP": "B3LYP",
    "SCAN": "SCAN",
    "R2SCAN": "r2SCAN",
    "SLA PZ NOGX NOGC": "LDA",
    "SLA PW NOGX NOGC": "LDA",
    "SLA PW PBE PBE": "PBE",
    "SLA PW PBX PBC": "PBE",
    "SLA PW PSX PSC": "PBEsol",
    "SLA PW GGX GGC": "PW91",
    "SLA PW RPB PBC": "revPBE",
}


def is_pw_output(path: Path) -> bool:
    """Whether the first 4 KB of ``path`` contain ``Program PWSCF``."""
    return path.suffix.lower() not in _NOT_OUTPUT and _MARKER in read_head(path)


def xc_functional(text: str) -> str | None:
    """The functional named by a pw.x output's ``Exchange-correlation`` line.

    Parameters
    ----------
    text
        The output (at least its header).

    Returns
    -------
    str or None
        ``"PBE"``, ``"LDA"``, ``"PBEsol"``, ... or the names as printed when the
        combination is not a known one; None when the line is missing.
    """
    match = re.search(r"Exchange-correlation\s*=\s*([^\n(]*)(?:\n\s*)?\(([-\d\s]+)\)", text)
    if match is None:
        match = re.search(r"Exchange-correlation\s*=\s*([^\n(]*)", text)
        if match is None:
            return None
        codes: tuple[int, ...] = ()
    else:
        codes = tuple(int(c) for c in match.group(2).split())
    names = " ".join(match.group(1).split())
    if codes[:4] in _XC_CODES:
        return _XC_CODES[codes[:4]]
    return _XC_NAMES.get(names.upper(), names or None)


def _depth_then_name(path: Path) -> tuple[int, str]:
    return len(path.parts), path.as_posix()


class EspressoExtractor(Extractor):
    """Quantum ESPRESSO pw.x runs: functional, convergence, energy, cutoff, final structure.

    See the module docstring for where each value comes from.
    """

    name = "espresso"
    description = "Quantum ESPRESSO pw.x calculations, one record per calculation folder"
    provides = ("material", "crystal_structure", "dft")
    patterns = ("*",)  # any name: ``claims`` looks for "Program PWSCF" in the head
    imports = ("ase", "spglib")
    groups_files = True

    def claims(self, path: Path) -> bool:
        """A pw.x output, whatever its name (the first 4 KB are read)."""
        return is_pw_output(path)

    def group(self, files: Sequence[Path], context: ExtractionContext) -> Iterable[tuple[Path, ...]]:
        """One group per outermost folder holding a pw.x output: every file below it."""
        folders = sorted({f.parent for f in files if is_pw_output(f)}, key=_depth_then_name)
        roots: list[Path] = []
        for folder in folders:
            if not any(folder.is_relative_to(root) for root in roots):
                roots.append(folder)
        for root in roots:
            yield tuple(sorted(f for f in files if f.is_relative_to(root)))

    def extract(self, group: tuple[Path, ...], context: ExtractionContext) -> dict[str, Any]:
        """Read the calculation in ``group`` (its outermost pw.x output).

        Raises
        ------
        ExtractionError
            When the output has a total energy but ASE cannot read it.
        """
        outputs = sorted((f for f in group if is_pw_output(f)), key=_depth_then_name)
        if not outputs:
            return {}
        output = outputs[0]
        text = output.read_text(errors="replace")

        dft: dict[str, Any] = {"code": "Quantum ESPRESSO"}
        version = re.search(r"Program PWSCF\s+(v\.\S+)", text)
        if version:
            dft["code_version"] = version.group(1)
        method = xc_functional(text)
        if method:
            dft["method"] = method
        dft["converged"] = self._converged(text)
        cutoff = re.search(r"kinetic-energy cutoff\s*=\s*([-\d.Ee+]+)\s*Ry", text)
        if cutoff:
            from ase import units

            dft["cutoff_energy"] = float(cutoff.group(1)) * units.Rydberg

        record: dict[str, Any] = {}
        has_energy = re.search(r"^!", text, flags=re.MULTILINE) is not None
        try:
            import ase.io

            images = ase.io.read(output, format="espresso-out", index=":")
        except Exception as exc:
            if has_energy:
                raise ExtractionError(
                    f"{output.name}: the pw.x output has a total energy but cannot be read "
                    f"({type(exc).__name__}: {exc}). The file may be truncated or edited; "
                    "upload the output as pw.x wrote it.",
                    file=str(output),
                ) from exc
            images = []
        if not isinstance(images, list):
            images = [images]
        if images:
            atoms = images[-1]
            record.update(atoms_to_record(atoms))
            if atoms.calc is not None and "energy" in atoms.calc.results:
                dft["total_energy"] = float(atoms.calc.results["energy"])
        record["dft"] = dft
        return record

    @staticmethod
    def _converged(text: str) -> bool:
        achieved = text.rfind("convergence has been achieved")
        failed = text.rfind("convergence NOT achieved")
        electronic = achieved > failed
        if "BFGS Geometry Optimization" in text:
            return electronic and "bfgs converged" in text
        return electronic
