"""Gaussian output files (``*.log``, ``*.out``), recognised by their banner.

What the record says, and where it comes from:

``dft.method`` and ``dft.basis_set``
    The ``method/basis`` keyword of the route section (``#p M06/6-31+G(d,p)``),
    spelt as Gaussian spells them in ``SCF Done: E(RM06)`` and ``Standard
    basis:`` when those agree with the route.
``dft.total_energy``
    The last ``SCF Done`` energy, converted from Hartree to eV with
    :mod:`ase.units`.  For post-SCF methods (MP2, CCSD, ...) this is the SCF
    reference energy, not the correlated one.
``dft.converged``
    The last termination message is ``Normal termination``.
``crystal_structure``
    The last geometry of the file, read with ASE (``gaussian-out``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hub.exceptions import ExtractionError
from hub.extractors.base import ExtractionContext, Extractor
from hub.extractors.crystal import atoms_to_record, read_head

#: Banner text that only Gaussian outputs carry near their start.
_MARKERS = (b"Entering Gaussian System", b"Gaussian, Inc.")
_SCF_DONE = re.compile(r"SCF Done:\s+E\((\S+)\)\s*=\s*(\S+)")
_SPIN_PREFIX = re.compile(r"^(RO|R|U)(?=[A-Za-z0-9])")


def route_section(text: str) -> str:
    """The route section (``#...`` lines up to the dashed line), joined into one line."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("#"):
            route = []
            for part in lines[i:]:
                if part.strip().startswith("---"):
                    break
                route.append(part.strip())
            return " ".join(route)
    return ""


def method_and_basis(route: str) -> tuple[str | None, str | None]:
    """The ``method/basis`` keyword of a route section, e.g. ``("M06", "6-31+G(d,p)")``."""
    tokens = route.split()
    if tokens and tokens[0].startswith("#"):
        first = tokens[0][1:]  # "#", "#p", "#n", "#t" only set the print level
        tokens = tokens[1:] if first.lower() in {"", "p", "n", "t"} else [first, *tokens[1:]]
    for token in tokens:
        method, slash, basis = token.partition("/")
        if slash and method and basis and not any(c in method for c in "=(,"):
            return method, basis
    return None, None


def _method(route_method: str | None, scf_label: str | None) -> str | None:
    """The route's method, in Gaussian's own spelling when ``SCF Done`` agrees with it."""
    scf_method = _SPIN_PREFIX.sub("", scf_label) if scf_label else None
    if route_method is None:
        return scf_method
    if scf_method is not None:
        spelled = {scf_method.upper(), *(p + scf_method.upper() for p in ("R", "U", "RO"))}
        if route_method.upper() in spelled:
            return scf_method
    return route_method


class GaussianExtractor(Extractor):
    """Gaussian runs: version, method, basis set, termination, SCF energy, final geometry.

    ``claims`` reads the first 4 KB of each ``*.log`` / ``*.out`` for the
    Gaussian banner, so other logs are left alone.  See the module docstring for
    where each value comes from.
    """

    name = "gaussian"
    description = "Gaussian outputs: method, basis set, SCF energy, geometry"
    provides = ("material", "crystal_structure", "dft")
    patterns = ("*.log", "*.out")
    imports = ("ase", "spglib")

    def claims(self, path: Path) -> bool:
        """A ``*.log`` / ``*.out`` whose first 4 KB carry the Gaussian banner."""
        if not super().claims(path):
            return False
        head = read_head(path)
        return any(marker in head for marker in _MARKERS)

    def extract(self, group: tuple[Path, ...], context: ExtractionContext) -> dict[str, Any]:
        """Read the Gaussian output in ``group``.

        Raises
        ------
        ExtractionError
            When the output has an SCF energy but ASE cannot read its geometry.
        """
        from ase import units

        (path,) = group
        text = path.read_text(errors="replace")
        dft: dict[str, Any] = {"code": "Gaussian"}
        version = (
            re.search(r"^\s*Gaussian (\d+):", text, flags=re.MULTILINE)
            or re.search(r"Gaussian\(R\) (\d+) program", text)
            or re.search(r"Entering Gaussian System, Link 0=g(\d+)", text)
        )
        if version:
            dft["code_version"] = version.group(1)
        scf = _SCF_DONE.findall(text)
        route_method, route_basis = method_and_basis(route_section(text))
        method = _method(route_method, scf[-1][0] if scf else None)
        if method:
            dft["method"] = method
        standard = re.search(r"Standard basis:\s*(\S+)", text)
        basis = standard.group(1) if standard else route_basis
        if basis:
            dft["basis_set"] = basis
        terminations = re.findall(r"(Normal|Error) termination", text)
        dft["converged"] = bool(terminations) and terminations[-1] == "Normal"
        if scf:
            dft["total_energy"] = float(scf[-1][1].replace("D", "E")) * units.Hartree

        record: dict[str, Any] = {}
        try:
            import ase.io

            atoms = ase.io.read(path, format="gaussian-out", index=-1)
        except Exception as exc:
            if scf:
                raise ExtractionError(
                    f"{path.name}: the Gaussian output has an SCF energy but its geometry "
                    f"cannot be read ({type(exc).__name__}: {exc}). The file may be truncated "
                    "or edited; upload the output as Gaussian wrote it.",
                    file=str(path),
                ) from exc
        else:
            record.update(atoms_to_record(atoms[-1] if isinstance(atoms, list) else atoms))
        record["dft"] = dft
        return record
