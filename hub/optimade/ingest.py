"""An OPTIMADE ``structures`` entry as the body of a hub record: the serving mapping, reversed.

The hub serves a record as a structure from its ``material`` and ``crystal_structure``
blocks (:mod:`hub.optimade.fields`, :mod:`hub.optimade.structures`); a harvested entry
fills exactly those blocks, so the hub serves it back with the provider's values:

================================  ====================================================
OPTIMADE                          record
================================  ====================================================
``elements``                      ``material.elements``
``chemical_formula_descriptive``  ``material.composition`` (else the reduced formula)
``chemical_formula_anonymous``    ``crystal_structure.stoichiometry``
``nsites``                        ``crystal_structure.number_of_atoms``
``lattice_vectors``               ``crystal_structure.lattice`` (and its volume)
``dimension_types``               ``crystal_structure.dimension_types`` and ``pbc``
``species_at_sites``              ``crystal_structure.species_at_sites`` (as elements)
``cartesian_site_positions``      ``crystal_structure.cartesian_site_positions``
``space_group_it_number``         ``crystal_structure.space_group_number``
================================  ====================================================

Per-site data is kept only when every site's species is one element (no disorder,
vacancies or unknown atoms), as the hub serves sites.  The provider's own fields
(``_<prefix>_...``) go under ``custom`` (scalars and lists of scalars as they are, the
rest as JSON text; at most :data:`~hub.records.dataset.MAX_CUSTOM_FIELDS`), and the
record's ``origin`` says where it came from.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from hub.optimade.fields import chemical_symbols, parse_formula
from hub.records.dataset import MAX_CUSTOM_FIELDS

#: A provider field kept as a custom field: ``_<prefix>_<name>``, a valid custom field name.
_CUSTOM_NAME = re.compile(r"_[a-z][a-z0-9]*_[A-Za-z0-9_]{1,56}")


def entry_record(
    entry: dict[str, Any], *, provider: str, query: str | None, url: str | None = None
) -> dict[str, Any]:
    """The record body of an OPTIMADE structure ``entry`` (no ``mdf`` block, no files).

    Parameters
    ----------
    entry
        The resource: ``id``, ``type`` and ``attributes``.
    provider
        The provider's base URL.
    query
        The OPTIMADE filter the harvest asked for (None: every structure).
    url
        The entry's own URL at the provider, when known.

    Returns
    -------
    dict
        ``material``, ``crystal_structure``, ``origin`` and, when the provider has fields of
        its own, ``custom``.
    """
    attrs = entry.get("attributes") or {}
    body: dict[str, Any] = {
        "material": _material(attrs),
        "crystal_structure": _structure(attrs),
        "origin": {
            "provider": provider,
            "entry_id": str(entry.get("id")),
            "url": url,
            "last_modified": attrs.get("last_modified"),
            "query": query,
        },
    }
    custom = provider_fields(attrs)
    if custom:
        body["custom"] = custom
    return body


def _material(attrs: dict[str, Any]) -> dict[str, Any]:
    formula = next(
        (
            f
            for f in (attrs.get("chemical_formula_descriptive"), attrs.get("chemical_formula_reduced"))
            if parse_formula(f) is not None
        ),
        None,
    )
    elements = attrs.get("elements")
    symbols = sorted(e for e in elements if e in chemical_symbols()) if isinstance(elements, list) else []
    return {"composition": formula, "elements": symbols}


def site_elements(attrs: dict[str, Any]) -> list[str] | None:
    """The element of each site, when every site's species is exactly one element; else None."""
    names = attrs.get("species_at_sites")
    species = attrs.get("species")
    if not isinstance(names, list) or not names:
        return None
    if not isinstance(species, list):  # no species list: site names are element symbols
        return names if all(isinstance(n, str) and n in chemical_symbols() for n in names) else None
    element: dict[str, str] = {}
    for s in species:
        if not isinstance(s, dict):
            return None
        symbols, concentration = s.get("chemical_symbols"), s.get("concentration")
        if (
            not isinstance(symbols, list)
            or len(symbols) != 1
            or symbols[0] not in chemical_symbols()
            or concentration not in ([1], [1.0])
        ):
            continue  # a disordered or unknown species: sites naming it make the sites unknown
        element[str(s.get("name"))] = symbols[0]
    try:
        return [element[n] for n in names]
    except (KeyError, TypeError):
        return None


def _structure(attrs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    nsites = attrs.get("nsites")
    if type(nsites) is int and nsites >= 0:
        out["number_of_atoms"] = nsites
    anonymous = attrs.get("chemical_formula_anonymous")
    if isinstance(anonymous, str):
        out["stoichiometry"] = anonymous
    dims = attrs.get("dimension_types")
    if isinstance(dims, list) and len(dims) == 3 and all(d in (0, 1) for d in dims):
        out["dimension_types"] = [int(d) for d in dims]
        out["pbc"] = [bool(d) for d in dims]
    lattice = _lattice(attrs.get("lattice_vectors"))
    if lattice is not None:
        out["lattice"] = lattice
        volume = abs(_det(lattice))
        if volume > 0 and out.get("dimension_types", [1, 1, 1]) == [1, 1, 1]:
            out["volume"] = volume
    group = attrs.get("space_group_it_number")
    if type(group) is int and 1 <= group <= 230:
        out["space_group_number"] = group
    sites = site_elements(attrs)
    positions = attrs.get("cartesian_site_positions")
    if sites is not None and isinstance(positions, list) and len(positions) == len(sites):
        rows = _rows(positions)
        if rows is not None:
            out["species_at_sites"] = sites
            out["cartesian_site_positions"] = rows
            out.setdefault("number_of_atoms", len(sites))
    return out


def _rows(value: Any) -> list[list[float]] | None:
    """A list of 3-vectors of finite numbers as floats, or None."""
    if not isinstance(value, list):
        return None
    try:
        rows = [[float(a), float(b), float(c)] for a, b, c in value]
    except (TypeError, ValueError):
        return None
    return rows if all(math.isfinite(x) for r in rows for x in r) else None


def _lattice(value: Any) -> list[list[float]] | None:
    rows = _rows(value)
    return rows if rows is not None and len(rows) == 3 else None


def _det(m: list[list[float]]) -> float:
    (a, b, c), (d, e, f), (g, h, i) = m
    return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)


def provider_fields(attrs: dict[str, Any]) -> dict[str, Any]:
    """The provider's own attributes (``_<prefix>_<name>``) as ``custom`` fields.

    Nulls are left out; scalars and lists of one scalar type are kept as they are,
    anything else as its JSON text; at most :data:`MAX_CUSTOM_FIELDS`, by name.
    """
    out: dict[str, Any] = {}
    for name in sorted(attrs):
        if len(out) == MAX_CUSTOM_FIELDS:
            break
        value = attrs[name]
        if not _CUSTOM_NAME.fullmatch(name) or value is None:
            continue
        out[name] = value if _searchable(value) else json.dumps(value, sort_keys=True)
    return out


def _searchable(value: Any) -> bool:
    if isinstance(value, str | bool | int | float):
        return True
    if isinstance(value, list) and value:
        kinds = {type(v) for v in value}
        return len(kinds) == 1 and kinds <= {str, int, float}
    return False
