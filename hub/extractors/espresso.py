"""Quantum ESPRESSO pw.x calculations: one record per calculation folder.

A folder holding a pw.x output (a file whose first 4 KB contain ``Program
PWSCF``) is one calculation, and every file below it, subfolders included
(``out/<prefix>.save``, ``pseudo/``, inputs), joins its group.  A folder below
another calculation folder never becomes a calculation of its own.

The run is read from ``data-file-schema.xml``, pw.x's machine-readable output
(every pw.x since 6.2; :mod:`hub.extractors.espresso_xml`), when the folder has
one; otherwise, or when that file cannot be read (a warning then names it), from
the text output with ASE (``espresso-out``).  QE 6.x to 7.5 are read.

``dft.total_energy``
    ``etot`` of the XML, else the last ``!    total energy`` of the output, in eV
    (ASE's CODATA 2014 Hartree and Rydberg).
``dft.method``
    The functional (``output/dft/functional``, else the ``Exchange-correlation``
    line: its index codes, else its names), ``+U`` for DFT+U.
``dft.cutoff_energy``
    ecutwfc in eV.
``dft.converged``, ``dft.termination``, ``dft.termination_reason``
    From the XML: its exit status and convergence flags (see
    :mod:`hub.extractors.espresso_xml`).  From the text: ``error`` when pw.x
    printed an error box (``%%%%``), ``interrupted`` when the output has no
    ``JOB DONE`` (killed by the scheduler or truncated) or says ``Maximum CPU time
    exceeded``, ``not converged`` when the last SCF says ``convergence NOT
    achieved`` or a BFGS relaxation did not print ``bfgs converged``, else
    ``normal``.  A text output that stops before ``JOB DONE`` overrides an XML file
    left by an earlier run.
``dft.fermi_energy``, ``dft.homo_energy``, ``dft.lumo_energy``
    From the XML's band structure, in eV.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from hub.exceptions import ExtractionError
from hub.extractors.base import ExtractionContext, Extractor, PartialExtractionWarning
from hub.extractors.crystal import atoms_to_record, read_head
from hub.extractors.ending import NORMAL, Ending
from hub.extractors.espresso_xml import NAME as XML_NAME
from hub.extractors.espresso_xml import PwXml, read_pw_xml

_MARKER = b"Program PWSCF"
_TOTAL_ENERGY = re.compile(r"^!\s+total energy\s*=\s*([-\d.Ee+]+)\s*Ry", re.MULTILINE)
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
        """Read the calculation in ``group``: its ``data-file-schema.xml`` first, its pw.x output else.

        Raises
        ------
        ExtractionError
            When neither the XML nor the text output can be read (the text has a total
            energy but ASE cannot read it, and there is no readable XML).
        """
        outputs = sorted((f for f in group if is_pw_output(f)), key=_depth_then_name)
        if not outputs:
            return {}
        output = outputs[0]
        text = output.read_text(errors="replace")
        xml = self._xml(group)
        if xml is None:
            return self._from_text(output, text)
        dft: dict[str, Any] = {"code": "Quantum ESPRESSO"}
        if xml.version:
            dft["code_version"] = f"v.{xml.version}"
        method = (
            _XC_NAMES.get(xml.functional.upper(), xml.functional) if xml.functional else text_method(text)
        )
        if method:
            dft["method"] = method + ("+U" if xml.hubbard and not method.endswith("+U") else "")
        ending = xml.ending()
        stopped = text_ending(text)
        if ending.converged and stopped.termination in ("interrupted", "error"):
            ending = stopped
        dft.update(ending.fields())
        for key in ("total_energy", "cutoff_energy", "fermi_energy", "homo_energy", "lumo_energy"):
            value = getattr(xml, key)
            if value is not None:
                dft[key] = value
        record: dict[str, Any] = atoms_to_record(xml.atoms) if xml.atoms is not None else {}
        record["dft"] = dft
        return record

    @staticmethod
    def _xml(group: tuple[Path, ...]) -> PwXml | None:
        """The run's ``data-file-schema.xml`` read, or None (a warning when it cannot be read)."""
        found = sorted((f for f in group if f.name == XML_NAME), key=_depth_then_name)
        if not found:
            return None
        try:
            return read_pw_xml(found[0])
        except ExtractionError as exc:
            warnings.warn(
                PartialExtractionWarning(f"{exc} The run is read from its text output instead."), stacklevel=3
            )
            return None

    def _from_text(self, output: Path, text: str) -> dict[str, Any]:
        dft: dict[str, Any] = {"code": "Quantum ESPRESSO"}
        version = re.search(r"Program PWSCF\s+(v\.\S+)", text)
        if version:
            dft["code_version"] = version.group(1)
        method = text_method(text)
        if method:
            dft["method"] = method
        dft.update(text_ending(text).fields())
        cutoff = re.search(r"kinetic-energy cutoff\s*=\s*([-\d.Ee+]+)\s*Ry", text)
        if cutoff:
            from ase import units

            dft["cutoff_energy"] = float(cutoff.group(1)) * units.Rydberg

        record: dict[str, Any] = {}
        energies = _TOTAL_ENERGY.findall(text)
        try:
            import ase.io

            images = ase.io.read(output, format="espresso-out", index=":")
        except Exception as exc:
            if not energies:
                images = []
            elif "code_version" not in dft:
                raise ExtractionError(
                    f"{output.name}: the pw.x output has a total energy but cannot be read "
                    f"({type(exc).__name__}: {exc}). The file may be truncated or edited; "
                    "upload the output as pw.x wrote it.",
                    file=str(output),
                ) from exc
            else:
                warnings.warn(
                    PartialExtractionWarning(
                        f"{output.name}: ASE cannot read the structure of this pw.x output "
                        f"({type(exc).__name__}: {exc}); the record holds its header and last total "
                        f"energy. Upload the run folder with its {XML_NAME} for the structure."
                    ),
                    stacklevel=3,
                )
                images = []
        if not isinstance(images, list):
            images = [images]
        if images:
            record.update(atoms_to_record(images[-1]))
        if energies:  # as printed, converted with ASE's (CODATA 2014) Rydberg like the XML's Hartree
            from ase import units

            dft["total_energy"] = float(energies[-1]) * units.Rydberg
        record["dft"] = dft
        return record


def text_method(text: str) -> str | None:
    """The functional a pw.x output names, with ``+U`` when it ran DFT+U."""
    method = xc_functional(text)
    if method and ("DFT+U" in text or "LDA+U calculation" in text):
        method += "+U"
    return method


def text_ending(text: str) -> Ending:
    """How a pw.x run ended, from its text output (see the module docstring)."""
    error = re.search(r"^ *%{20,}\n(.*?)\n *%{20,}", text, flags=re.MULTILINE | re.DOTALL)
    if error is not None:
        return Ending("error", " ".join(error.group(1).split()))
    if "Maximum CPU time exceeded" in text:
        return Ending("interrupted", "pw.x stopped at its time limit (Maximum CPU time exceeded)")
    if "JOB DONE" not in text:
        return Ending(
            "interrupted",
            "the output stops before JOB DONE (killed by the scheduler, out of time, or truncated)",
        )
    achieved = text.rfind("convergence has been achieved")
    failed = text.rfind("convergence NOT achieved")
    if failed > achieved:
        return Ending("not converged", "the SCF did not converge (convergence NOT achieved)")
    if "BFGS Geometry Optimization" in text and "bfgs converged" not in text:
        return Ending("not converged", "the BFGS relaxation did not converge")
    return NORMAL
