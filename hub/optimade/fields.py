"""The OPTIMADE view of a structure record, computed from the record itself.

Every record with a structure (a crystal from a CIF or POSCAR, a molecule from an XYZ
file, the final structure of a VASP, Quantum ESPRESSO or Gaussian run) has a
``material`` block and a ``crystal_structure`` block, whatever extractor or mapping
wrote them.  :func:`optimade_fields` derives from them the properties the OPTIMADE
standard names for a structure: ``elements`` (alphabetical), ``nelements``,
``elements_ratios``, the reduced, anonymous and descriptive chemical formulas,
``nsites``, ``dimension_types``, ``nperiodic_dimensions``, and ``sites`` (whether the
record has per-site data: species and positions).

The search index carries these as an ``optimade`` block of every structure record
(:func:`with_optimade_fields`, called when a document is indexed): an OPTIMADE filter
such as ``nelements=2 AND chemical_formula_reduced="O2Si"`` then becomes a plain
field query (``optimade.nelements:2 ...``).  The block is derived data, rebuilt with the
index, and kept small (each indexed string costs indexing time); the stored document
stays the record.  The OPTIMADE endpoint builds its responses from the same function,
so what a filter matches and what a response says always agree.

This module depends on nothing beyond the standard library and ASE's table of
element symbols: it runs in the core, without the ``service`` extra.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache, reduce
from typing import Any

from hub.extractors.crystal import anonymous_formula

#: The name of the block in indexed documents.
BLOCK = "optimade"
#: The OPTIMADE entry type of every structure record.
STRUCTURES = "structures"
_FORMULA = re.compile(r"^(?:[A-Z][a-z]?\d*)+$")
_FORMULA_PART = re.compile(r"([A-Z][a-z]?)(\d*)")


@lru_cache(maxsize=1)
def chemical_symbols() -> frozenset[str]:
    """The real element symbols (H to Og), from ASE's table."""
    from ase.data import chemical_symbols as symbols

    return frozenset(s for s in symbols[1:] if s)


def parse_formula(formula: Any) -> Counter[str] | None:
    """Element counts of a plain formula such as ``"C5H8O2"`` or ``"Al2O3"``.

    Parameters
    ----------
    formula : Any
        The candidate formula; anything but a string gives None.

    Returns
    -------
    Counter of str or None
        The count of each element symbol, or None when ``formula`` is not a plain
        formula (parentheses, unknown symbols, zero counts).
    """
    if not isinstance(formula, str):
        return None
    parts = _formula_parts(formula)
    return None if parts is None else Counter(dict(parts))


@lru_cache(maxsize=4096)
def _formula_parts(formula: str) -> tuple[tuple[str, int], ...] | None:
    if not _FORMULA.match(formula):
        return None
    counts: Counter[str] = Counter()
    for symbol, number in _FORMULA_PART.findall(formula):
        if symbol not in chemical_symbols():
            return None
        n = int(number) if number else 1
        if n <= 0:
            return None
        counts[symbol] += n
    return tuple(counts.items())


def reduced_formula(counts: dict[str, int]) -> str:
    """OPTIMADE's ``chemical_formula_reduced`` of element counts.

    Elements in alphabetical order, counts divided by their greatest common divisor,
    counts of 1 left out (``{"Si": 2, "O": 4}`` gives ``"O2Si"``).
    """
    divisor = reduce(math.gcd, counts.values())
    return "".join(f"{e}{n // divisor if n // divisor != 1 else ''}" for e, n in sorted(counts.items()))


#: Per-site species lists up to this length have their element counts cached: the same
#: structures come back page after page, and a key this long is still cheap to hash.
_CACHED_SITES = 1024


def _site_counts(sites: list[Any] | tuple[Any, ...]) -> tuple[tuple[str, int], ...] | None:
    """Sorted element counts of per-site species, or None when one is not a real element.

    Raises
    ------
    TypeError
        When a site holds something unhashable.
    """
    if not chemical_symbols().issuperset(sites):
        return None
    return tuple(sorted(Counter(sites).items()))


@lru_cache(maxsize=8192)
def _cached_site_counts(sites: tuple[Any, ...]) -> tuple[tuple[str, int], ...] | None:
    return _site_counts(sites)


def _species_counts(structure: dict[str, Any]) -> tuple[tuple[str, int], ...] | None:
    """The sorted element counts of the per-site species, when the record has them, all real elements."""
    sites = structure.get("species_at_sites")
    if not isinstance(sites, list) or not sites:
        return None
    try:
        return _cached_site_counts(tuple(sites)) if len(sites) <= _CACHED_SITES else _site_counts(sites)
    except TypeError:  # unhashable items
        return None


def _counts(
    doc: dict[str, Any], structure: dict[str, Any]
) -> tuple[tuple[tuple[str, int], ...], int, list[str] | None, list[Any] | None] | None:
    """The composition and sites of a structure record, or None.

    (sorted element counts, number of sites, species_at_sites and positions when both
    are complete).
    """
    counts = _species_counts(structure)
    if counts is not None:
        sites: list[str] = structure["species_at_sites"]
        positions = structure.get("cartesian_site_positions")
        if type(positions) is list and len(positions) == len(sites):
            return counts, len(sites), sites, positions
        return counts, len(sites), None, None
    material = doc.get("material")
    formula = parse_formula(material.get("composition")) if isinstance(material, dict) else None
    natoms = structure.get("number_of_atoms")
    if formula is None or type(natoms) is not int or natoms <= 0:
        return None
    return tuple(sorted(formula.items())), natoms, None, None


def _dimension_types(structure: dict[str, Any]) -> list[int] | None:
    """Periodic (1) or not (0) along each cell vector.

    From ``dimension_types``, else ``pbc``; a record with a lattice but neither is taken
    as a bulk crystal.
    """
    for key in ("dimension_types", "pbc"):
        value = structure.get(key)
        if isinstance(value, list) and len(value) == 3:
            try:
                if {0, 1}.issuperset(value):
                    return [1 if v else 0 for v in value]
            except TypeError:  # unhashable items
                pass
    if cell(structure) is not None:
        return [1, 1, 1]
    return None


def cell(structure: dict[str, Any]) -> list[list[float]] | None:
    """A ``crystal_structure`` block's ``lattice`` as three rows of three floats, or None."""
    lattice = structure.get("lattice")
    if type(lattice) is not list or len(lattice) != 3:
        return None
    try:
        rows = [[float(a), float(b), float(c)] for a, b, c in lattice]
    except (TypeError, ValueError):  # not three rows of three numbers
        return None
    if not all(map(math.isfinite, rows[0] + rows[1] + rows[2])):
        return None
    return rows


def site_positions(doc: dict[str, Any]) -> tuple[list[str], list[list[float]]] | None:
    """A record's per-site species and Cartesian positions, when it has both.

    Returns
    -------
    tuple of (list of str, list of list of float) or None
        (species_at_sites, cartesian_site_positions), one position per site; None when
        the record is not a structure record or lacks either.
    """
    parts = structure_parts(doc)
    if parts is None or parts[1] is None or parts[2] is None:
        return None
    return parts[1], parts[2]


def _descriptive(own: str | None, counts: dict[str, int]) -> str:
    """OPTIMADE's ``chemical_formula_descriptive`` of a record.

    The record's own formula (``material.composition``) when it is a plain formula with
    the structure's proportions; otherwise the Hill formula of the counts.
    """
    parsed = parse_formula(own)
    if parsed is not None and set(parsed) == set(counts):
        total, own_total = sum(counts.values()), sum(parsed.values())
        if all(parsed[e] * total == counts[e] * own_total for e in counts):
            return str(own)
    order = sorted(counts)
    if "C" in counts:
        order = ["C", *(["H"] if "H" in counts else []), *(e for e in order if e not in ("C", "H"))]
    return "".join(f"{e}{counts[e] if counts[e] != 1 else ''}" for e in order)


@lru_cache(maxsize=8192)
def _composition_fields(counts: tuple[tuple[str, int], ...], own: str | None) -> tuple[Any, ...]:
    """The composition fields of sorted element counts and the record's own formula.

    (elements, ratios, reduced, anonymous, descriptive), cached: the same few
    compositions recur across records.
    """
    table = dict(counts)
    elements = tuple(table)
    total = sum(table.values())
    return (
        elements,
        tuple(table[e] / total for e in elements),
        reduced_formula(table),
        anonymous_formula(table),
        _descriptive(own, table),
    )


def optimade_fields(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The OPTIMADE properties of a structure record, or None when ``doc`` is not one.

    A structure record is a record (``mdf.resource_type`` ``record``) with a
    ``crystal_structure`` block whose composition is known: from its per-site
    ``species_at_sites``, or from ``material.composition`` and
    ``crystal_structure.number_of_atoms``.

    Returns
    -------
    dict
        ``elements``, ``nelements``, ``elements_ratios``, ``chemical_formula_reduced``,
        ``chemical_formula_anonymous``, ``chemical_formula_descriptive``, ``nsites``;
        ``dimension_types`` and ``nperiodic_dimensions`` when the periodicity is known;
        ``sites`` (true) when the record has a species and a position for every site.
        (``structure_features`` is always empty here: no disorder, no implicit atoms.)
    """
    parts = structure_parts(doc)
    return None if parts is None else parts[0]


def structure_parts(doc: dict[str, Any]) -> tuple[dict[str, Any], list[str] | None, list[Any] | None] | None:
    """A structure record's OPTIMADE properties and its sites, in one pass over the record.

    Returns
    -------
    tuple or None
        (:func:`optimade_fields`, ``species_at_sites``, ``cartesian_site_positions``),
        the last two None unless both are complete; None when ``doc`` is not a
        structure record.
    """
    mdf = doc.get("mdf")
    structure = doc.get("crystal_structure")
    if not isinstance(mdf, dict) or mdf.get("resource_type") != "record" or not isinstance(structure, dict):
        return None
    found = _counts(doc, structure)
    if found is None:
        return None
    counts, nsites, sites, positions = found
    material = doc.get("material")
    own = material.get("composition") if isinstance(material, dict) else None
    elements, ratios, reduced, anonymous, descriptive = _composition_fields(
        counts, own if isinstance(own, str) else None
    )
    fields: dict[str, Any] = {
        "elements": list(elements),
        "nelements": len(elements),
        "elements_ratios": list(ratios),
        "chemical_formula_reduced": reduced,
        "chemical_formula_anonymous": anonymous,
        "chemical_formula_descriptive": descriptive,
        "nsites": nsites,
    }
    dims = _dimension_types(structure)
    if dims is not None:
        fields["dimension_types"] = dims
        fields["nperiodic_dimensions"] = sum(dims)
    if sites is not None:
        fields["sites"] = True
    return fields, sites, positions


def with_optimade_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """A document with its :func:`optimade_fields` as an ``optimade`` block.

    Used on the indexed view of a document; the stored document is left as it is.

    Returns
    -------
    dict
        A shallow copy of ``doc`` with the block added, or ``doc`` itself when it is not
        a structure record.
    """
    fields = optimade_fields(doc)
    if fields is None:
        return doc
    return {**doc, BLOCK: fields}
