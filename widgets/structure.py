"""A picture of a record's atoms (crystals and molecules), drawn by ASE with matplotlib."""

from __future__ import annotations

from typing import Any

#: Only the first this many sites of a larger structure are drawn (a picture, not a model).
MAX_DRAWN_SITES = 2000


def has_structure(document: dict[str, Any]) -> bool:
    """Whether a record carries per-site data (species and positions) to draw."""
    cs = document.get("crystal_structure") or {}
    return bool(cs.get("species_at_sites")) and bool(cs.get("cartesian_site_positions"))


def structure_png(document: dict[str, Any], rotation: str = "10x,-10y,0z") -> bytes | None:
    """The record's structure as a PNG (None when it has no per-site data).

    Crystals are drawn with their unit cell; molecules (no periodicity) without.
    """
    if not has_structure(document):
        return None
    from ase.visualize.plot import plot_atoms
    from hub.widgets.plotting import figure_png, new_figure

    from hub.catalog import to_atoms

    atoms = to_atoms(document)
    if len(atoms) > MAX_DRAWN_SITES:
        atoms = atoms[:MAX_DRAWN_SITES]
    fig = new_figure(3.6, 3.6)
    ax = fig.add_subplot()
    show_cell = bool(atoms.pbc.any()) and atoms.cell.rank == 3
    plot_atoms(atoms, ax, rotation=rotation, show_unit_cell=2 if show_cell else 0, radii=0.5)
    ax.set_axis_off()
    formula = (document.get("material") or {}).get("composition") or atoms.get_chemical_formula()
    ax.set_title(f"{formula} ({len(atoms)} sites)", fontsize=9)
    return figure_png(fig)
