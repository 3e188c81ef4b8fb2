"""Crystal and molecule structure files read with ASE: CIF, POSCAR/CONTCAR, (extended) XYZ.

The module also holds :func:`atoms_to_record`, which turns an :class:`ase.Atoms`
into the ``material`` and ``crystal_structure`` blocks of a record; the
calculation extractors (VASP, Quantum ESPRESSO, Gaussian) use it for their
final structures, so every structure in the hub is described the same way.
"""

from __future__ import annotations

import io
import math
import re
import string
import warnings
from collections import Counter
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.exceptions import ExtractionError
from hub.extractors.base import ExtractionContext, Extractor

if TYPE_CHECKING:
    from ase import Atoms

#: Above this many sites the per-site lists are left out of the record.
MAX_SITES = 5000
#: The symmetry tolerance handed to spglib (Å).
SYMPREC = 1e-3
#: How much of a file the text check and the claim peeks read.
HEAD_BYTES = 4096

_ALLOWED_CONTROL = {9, 10, 12, 13}  # tab, newline, form feed, carriage return


# -- shared helpers -----------------------------------------------------------------------


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of ``path`` (empty when the file cannot be opened)."""
    try:
        with path.open("rb") as fh:
            return fh.read(size)
    except OSError:
        return b""


def require_text(path: Path, kind: str, hint: str = "") -> None:
    """Raise :class:`ExtractionError` when ``path`` is empty, compressed or binary.

    Parameters
    ----------
    path
        The file to check (only its first 4 KB are read).
    kind
        What the file should be, for the message (``"CIF"``, ``"POSCAR"``).
    hint
        An extra sentence telling the user what to do.
    """
    head = read_head(path)
    if not head.strip():
        raise ExtractionError(
            f"{path.name}: the file is empty, so it holds no {kind}. "
            f"Upload the complete file. {hint}".strip(),
            file=str(path),
        )
    if head[:2] == b"\x1f\x8b":
        raise ExtractionError(
            f"{path.name}: the file is gzip-compressed, but a {kind} is plain text. "
            "Decompress it (gunzip) and upload the text file.",
            file=str(path),
        )
    control = sum(1 for b in head if b < 32 and b not in _ALLOWED_CONTROL)
    if b"\x00" in head or control > 0.05 * len(head):
        raise ExtractionError(
            f"{path.name}: the file is binary (it has control bytes in its first "
            f"{len(head)} bytes), but a {kind} is plain text. The file may be corrupted or "
            f"not a {kind} at all; check that it opens in a text editor. {hint}".strip(),
            file=str(path),
        )


def hill_formula(counts: dict[str, int], *, reduced: bool = False) -> str:
    """The Hill formula of element counts.

    With carbon: C, then H, then the other elements alphabetically; without carbon, every
    element alphabetically (H among them).  ``reduced`` divides the counts by their greatest common divisor (a crystal's formula
    unit).  ASE's ``"hill"`` mode puts H first even without carbon (``H2AlF3O2Pb``); this
    is the Hill system the records promise.

    >>> hill_formula({"H": 2, "Al": 1, "F": 3, "O": 2, "Pb": 1})
    'AlF3H2O2Pb'
    >>> hill_formula({"O": 3, "H": 6, "C": 6})
    'C6H6O3'
    >>> hill_formula({"Al": 4, "O": 6}, reduced=True)
    'Al2O3'
    """
    present = {e: n for e, n in counts.items() if n > 0}
    if not present:
        return ""
    divisor = reduce(math.gcd, present.values()) if reduced else 1
    first = [e for e in ("C", "H") if e in present] if "C" in present else []
    order = first + sorted(e for e in present if e not in first)
    return "".join(f"{e}{present[e] // divisor if present[e] // divisor != 1 else ''}" for e in order)


def anonymous_formula(counts: dict[str, int]) -> str:
    """The OPTIMADE ``chemical_formula_anonymous`` of element counts.

    Counts are divided by their greatest common divisor and sorted largest first;
    the elements are renamed A, B, C, ... (then Aa, Ab, ... past Z) and counts of 1
    are left out, so ``{"Al": 4, "O": 6}`` gives ``"A3B2"``.
    """
    values = [c for c in counts.values() if c > 0]
    if not values:
        return ""
    divisor = reduce(math.gcd, values)
    reduced = sorted((c // divisor for c in values), reverse=True)
    return "".join(f"{_anonymous_name(i)}{n if n != 1 else ''}" for i, n in enumerate(reduced))


def _anonymous_name(index: int) -> str:
    upper, lower = string.ascii_uppercase, string.ascii_lowercase
    if index < 26:
        return upper[index]
    index -= 26
    return upper[index // 26 % 26] + lower[index % 26]


def atoms_to_record(atoms: Atoms) -> dict[str, Any]:
    """The ``material`` and ``crystal_structure`` blocks describing ``atoms``.

    Parameters
    ----------
    atoms
        One structure.  Its cell is used when at least one direction is periodic
        and the cell has a volume; the space group is computed (spglib, symprec
        1e-3 Å) only when all three directions are periodic.

    Returns
    -------
    dict
        ``{"material": {...}, "crystal_structure": {...}}`` holding plain Python
        values only (JSON-serializable).  ``species_at_sites`` and
        ``cartesian_site_positions`` are left out above 5000 sites.

    Raises
    ------
    ExtractionError
        When ``atoms`` holds no atoms.
    """
    symbols = [str(s) for s in atoms.get_chemical_symbols()]  # type: ignore[no-untyped-call]
    if not symbols:
        raise ExtractionError("The structure holds no atoms, so there is nothing to describe.")
    pbc = [bool(p) for p in atoms.pbc]
    # a crystal's composition is its reduced formula (Al2O3); a molecule's is its
    # molecular formula (C6H6O3, not the empirical C2H2O)
    material = {
        "composition": hill_formula(Counter(symbols), reduced=any(pbc)),
        "elements": sorted(set(symbols)),
    }
    structure: dict[str, Any] = {
        "number_of_atoms": len(symbols),
        "stoichiometry": anonymous_formula(Counter(symbols)),
        "pbc": pbc,
        "dimension_types": [int(p) for p in pbc],
    }
    volume = float(abs(atoms.cell.volume)) if atoms.cell.rank == 3 else 0.0
    if any(pbc) and volume > 0:
        structure["volume"] = volume
        structure["lattice"] = [[float(x) for x in row] for row in atoms.cell[:]]
        if all(pbc):
            structure.update(_space_group(atoms))
    if len(symbols) <= MAX_SITES:
        structure["species_at_sites"] = symbols
        positions = atoms.get_positions()  # type: ignore[no-untyped-call]
        structure["cartesian_site_positions"] = [[float(x) for x in row] for row in positions]
    return {"material": material, "crystal_structure": structure}


def _space_group(atoms: Atoms) -> dict[str, Any]:
    """Space group number and international symbol, or nothing when spglib finds none."""
    import spglib

    scaled = atoms.get_scaled_positions(wrap=True)  # type: ignore[no-untyped-call]
    cell = (atoms.cell[:], scaled, atoms.numbers)
    with warnings.catch_warnings():
        # spglib warns (and returns None) when it finds no symmetry, e.g. for
        # overlapping atoms; the record then simply has no space group.
        warnings.simplefilter("ignore")
        try:
            dataset = spglib.get_symmetry_dataset(cell, symprec=SYMPREC)
        except Exception:  # spglib.SpglibError in some configurations
            dataset = None
    if dataset is None:
        return {}
    return {
        "space_group_number": int(dataset.number),
        "space_group_symbol": str(dataset.international),
    }


# -- CIF and POSCAR -------------------------------------------------------------------------

_POSCAR_HINT = (
    "A POSCAR lists a title line, the scale, three lattice vectors, the element "
    "symbols, the counts and the positions."
)


def _is_int(token: str) -> bool:
    try:
        int(token)
    except ValueError:
        return False
    return True


def _species_from_title(title: str) -> list[str]:
    """The element symbols a VASP 4 title line names, in order, without repeats.

    Follows ASE's convention (each word, stripped of ``-_,.=`` and digits, is read
    as a formula) but keeps only words made entirely of real element symbols.
    """
    from ase.data import chemical_symbols
    from ase.formula import Formula

    known = set(chemical_symbols[1:])
    found: list[str] = []
    for word in title.split():
        cleaned = re.sub(r"[-_,.=0-9]", "", word)
        if not cleaned:
            continue
        try:
            symbols = list(Formula(cleaned).count())
        except ValueError:
            continue
        if symbols and all(s in known for s in symbols):
            found.extend(s for s in symbols if s not in found)
    return found


def _poscar_source(path: Path) -> io.StringIO:
    """The POSCAR text, with its species stated, for ASE to read.

    A VASP 5 POSCAR has a line of element symbols above the counts line.  A
    VASP 4 POSCAR has not; its species are then taken from the title line when
    the title names exactly as many elements as there are counts, and otherwise
    the file is refused (ASE would look the species up in a neighbouring
    POTCAR or OUTCAR, which may belong to another structure).
    """
    require_text(path, "POSCAR", _POSCAR_HINT)
    text = path.read_text(errors="replace")
    lines = text.splitlines()
    if len(lines) < 7:
        raise ExtractionError(
            f"{path.name}: a POSCAR needs at least 7 lines, this file has {len(lines)}. "
            f"It may be truncated. {_POSCAR_HINT}",
            file=str(path),
        )
    line6 = lines[5].split()
    if line6 and not all(_is_int(t) for t in line6):
        return io.StringIO(text)  # VASP 5: the species line is there
    counts = [t for t in line6 if _is_int(t)]
    if not counts:
        raise ExtractionError(
            f"{path.name}: line 6 should list the element symbols (VASP 5) or the atom "
            f"counts (VASP 4), but it is empty. {_POSCAR_HINT}",
            file=str(path),
        )
    species = _species_from_title(lines[0])
    if len(species) != len(counts):
        raise ExtractionError(
            f"{path.name}: POSCAR has no species line: the atom types cannot be known "
            f"(line 6 holds only the atom counts {' '.join(counts)!r}, VASP 4 style, and the "
            f"title line {lines[0].strip()!r} does not name exactly {len(counts)} element(s) "
            "to go with them); add the species names above the counts line.",
            file=str(path),
        )
    lines.insert(5, " ".join(species))
    return io.StringIO("\n".join(lines) + "\n")


class CrystalExtractor(Extractor):
    """Crystal structures from CIF and VASP POSCAR/CONTCAR files (read with ASE).

    A CIF with several data blocks gives its first structure, and
    ``crystal_structure.n_structures`` says how many it holds.
    """

    name = "crystal"
    description = "Crystal structures from CIF and POSCAR/CONTCAR files (ASE, spglib)"
    provides = ("material", "crystal_structure")
    patterns = ("*.cif", "POSCAR*", "CONTCAR*", "*.vasp")
    imports = ("ase", "spglib")

    def extract(self, group: tuple[Path, ...], context: ExtractionContext) -> dict[str, Any]:
        """Describe the structure in the single file of ``group``.

        Raises
        ------
        ExtractionError
            When the file is empty, binary, truncated, holds no structure, or is a
            POSCAR whose species cannot be known.
        """
        (path,) = group
        if path.name.lower().endswith(".cif"):
            structures = self._read_cif(path)
        else:
            structures = [self._read_poscar(path)]
        record = atoms_to_record(structures[0])
        if len(structures) > 1:
            record["crystal_structure"]["n_structures"] = len(structures)
        return record

    @staticmethod
    def _read_cif(path: Path) -> list[Atoms]:
        import ase.io

        require_text(path, "CIF")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # ASE's notes on CIF settings, not failures
                structures = ase.io.read(path, format="cif", index=":")
        except Exception as exc:
            raise ExtractionError(
                f"{path.name}: the CIF cannot be read ({type(exc).__name__}: {exc}). The file "
                "may be truncated or not a CIF; check that it ends after the last row of its "
                "atom-site loop and that it opens in a CIF viewer.",
                file=str(path),
            ) from exc
        if not isinstance(structures, list):
            structures = [structures]
        if not structures:
            raise ExtractionError(
                f"{path.name}: the CIF holds no structure (no data block has both cell "
                "parameters and atom sites). The file may be truncated; a CIF needs "
                "_cell_length_a/b/c, _cell_angle_alpha/beta/gamma and an _atom_site_ loop.",
                file=str(path),
            )
        return structures

    @staticmethod
    def _read_poscar(path: Path) -> Atoms:
        import ase.io

        source = _poscar_source(path)
        try:
            atoms = ase.io.read(source, format="vasp")
        except Exception as exc:
            raise ExtractionError(
                f"{path.name}: the POSCAR cannot be read ({type(exc).__name__}: {exc}). "
                f"The file may be truncated or malformed. {_POSCAR_HINT}",
                file=str(path),
            ) from exc
        return atoms[0] if isinstance(atoms, list) else atoms


# -- XYZ ------------------------------------------------------------------------------------

# Energies in a G4MP2-style block after the atoms: "G4MP2-0K   (Ha): -189.567759".
_LABELLED = re.compile(r"^(?P<label>\S+?)\s*\((?P<unit>[^)]+)\)\s*:\s*(?P<value>\S+)\s*$")
_SECTION = re.compile(r"^(?P<title>[A-Za-z][\w ]*?)\s*\((?P<unit>[^)]+)\)\s*:?\s*$")
_ENERGY_KEYS = {
    "0K": "total_energy",
    "ZPE": "zero_point_energy",
    "ENERGY": "thermal_energy",
    "ENTHALPY": "enthalpy",
    "FREEE": "free_energy",
    "FREEENERGY": "free_energy",
}
#: Composite methods whose protocol fixes the geometry's method and basis set.
_COMPOSITE_GEOMETRY = {
    "G4MP2": ("B3LYP", "6-31G(2df,p)"),
    "G4": ("B3LYP", "6-31G(2df,p)"),
    "G3B3": ("B3LYP", "6-31G(d)"),
}


def _energy_unit(unit: str) -> float | None:
    """Electronvolts per ``unit`` (Ha, Hartree, eV, kcal/mol, kJ/mol, Ry), None when unknown."""
    from ase import units

    factors = {
        "ha": units.Hartree,
        "hartree": units.Hartree,
        "au": units.Hartree,
        "a.u.": units.Hartree,
        "ev": 1.0,
        "kcal/mol": units.kcal / units.mol,
        "kj/mol": units.kJ / units.mol,
        "ry": units.Rydberg,
    }
    return factors.get(unit.strip().lower())


def parse_energy_block(lines: list[str], path: Path, first_line: int) -> dict[str, Any]:
    """The ``dft`` block given by the energy lines that follow the atoms of an XYZ file.

    The G4MP2 data set writes, after the atoms, lines like
    ``G4MP2-0K (Ha): -189.567759`` (also ``-ZPE``, ``-Energy``, ``-Enthalpy``,
    ``-FreeE``) and a ``Solvation Energies (kcal/mol)`` section of ``name value``
    lines.  Energies are converted to eV with :mod:`ase.units`.  The method before
    the dash becomes ``energy_method``; for composite methods whose protocol fixes
    the geometry (G4MP2: B3LYP/6-31G(2df,p)) ``method`` and ``basis_set`` are
    filled from that protocol.

    Parameters
    ----------
    lines
        The lines after the atoms.
    path
        The file, for error messages.
    first_line
        The 1-based line number of ``lines[0]`` in the file.

    Raises
    ------
    ExtractionError
        On a line that is neither a labelled energy nor part of a section.
    """
    dft: dict[str, Any] = {}
    methods: list[str] = []
    section: dict[str, float] | None = None
    section_factor = 1.0
    for offset, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        where = f"{path.name} line {first_line + offset}"
        labelled = _LABELLED.match(line)
        if labelled:
            section = None
            label, unit = labelled["label"], labelled["unit"]
            method, _, quantity = label.rpartition("-")
            key = _ENERGY_KEYS.get(quantity.upper())
            factor = _energy_unit(unit)
            if key is None or factor is None or not method:
                raise ExtractionError(
                    f"{where}: {line!r} is not a known energy line after the atoms (expected "
                    "METHOD-0K/-ZPE/-Energy/-Enthalpy/-FreeE with a unit of Ha, eV, kcal/mol, "
                    "kJ/mol or Ry). Remove the line or fix its label.",
                    file=str(path),
                )
            dft[key] = float(labelled["value"]) * factor
            if method not in methods:
                methods.append(method)
            continue
        header = _SECTION.match(line)
        if header and _energy_unit(header["unit"]) is not None:
            title = header["title"].lower()
            if "solvation" not in title:
                raise ExtractionError(
                    f"{where}: unknown section {line!r} after the atoms (only 'Solvation "
                    "Energies (unit)' is understood).",
                    file=str(path),
                )
            section = dft.setdefault("solvation_energies", {})
            section_factor = _energy_unit(header["unit"]) or 1.0
            continue
        parts = line.split()
        if section is not None and len(parts) == 2:
            try:
                section[parts[0]] = float(parts[1]) * section_factor
            except ValueError:
                pass
            else:
                continue
        raise ExtractionError(
            f"{where}: {line!r} is neither an atom line, a new frame, nor an energy line. "
            "The atom count on the frame's first line may be wrong, or the file has "
            "trailing text that is not XYZ.",
            file=str(path),
        )
    if methods:
        dft["energy_method"] = methods[0] if len(methods) == 1 else "/".join(methods)
        if len(methods) == 1 and methods[0].upper() in _COMPOSITE_GEOMETRY:
            dft["method"], dft["basis_set"] = _COMPOSITE_GEOMETRY[methods[0].upper()]
    return dft


_XYZ_HINT = "An XYZ file starts with the number of atoms, then a comment line, then one line per atom."


def _count_frames(lines: list[str], start: int, path: Path) -> tuple[int, int]:
    """Count the further XYZ frames from ``lines[start]``; return (count, end index)."""
    count, i = 0, start
    while True:
        while i < len(lines) and not lines[i].strip():
            i += 1
        if i >= len(lines) or not _is_int(lines[i].strip()):
            return count, i
        n = int(lines[i].strip())
        if i + 2 + n > len(lines):
            raise ExtractionError(
                f"{path.name}: frame {count + 2} (line {i + 1}) announces {n} atoms but the "
                "file ends before them. The file is truncated; upload it complete.",
                file=str(path),
            )
        count, i = count + 1, i + 2 + n


class XYZExtractor(Extractor):
    """Molecules and structures from XYZ and extended XYZ files (read with ASE).

    The first frame is described; ``crystal_structure.n_structures`` says how many
    frames the file holds when more than one.  A block of energies after the atoms,
    as in the G4MP2 data set, fills the ``dft`` block (see
    :func:`parse_energy_block`).
    """

    name = "molecule_xyz"
    description = "Molecules from XYZ / extended XYZ files, with G4MP2-style energy blocks"
    provides = ("material", "crystal_structure", "dft")
    patterns = ("*.xyz", "*.extxyz")
    imports = ("ase", "spglib")

    def extract(self, group: tuple[Path, ...], context: ExtractionContext) -> dict[str, Any]:
        """Describe the first frame of the file in ``group`` and any trailing energies.

        Raises
        ------
        ExtractionError
            When the file is empty or binary, its first line is not an atom count,
            it ends before the announced atoms, ASE cannot read the atom lines, or
            text after the atoms is not understood.
        """
        import ase.io

        (path,) = group
        hint = _XYZ_HINT
        require_text(path, "XYZ file", hint)
        lines = path.read_text(errors="replace").splitlines(keepends=True)
        start = next(i for i, line in enumerate(lines) if line.strip())
        head = lines[start].strip()
        if not _is_int(head) or int(head) < 1:
            raise ExtractionError(
                f"{path.name}: line {start + 1} should be the number of atoms, but it is "
                f"{head[:60]!r}. {hint}",
                file=str(path),
            )
        n = int(head)
        end = start + 2 + n
        if end > len(lines):
            raise ExtractionError(
                f"{path.name}: the first line announces {n} atoms but the file has only "
                f"{max(len(lines) - start - 2, 0)} atom line(s). The file is truncated or the "
                "count is wrong.",
                file=str(path),
            )
        try:
            read = ase.io.read(io.StringIO("".join(lines[start:end])), format="extxyz", index=0)
        except Exception as exc:
            raise ExtractionError(
                f"{path.name}: the atoms of the first frame cannot be read ({type(exc).__name__}: "
                f"{exc}). Check the Properties= of the comment line against the atom columns. "
                f"{hint}",
                file=str(path),
            ) from exc
        atoms = read[0] if isinstance(read, list) else read
        more, rest = _count_frames(lines, end, path)
        record = atoms_to_record(atoms)
        if more:
            record["crystal_structure"]["n_structures"] = 1 + more
        dft = parse_energy_block([line.rstrip("\n") for line in lines[rest:]], path, rest + 1)
        if dft:
            record["dft"] = dft
        return record
