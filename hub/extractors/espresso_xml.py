"""pw.x's machine-readable output, ``data-file-schema.xml`` (QE 6.2 and later), read with the standard library.

The file follows QE's published schema (``qes-1.0``, the same namespace from 6.2 to
7.5); the elements read here have kept their names and units since 6.2, so one
reader serves every version.  ``qeschema`` validates against the XSD of each
release and ASE reads only the text output, so neither is used: an unknown new
element is no reason to lose the record.  Energies and lengths are in Hartree
atomic units in the file and converted to eV and Å here.

``exit_status`` (``status`` before 7.0) is pw.x's exit code: 0 finished, 1 an
error, 2 to 127 a convergence failure (2 the SCF, 3 the ionic loop), 128 to 255
stopped on request, a signal or ``max_seconds``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hub.exceptions import ExtractionError
from hub.extractors.ending import NORMAL, Ending

if TYPE_CHECKING:
    from ase import Atoms

NAME = "data-file-schema.xml"


@dataclass(frozen=True)
class PwXml:
    """What ``data-file-schema.xml`` says about a pw.x run (eV, Å).

    Attributes
    ----------
    version : str or None
        ``general_info/creator@VERSION`` (``7.2``).
    functional : str or None
        ``output/dft/functional`` as QE names it (``PBE``, ``PBESOL``).
    hubbard : bool
        Whether ``output/dft`` has a ``dftU`` block (DFT+U).
    atoms : ase.Atoms or None
        ``output/atomic_structure``: the final structure, periodic.
    total_energy, cutoff_energy, fermi_energy, homo_energy, lumo_energy : float or None
        ``total_energy/etot``, ``basis_set/ecutwfc``, ``band_structure/fermi_energy``,
        ``highestOccupiedLevel`` and ``lowestUnoccupiedLevel``, in eV.
    calculation : str or None
        ``input/control_variables/calculation`` (``scf``, ``relax``, ``vc-relax``, ...).
    scf_converged, opt_converged : bool or None
        ``convergence_info/scf_conv`` and ``opt_conv``'s ``convergence_achieved``.
    exit_status : int or None
        ``exit_status`` (``status`` before 7.0).
    """

    version: str | None
    functional: str | None
    hubbard: bool
    atoms: Atoms | None
    total_energy: float | None
    cutoff_energy: float | None
    fermi_energy: float | None
    homo_energy: float | None
    lumo_energy: float | None
    calculation: str | None
    scf_converged: bool | None
    opt_converged: bool | None
    exit_status: int | None

    def ending(self) -> Ending:
        """How the run ended, from its exit status and convergence flags."""
        status = self.exit_status
        if status is not None and status >= 128:
            return Ending(
                "interrupted", f"pw.x stopped on request, a signal or max_seconds (exit status {status})"
            )
        if status == 1:
            return Ending("error", "pw.x stopped on an error (exit status 1)")
        if self.scf_converged is False or status == 2:
            return Ending("not converged", "the SCF did not converge (data-file-schema.xml: scf_conv)")
        if self.opt_converged is False or (status is not None and status >= 3):
            return Ending("not converged", f"the ionic relaxation did not converge (exit status {status})")
        return NORMAL


def _float(element: ET.Element | None) -> float | None:
    if element is None or element.text is None:
        return None
    try:
        return float(element.text.strip().replace("d", "e").replace("D", "e"))
    except ValueError:
        return None


def _flag(element: ET.Element | None) -> bool | None:
    if element is None or element.text is None:
        return None
    return element.text.strip().lower() in {"true", ".true.", "t", "1"}


def _atoms(structure: ET.Element | None) -> Atoms | None:
    if structure is None:
        return None
    from ase import Atoms
    from ase.io.espresso import label_to_symbol
    from ase.units import Bohr

    atoms = structure.findall("atomic_positions/atom") or structure.findall("crystal_positions/atom")
    cell = [structure.find(f"cell/a{i}") for i in (1, 2, 3)]
    if not atoms or any(a is None or a.text is None for a in cell):
        return None
    vectors = [
        [float(x) * Bohr for x in a.text.split()] for a in cell if a is not None and a.text is not None
    ]
    symbols = [label_to_symbol(a.get("name", "X")) for a in atoms]  # type: ignore[no-untyped-call]
    coords = [[float(x) for x in (a.text or "").split()] for a in atoms]
    result = Atoms(symbols=symbols, cell=vectors, pbc=True)
    if structure.find("atomic_positions") is not None:
        result.set_positions([[x * Bohr for x in c] for c in coords])  # type: ignore[no-untyped-call]
    else:
        result.set_scaled_positions(coords)  # type: ignore[no-untyped-call]
    return result


def read_pw_xml(path: Path) -> PwXml:
    """Read ``data-file-schema.xml``.

    Raises
    ------
    ExtractionError
        When the file is not well-formed XML or not a pw.x data file (a truncated
        file, or another program's XML).
    """
    from ase.units import Hartree

    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise ExtractionError(f"{path.name}: not readable as XML ({exc}).", file=str(path)) from exc
    if root.tag.rsplit("}", 1)[-1] != "espresso" or root.find("output") is None:
        raise ExtractionError(f"{path.name}: not a pw.x data file (no qes:espresso/output).", file=str(path))

    def energy(xpath: str) -> float | None:
        value = _float(root.find(xpath))
        return None if value is None else value * Hartree

    creator = root.find("general_info/creator")
    status = root.find("exit_status")
    if status is None:
        status = root.find("status")
    status_value = _float(status)
    return PwXml(
        version=creator.get("VERSION") if creator is not None else None,
        functional=(root.findtext("output/dft/functional") or "").strip() or None,
        hubbard=root.find("output/dft/dftU") is not None,
        atoms=_atoms(root.find("output/atomic_structure")),
        total_energy=energy("output/total_energy/etot"),
        cutoff_energy=energy("output/basis_set/ecutwfc"),
        fermi_energy=energy("output/band_structure/fermi_energy"),
        homo_energy=energy("output/band_structure/highestOccupiedLevel"),
        lumo_energy=energy("output/band_structure/lowestUnoccupiedLevel"),
        calculation=(root.findtext("input/control_variables/calculation") or "").strip() or None,
        scf_converged=_flag(root.find("output/convergence_info/scf_conv/convergence_achieved")),
        opt_converged=_flag(root.find("output/convergence_info/opt_conv/convergence_achieved")),
        exit_status=None if status_value is None else int(status_value),
    )
