"""VASP calculations: one record per run folder, read from vasprun.xml / OUTCAR with ASE.

A folder holding an ``OUTCAR`` or a ``vasprun.xml`` is one calculation: every
file in it (not in its subfolders) joins the group.  Loose outputs with other
names (``OUTCAR_example_1``, ``vasprun_pstress.xml``) are groups of one file.

What the record says, and where it comes from:

``dft.total_energy``
    The energy ASE's ``get_potential_energy()`` gives for the final ionic step:
    VASP's ``energy(sigma->0)`` (the free energy TOTEN extrapolated to zero
    smearing; ``e_0_energy`` of the last electronic step in vasprun.xml), in eV.
``dft.converged``
    Whether the last electronic loop converged, read as ASE's
    ``Vasp.read_convergence`` reads it: the OUTCAR's ``aborting loop ...``
    message when it follows the last ``total energy-change`` line (VASP 6 prints
    it after every loop; ``because EDIFF is reached`` is converged), otherwise
    whether that line's two energy changes are both below EDIFF.  A relaxation
    (IBRION 1, 2 or 3 with NSW > 0) must also have ``reached required
    accuracy``.  Without an OUTCAR, vasprun.xml is used: fewer electronic steps
    than NELM in the last ionic step (and, for a relaxation, fewer ionic steps
    than NSW).  ``dft.termination`` is ``normal`` or ``not converged`` accordingly (a
    run cut short is not told apart from one that did not converge).
``dft.method``
    The functional: LHFCALC (hybrids), METAGGA, the GGA tag, else the POTCAR
    family (``PAW_PBE`` is PBE, ``PAW_GGA`` is PW91, plain ``PAW`` / ``US`` is
    LDA); ``+U`` with LDAU and a ``-D2`` / ``-D3`` ... suffix with IVDW.
``dft.cutoff_energy``
    ENCUT in eV (INCAR, else the OUTCAR's echo, else vasprun's ENMAX).
"""

from __future__ import annotations

import fnmatch
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.exceptions import ExtractionError
from hub.extractors.base import ExtractionContext, Extractor
from hub.extractors.crystal import atoms_to_record, require_text
from hub.extractors.ending import NORMAL, Ending

if TYPE_CHECKING:
    from ase import Atoms

_OUTCAR_PATTERN = "*outcar*"
_VASPRUN_PATTERN = "*vasprun*.xml"

#: VASP's GGA tag -> functional name.
_GGA = {
    "PE": "PBE",
    "PS": "PBEsol",
    "91": "PW91",
    "RP": "RPBE",
    "RE": "revPBE",
    "AM": "AM05",
    "CA": "LDA",
    "PZ": "LDA",
    "HL": "LDA",
    "WI": "LDA",
    "VW": "LDA",
    "B3": "B3LYP",
    "B5": "B3LYP",
    "BO": "optB88",
    "MK": "optB86b",
    "OR": "optPBE",
    "BF": "BEEF",
    "LIBXC": "LibXC",
}
#: VASP's METAGGA tag -> functional name.
_METAGGA = {
    "SCAN": "SCAN",
    "R2SCAN": "r2SCAN",
    "RSCAN": "rSCAN",
    "TPSS": "TPSS",
    "RTPSS": "revTPSS",
    "M06L": "M06-L",
    "MBJ": "mBJ",
    "LBMBJ": "mBJ",
    "MS0": "MS0",
    "MS1": "MS1",
    "MS2": "MS2",
}
#: VASP's IVDW tag -> dispersion correction suffix.
_IVDW = {
    "1": "D2",
    "10": "D2",
    "11": "D3",
    "12": "D3(BJ)",
    "13": "D4",
    "2": "TS",
    "20": "TS",
    "21": "TS-H",
    "202": "MBD",
    "4": "dDsC",
}
_NOT_SET = {"", "--", "F", "FALSE", ".FALSE.", "NONE", "0"}
#: Parameters read from the OUTCAR's echo of its settings.
_OUTCAR_PARAMS = re.compile(
    r"^\s+(GGA|METAGGA|LHFCALC|HFSCREEN|AEXX|ENCUT|NELM|IBRION|NSW|LDAU|IVDW|LUSE_VDW|EDIFF)"
    r"\s*=\s*([^\s;]+)"
)
_NOT_CONVERGED = Ending(
    "not converged", "the last electronic loop, or the ionic relaxation, did not reach its criterion"
)
_ENERGY_CHANGE = re.compile(r"total energy-change \(2\. order\)\s*:\s*(\S+)\s*\(\s*(\S+)\s*\)")


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().upper().lstrip(".")[:1] == "T"


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip().rstrip(";").replace("d", "e").replace("D", "e"))
    except ValueError:
        return None


def _vasp_float(text: str) -> float:
    """A float as VASP prints it, also the broken exponents ``0.2737684-111``."""
    try:
        return float(text)
    except ValueError:
        mantissa, _, exponent = text.rpartition("-")
        return float(f"{mantissa}e-{exponent}")


def functional(params: dict[str, str], potcars: Sequence[str]) -> str | None:
    """The exchange-correlation functional of a VASP run.

    Parameters
    ----------
    params
        Upper-case INCAR tags -> values (``GGA``, ``METAGGA``, ``LHFCALC``,
        ``HFSCREEN``, ``LDAU``, ``IVDW``, ``LUSE_VDW``).
    potcars
        The POTCAR titles, e.g. ``"PAW_PBE Ni 02Aug2007"`` or ``"PAW Al 17Apr2000"``.

    Returns
    -------
    str or None
        ``"LDA"``, ``"PBE"``, ``"PBEsol"``, ``"HSE06"``, ``"SCAN"``, ``"PBE+U"``, ...;
        None when neither the tags nor the POTCARs say.
    """
    gga = params.get("GGA", "").strip().upper()
    metagga = params.get("METAGGA", "").strip().upper()
    if metagga not in _NOT_SET:
        base: str | None = _METAGGA.get(metagga, metagga)
    elif gga not in _NOT_SET:
        base = _GGA.get(gga, f"GGA={gga}")
    else:
        base = _potcar_functional(potcars)
    if base is None:
        return None
    if _truthy(params.get("LHFCALC")):
        base = _hybrid(base, gga, params)
    if _truthy(params.get("LUSE_VDW")):
        base += "-vdW"
    ivdw = params.get("IVDW", "").strip()
    if ivdw in _IVDW:
        base += f"-{_IVDW[ivdw]}"
    if _truthy(params.get("LDAU")):
        base += "+U"
    return base


def _potcar_functional(potcars: Sequence[str]) -> str | None:
    families = {t.split()[0].upper() for t in potcars if t.split()}
    if not families:
        return None
    if any("PBE" in f for f in families):
        return "PBE"
    if any("GGA" in f or "PW91" in f for f in families):
        return "PW91"
    if families <= {"PAW", "US"}:
        return "LDA"
    return None


def _hybrid(base: str, gga: str, params: dict[str, str]) -> str:
    if gga in {"B3", "B5"}:
        return "B3LYP"
    screen = _float(params.get("HFSCREEN")) or 0.0
    if base == "PBE":
        if abs(screen - 0.2) < 1e-3:
            return "HSE06"
        if abs(screen - 0.3) < 1e-3:
            return "HSE03"
        if screen == 0.0:
            return "PBE0"
    if base == "PBEsol" and abs(screen - 0.2) < 1e-3:
        return "HSEsol"
    return f"{base} hybrid"


def read_incar(path: Path) -> dict[str, str]:
    """The tags of an INCAR (upper-case keys, raw string values, comments removed)."""
    tags: dict[str, str] = {}
    for line in path.read_text(errors="replace").splitlines():
        line = re.split(r"[#!]", line, maxsplit=1)[0]
        for statement in line.split(";"):
            key, sep, value = statement.partition("=")
            if sep and key.strip():
                tags[key.strip().upper()] = value.strip()
    return tags


@dataclass
class OutcarInfo:
    """What one pass over an OUTCAR gives besides the structure."""

    version: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    potcars: list[str] = field(default_factory=list)
    electronic: bool | None = None
    relaxed: bool = False
    has_energy: bool = False


def read_outcar_info(path: Path) -> OutcarInfo:
    """Version, echoed parameters, POTCAR titles and electronic convergence of an OUTCAR."""
    info = OutcarInfo()
    ediff = 1e-4  # VASP's default
    by_message: bool | None = None
    by_energy: bool | None = None
    message_last = False
    with path.open(errors="replace") as fh:
        for number, line in enumerate(fh):
            if number < 5 and info.version is None:  # " vasp.5.4.4.18Apr17-6-g9f103f2a35 ..."
                match = re.match(r"\s*vasp\.(\S+)", line)
                info.version = match.group(1) if match else None
            if "POTCAR:" in line:
                title = line.split("POTCAR:", 1)[1].strip()
                if title not in info.potcars:
                    info.potcars.append(title)
                continue
            param = _OUTCAR_PARAMS.match(line)
            if param and param.group(1) not in info.params:
                info.params[param.group(1)] = param.group(2)
            if line.startswith("   EDIFF  ") or line.startswith("   EDIFF ="):
                ediff = _float(line.split("=", 1)[1].split()[0]) or ediff
            if "aborting loop" in line:
                by_message = "because EDIFF is reached" in line
                message_last = True
            elif "total energy-change" in line and "MIXING" not in line:
                change = _ENERGY_CHANGE.search(line)
                if change:
                    a, b = _vasp_float(change.group(1)), _vasp_float(change.group(2))
                    by_energy = abs(a) < ediff and abs(b) < ediff
                    message_last = False
            elif "reached required accuracy" in line:
                info.relaxed = True
            elif "free  energy   TOTEN" in line:
                info.has_energy = True
    info.electronic = by_message if message_last else by_energy
    return info


@dataclass
class VasprunInfo:
    """What vasprun.xml gives besides the structure."""

    version: str | None = None
    incar: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    potcars: list[str] = field(default_factory=list)
    ionic_steps: int = 0
    last_electronic_steps: int = 0


def read_vasprun_info(path: Path) -> VasprunInfo:
    """Version, INCAR, parameters, POTCAR titles and step counts of a vasprun.xml.

    Raises
    ------
    xml.etree.ElementTree.ParseError
        When the XML is malformed or truncated.
    """
    info = VasprunInfo()
    for _, elem in ET.iterparse(path, events=("end",)):
        tag = elem.tag
        if tag == "generator":
            version = elem.find("i[@name='version']")
            if version is not None and version.text:
                info.version = version.text.strip()
        elif tag in ("incar", "parameters"):
            target = info.incar if tag == "incar" else info.params
            for item in elem.iter("i"):
                name = item.get("name")
                if name and item.text is not None:
                    target.setdefault(name.upper(), item.text.strip())
            elem.clear()
        elif tag == "array" and elem.get("name") == "atomtypes":
            fields = [f.text.strip() if f.text else "" for f in elem.findall("field")]
            column = fields.index("pseudopotential") if "pseudopotential" in fields else -1
            for row in elem.iter("rc"):
                cells = [c.text.strip() if c.text else "" for c in row.findall("c")]
                if cells and cells[column] not in info.potcars:
                    info.potcars.append(cells[column])
        elif tag == "calculation":
            info.ionic_steps += 1
            info.last_electronic_steps = len(elem.findall("scstep"))
            elem.clear()
    return info


def read_oszicar(path: Path) -> tuple[float | None, int]:
    """The last ionic step's E0 (eV) and its number of electronic steps, from an OSZICAR."""
    energy: float | None = None
    steps = 0
    current = 0
    for line in path.read_text(errors="replace").splitlines():
        if re.match(r"^\s*[A-Z]{2,4}:\s+\d+", line):
            current += 1
        elif "E0=" in line:
            match = re.search(r"E0=\s*(\S+)", line)
            energy = _float(match.group(1)) if match else energy
            steps, current = current, 0
    return energy, steps


def _is_relaxation(params: dict[str, str]) -> bool:
    ibrion = params.get("IBRION", "").strip()
    nsw = _float(params.get("NSW")) or 0
    return ibrion in {"1", "2", "3"} and nsw > 0


def _read_atoms(path: Path, fmt: str) -> Atoms:
    import ase.io

    atoms = ase.io.read(path, format=fmt, index=-1)
    return atoms[-1] if isinstance(atoms, list) else atoms


class VaspExtractor(Extractor):
    """VASP runs: functional, convergence, energy, cutoff and final structure.

    See the module docstring for where each value comes from.
    """

    name = "vasp"
    description = "VASP calculations (vasprun.xml, OUTCAR, INCAR, OSZICAR), one record per run"
    provides = ("material", "crystal_structure", "dft")
    patterns = (_OUTCAR_PATTERN, _VASPRUN_PATTERN)
    imports = ("ase", "spglib")
    groups_files = True

    def group(self, files: Sequence[Path], context: ExtractionContext) -> Iterable[tuple[Path, ...]]:
        """One group per VASP run folder, and one per loose OUTCAR-like or vasprun-like file.

        A run folder is a folder holding an ``OUTCAR`` or a ``vasprun.xml``; its group is
        every file in it.
        """
        by_folder: dict[Path, list[Path]] = defaultdict(list)
        for f in files:
            by_folder[f.parent].append(f)
        for folder in sorted(by_folder):
            members = sorted(by_folder[folder])
            names = {f.name.lower() for f in members}
            if "outcar" in names or "vasprun.xml" in names:
                yield tuple(members)
            else:
                yield from ((f,) for f in members if self.claims(f))

    def extract(self, group: tuple[Path, ...], context: ExtractionContext) -> dict[str, Any]:
        """Read the run in ``group`` into ``dft`` plus the final structure.

        Raises
        ------
        ExtractionError
            When neither vasprun.xml nor OUTCAR gives a structure or any
            calculation information.
        """
        outcar = _pick(group, "outcar", _OUTCAR_PATTERN)
        vasprun = _pick(group, "vasprun.xml", _VASPRUN_PATTERN)
        incar = next((f for f in group if f.name.upper() == "INCAR"), None)
        oszicar = next((f for f in group if f.name.upper() == "OSZICAR"), None)
        if outcar is None and vasprun is None:
            return {}

        problems: list[str] = []
        atoms: Atoms | None = None
        run_info: VasprunInfo | None = None
        out_info: OutcarInfo | None = None
        if vasprun is not None:
            require_text(vasprun, "vasprun.xml")
            try:
                run_info = read_vasprun_info(vasprun)
                atoms = _read_atoms(vasprun, "vasp-xml")
            except Exception as exc:
                problems.append(f"{vasprun.name}: {type(exc).__name__}: {exc}")
        if outcar is not None:
            require_text(outcar, "OUTCAR")
            out_info = read_outcar_info(outcar)
            if atoms is None:
                try:
                    atoms = _read_atoms(outcar, "vasp-out")
                except Exception as exc:
                    problems.append(f"{outcar.name}: {type(exc).__name__}: {exc}")

        params: dict[str, str] = {}
        if out_info is not None:
            params.update(out_info.params)
        if run_info is not None:
            params.update(run_info.params)
            params.update(run_info.incar)
        if incar is not None:
            params.update(read_incar(incar))
        potcars = (out_info.potcars if out_info else []) or (run_info.potcars if run_info else [])

        dft: dict[str, Any] = {"code": "VASP"}
        version = (out_info.version if out_info else None) or (run_info.version if run_info else None)
        if version:
            dft["code_version"] = version
        method = functional(params, potcars)
        if method:
            dft["method"] = method
        converged = self._converged(out_info, run_info, params, oszicar)
        if converged is not None:
            dft.update((NORMAL if converged else _NOT_CONVERGED).fields())
        energy = _energy(atoms)
        if energy is None and oszicar is not None:
            energy = read_oszicar(oszicar)[0]
        if energy is not None:
            dft["total_energy"] = energy
        cutoff = _float(params.get("ENCUT")) or _float(params.get("ENMAX"))
        if cutoff:
            dft["cutoff_energy"] = cutoff

        finished_step = (out_info is not None and out_info.has_energy) or (
            run_info is not None and run_info.ionic_steps > 0
        )
        if atoms is None and (finished_step or len(dft) == 1):
            names = ", ".join(f.name for f in (outcar, vasprun) if f is not None)
            raise ExtractionError(
                f"{names}: the final structure and energy could not be read "
                f"({'; '.join(problems) or 'nothing recognisable'}). If the run stopped before "
                "its first ionic step finished there is nothing to read; otherwise the file may "
                "be truncated or corrupted: upload a complete OUTCAR or vasprun.xml.",
                file=names,
            )
        record = atoms_to_record(atoms) if atoms is not None else {}
        record["dft"] = dft
        return record

    @staticmethod
    def _converged(
        out_info: OutcarInfo | None,
        run_info: VasprunInfo | None,
        params: dict[str, str],
        oszicar: Path | None,
    ) -> bool | None:
        relaxation = _is_relaxation(params)
        if out_info is not None and out_info.electronic is not None:
            return out_info.electronic and (out_info.relaxed or not relaxation)
        nelm = int(_float(params.get("NELM")) or 60)
        if run_info is not None and run_info.ionic_steps:
            electronic = run_info.last_electronic_steps < nelm
            nsw = int(_float(params.get("NSW")) or 0)
            return electronic and (not relaxation or run_info.ionic_steps < nsw)
        if oszicar is not None:
            steps = read_oszicar(oszicar)[1]
            return (0 < steps < nelm) if steps else None
        return None


def _pick(group: tuple[Path, ...], exact: str, pattern: str) -> Path | None:
    """The file named ``exact`` (any case), else the first matching ``pattern``."""
    for f in group:
        if f.name.lower() == exact:
            return f
    return next((f for f in group if fnmatch.fnmatchcase(f.name.lower(), pattern)), None)


def _energy(atoms: Atoms | None) -> float | None:
    """ASE's potential energy of ``atoms`` (eV), None when the step has none."""
    from ase.calculators.calculator import PropertyNotImplementedError

    if atoms is None or atoms.calc is None:
        return None
    try:
        return float(atoms.get_potential_energy())  # type: ignore[no-untyped-call]
    except PropertyNotImplementedError:
        return None
