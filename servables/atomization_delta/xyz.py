"""Many molecules from XYZ text at once, as padded numpy arrays.

The ``atomization-delta`` servable takes molecules as XYZ text (the atom
count, a comment line, then one ``symbol x y z`` line per atom, Å).  Parsing
thousands of them per call must not cost more than the model, so the atom
lines of every molecule are split once and converted to numbers in one numpy
call; anything after a molecule's atoms (the G4MP2 block of the data set's
files, extra columns of extended XYZ) is ignored.

:class:`MoleculeBatch` holds the result: species as indices into the model's
element list (``-1`` pads), positions padded with zeros, and atom counts.

This module is packaged with the servable by value (it is the publisher's own
code, not an installed library), so the hub's workers run it without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MoleculeBatch:
    """Molecules as padded arrays.

    Attributes
    ----------
    species
        ``(n_molecules, max_atoms)`` indices into ``elements``; ``-1`` where a
        molecule has fewer atoms than the largest.
    positions
        ``(n_molecules, max_atoms, 3)`` Cartesian coordinates (Å), zero where padded.
    n_atoms
        ``(n_molecules,)`` atoms per molecule.
    elements
        The element symbols the indices refer to.
    """

    species: np.ndarray
    positions: np.ndarray
    n_atoms: np.ndarray
    elements: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.n_atoms.shape[0])

    def counts(self) -> np.ndarray:
        """``(n_molecules, n_elements)``: how many atoms of each element each molecule has."""
        out = np.zeros((len(self), len(self.elements)), dtype=np.float64)
        for k in range(len(self.elements)):
            out[:, k] = (self.species == k).sum(axis=1)
        return out

    def heavy_atoms(self) -> np.ndarray:
        """``(n_molecules,)``: atoms other than hydrogen."""
        valid = self.species >= 0
        if "H" in self.elements:
            valid &= self.species != self.elements.index("H")
        return valid.sum(axis=1)

    def take(self, index: np.ndarray | Sequence[int]) -> MoleculeBatch:
        """The molecules at ``index`` (trimmed to their own largest size)."""
        idx = np.asarray(index, dtype=np.intp)
        n = self.n_atoms[idx]
        width = int(n.max()) if n.size else 0
        return MoleculeBatch(self.species[idx, :width], self.positions[idx, :width], n, self.elements)


def from_arrays(
    symbols: Sequence[Sequence[str]],
    positions: Sequence[Sequence[Sequence[float]] | np.ndarray],
    elements: Sequence[str],
) -> MoleculeBatch:
    """A batch from per-molecule symbol lists and coordinate lists (e.g. a hub records frame).

    Raises
    ------
    ValueError
        When a molecule has an element outside ``elements`` or its symbols and
        positions differ in length.
    """
    for i, (s, p) in enumerate(zip(symbols, positions, strict=True)):
        if len(s) != len(p):
            raise ValueError(f"molecule {i}: {len(s)} symbols but {len(p)} positions")
    counts = np.array([len(s) for s in symbols], dtype=np.intp)
    flat_symbols = [str(s) for mol in symbols for s in mol]
    flat_positions = np.array([p for mol in positions for p in mol], dtype=np.float64).reshape(-1, 3)
    return _assemble(flat_symbols, flat_positions, counts, tuple(elements))


def parse_xyz(texts: Sequence[str], elements: Sequence[str]) -> MoleculeBatch:
    """Parse XYZ texts into one :class:`MoleculeBatch`.

    Parameters
    ----------
    texts
        One XYZ text per molecule: the number of atoms, a comment line, then
        ``symbol x y z`` per atom (Å).  Lines after the atoms are ignored.
    elements
        The element symbols the model knows, in the order of its features.

    Raises
    ------
    ValueError
        Naming the molecule (its index in ``texts``) and what is wrong: a first
        line that is not an atom count, fewer atom lines than announced, a
        coordinate that is not a number, or an element the model does not know.
    """
    counts = np.empty(len(texts), dtype=np.intp)
    flat_symbols: list[str] = []
    coordinates: list[str] = []
    for i, text in enumerate(texts):
        lines = text.lstrip().split("\n", 1)
        head = lines[0].strip()
        try:
            n = int(head)
        except ValueError:
            raise ValueError(
                f"molecule {i}: the first line of an XYZ text is the number of atoms, got {head[:40]!r}"
            ) from None
        body = lines[1].split("\n", n + 1) if len(lines) > 1 else []
        atoms = body[1 : n + 1]
        given = next((k for k, line in enumerate(atoms) if not line.strip()), len(atoms))
        if n < 1:
            raise ValueError(f"molecule {i}: the first line announces {n} atoms; a molecule has at least one")
        if given < n:
            raise ValueError(
                f"molecule {i}: the first line announces {n} atoms but {given} atom line(s) "
                "follow the comment line"
            )
        for line in atoms:
            parts = line.split()
            if len(parts) < 4:
                raise ValueError(f"molecule {i}: the atom line {line.strip()!r} needs a symbol and x, y, z")
            flat_symbols.append(parts[0])
            coordinates.extend(parts[1:4])
        counts[i] = n
    try:
        flat_positions = np.array(coordinates, dtype=np.float64).reshape(-1, 3)
    except ValueError:
        bad = next(k for k, c in enumerate(coordinates) if not _is_float(c))
        molecule = int(np.searchsorted(np.cumsum(counts), bad // 3, side="right"))
        raise ValueError(
            f"molecule {molecule}: the coordinate {coordinates[bad]!r} is not a number"
        ) from None
    if not np.isfinite(flat_positions).all():
        bad = int(np.flatnonzero(~np.isfinite(flat_positions).all(axis=1))[0])
        molecule = int(np.searchsorted(np.cumsum(counts), bad, side="right"))
        raise ValueError(f"molecule {molecule}: a coordinate is not finite ({flat_positions[bad].tolist()})")
    return _assemble(flat_symbols, flat_positions, counts, tuple(elements))


def to_xyz(
    symbols: Sequence[str], positions: Sequence[Sequence[float]] | np.ndarray, comment: str = ""
) -> str:
    """XYZ text of one molecule (coordinates to 1e-8 Å)."""
    lines = [str(len(symbols)), comment.replace("\n", " ")]
    lines += [f"{s} {x:.8f} {y:.8f} {z:.8f}" for s, (x, y, z) in zip(symbols, positions, strict=True)]
    return "\n".join(lines) + "\n"


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _assemble(
    flat_symbols: list[str], flat_positions: np.ndarray, counts: np.ndarray, elements: tuple[str, ...]
) -> MoleculeBatch:
    lookup = {e: k for k, e in enumerate(elements)}
    lookup.update({e.upper(): k for k, e in enumerate(elements)})
    try:
        flat_species = np.fromiter((lookup[s] for s in flat_symbols), dtype=np.int16, count=len(flat_symbols))
    except KeyError:
        bad = next(k for k, s in enumerate(flat_symbols) if s not in lookup)
        molecule = int(np.searchsorted(np.cumsum(counts), bad, side="right"))
        raise ValueError(
            f"molecule {molecule}: element {flat_symbols[bad]!r} is not one the model was trained on "
            f"({', '.join(elements)})"
        ) from None
    m = len(counts)
    width = int(counts.max()) if m else 0
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]) if m else np.zeros(0, dtype=np.intp)
    row = np.repeat(np.arange(m), counts)
    col = np.arange(len(flat_symbols)) - np.repeat(starts, counts)
    species = np.full((m, width), -1, dtype=np.int16)
    positions = np.zeros((m, width, 3), dtype=np.float64)
    species[row, col] = flat_species
    positions[row, col] = flat_positions
    return MoleculeBatch(species, positions, counts, elements)
