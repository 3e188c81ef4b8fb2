"""Figures of the band-gap-from-images study, as functions a notebook or a Voila dashboard calls.

Every function returns a :class:`matplotlib.figure.Figure` (draw it, save it, or
``record`` it); none calls ``plt.show``.  Colours of samples are their mean
image colour, so the plots look like the films.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import cie_colour, film_optics, onset_estimator


def _figure(width: float, height: float, ncols: int = 1, nrows: int = 1) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)
    return fig, axes


def mean_colours(images: np.ndarray) -> np.ndarray:
    """The mean colour of each image as RGB in [0, 1] (for matplotlib)."""
    return np.asarray(images, dtype=float).reshape(len(images), -1, 3).mean(axis=1) / 255.0


def colour_strip(
    band_gaps: Sequence[float] | None = None, thickness_nm: float = 500.0, refractive_index: float = 2.2
) -> Any:
    """The colour of a film in white light against its band gap, for direct and indirect absorbers."""
    gaps = np.linspace(1.2, 3.6, 97) if band_gaps is None else np.asarray(band_gaps, dtype=float)
    energies = film_optics.energy_of(cie_colour.WAVELENGTHS_NM)
    fig, axes = _figure(7.5, 2.2)
    ax = axes[0, 0]
    for row, transition in enumerate(("direct", "indirect")):
        films = [
            film_optics.Film(
                g,
                transition,  # type: ignore[arg-type]
                thickness_nm,
                refractive_index,
                strength=2e5 if transition == "direct" else 5e4,
            )
            for g in gaps
        ]
        rgb = cie_colour.srgb_encode(
            np.array([cie_colour.transmitted_colour(f.transmittance(energies)) for f in films])
        )
        ax.imshow(rgb[None], extent=(gaps[0], gaps[-1], row, row + 0.9), aspect="auto")
    ax.set_ylim(0, 1.9)
    ax.set_yticks([0.45, 1.45], ["direct", "indirect"])
    ax.set_xlabel("band gap (eV)")
    ax.set_title(f"colour of a {thickness_nm:.0f} nm film in D65 light (CIE 1931 -> sRGB)")
    fig.tight_layout()
    return fig


def sample_grid(images: np.ndarray, labels: Sequence[str] = (), ncols: int = 8) -> Any:
    """Images in a grid, each titled with its label (e.g. formula and band gap)."""
    n = len(images)
    nrows = max(1, -(-n // ncols))
    fig, axes = _figure(1.3 * ncols, 1.45 * nrows, ncols, nrows)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], interpolation="nearest")
            if i < len(labels):
                ax.set_title(labels[i], fontsize=7)
    fig.tight_layout()
    return fig


def spectra(
    energy_ev: np.ndarray,
    absorbance: np.ndarray,
    true_gaps: Sequence[float],
    estimated: Sequence[float],
    labels: Sequence[str] = (),
    colours: np.ndarray | None = None,
) -> Any:
    """Absorbance spectra (left) and their Tauc plots with the fitted edge (right)."""
    fig, axes = _figure(10, 3.6, 2)
    left, right = axes[0]
    for i, row in enumerate(np.atleast_2d(absorbance)):
        colour = None if colours is None else colours[i]
        label = labels[i] if i < len(labels) else None
        left.plot(energy_ev, row, color=colour, lw=1.2, label=label)
        left.axvline(true_gaps[i], color=colour, ls="--", lw=0.8)
        fit = onset_estimator.analyse_spectrum(energy_ev, row)
        p = onset_estimator.EXPONENTS[fit["transition"]]
        y = np.power(onset_estimator.LN10 * np.clip(row - fit["baseline"], 0, None) * energy_ev, 1 / p)
        scale = np.nanmax(np.where(row < 2.0, y, np.nan)) or 1.0
        right.plot(energy_ev, y / scale, color=colour, lw=1.0)
        if np.isfinite(fit["slope"]):
            e_line = np.linspace(
                fit["band_gap_eV"] if np.isfinite(fit["band_gap_eV"]) else fit["e_low"], fit["e_high"], 20
            )
            right.plot(e_line, (fit["slope"] * e_line + fit["intercept"]) / scale, color="k", lw=0.8, ls=":")
        if np.isfinite(estimated[i]):
            right.plot([estimated[i]], [0], marker="v", color="k" if colour is None else colour, ms=6)
    left.set_xlabel("photon energy (eV)")
    left.set_ylabel("absorbance")
    left.set_title("spectra (dashed: band gap they were made from)")
    if labels:
        left.legend(fontsize=7)
    right.set_ylim(-0.05, 1.1)
    right.set_xlabel("photon energy (eV)")
    right.set_ylabel(r"$(\alpha E)^{1/p}$, scaled")
    right.set_title("Tauc plots: fitted edge (dotted) and onset (▼)")
    fig.tight_layout()
    return fig


def onset_recovery(
    true_gaps: np.ndarray,
    estimated: np.ndarray,
    range_ev: tuple[float, float] = (1.3, 5.0),
    tolerance_ev: float = 0.1,
    colours: np.ndarray | None = None,
) -> Any:
    """Estimated onset against the band gap each spectrum was made from, and the error."""
    fig, axes = _figure(10, 4, 2)
    left, right = axes[0]
    found = np.isfinite(estimated)
    c = None if colours is None else colours[found]
    left.scatter(true_gaps[found], estimated[found], s=14, c=c, edgecolors="0.3", linewidths=0.3)
    lim = (0, max(6.5, float(np.nanmax(true_gaps)) + 0.2))
    left.plot(lim, lim, color="0.5", lw=0.8)
    for edge in range_ev:
        left.axvline(edge, color="0.7", ls="--", lw=0.8)
    left.set_xlim(lim)
    left.set_ylim(lim)
    left.set_xlabel("band gap used (eV, Materials Project)")
    left.set_ylabel("absorption onset estimated (eV)")
    left.set_title(f"{found.sum()} of {len(found)} spectra have an onset in the window")
    err = estimated - true_gaps
    right.scatter(true_gaps[found], err[found], s=14, c=c, edgecolors="0.3", linewidths=0.3)
    right.axhspan(-tolerance_ev, tolerance_ev, color="tab:green", alpha=0.15, label=f"±{tolerance_ev} eV")
    for edge in range_ev:
        right.axvline(edge, color="0.7", ls="--", lw=0.8)
    right.set_xlabel("band gap used (eV)")
    right.set_ylabel("estimated - used (eV)")
    right.set_title("error; dashed: the range the tolerance is stated for")
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


def colour_model_errors(
    true_gaps: np.ndarray,
    predicted: np.ndarray,
    colours: np.ndarray,
    visible_ev: tuple[float, float] = (1.7, 3.1),
) -> Any:
    """Colour-cluster predictions against the true band gaps, each point in its film's colour."""
    fig, axes = _figure(5, 4.4)
    ax = axes[0, 0]
    ax.axvspan(*visible_ev, color="0.9", label="gaps a film shows as colour")
    ax.scatter(true_gaps, predicted, s=22, c=colours, edgecolors="0.3", linewidths=0.4)
    lim = (0, max(float(np.max(true_gaps)), float(np.max(predicted))) + 0.3)
    ax.plot(lim, lim, color="0.5", lw=0.8)
    ax.set_xlim(lim)
    ax.set_ylim(lim)
    mae = float(np.abs(predicted - true_gaps).mean())
    ax.set_title(f"colour clusters: test MAE {mae:.2f} eV")
    ax.set_xlabel("band gap (eV)")
    ax.set_ylabel("predicted from colour (eV)")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def reconstructions(images: np.ndarray, reconstructed: np.ndarray, n: int = 8) -> Any:
    """Originals (top row) and the autoencoder's reconstructions (bottom row)."""
    n = min(n, len(images))
    fig, axes = _figure(1.3 * n, 2.9, n, 2)
    for i in range(n):
        axes[0, i].imshow(images[i], interpolation="nearest")
        axes[1, i].imshow(np.clip(reconstructed[i], 0, 1), interpolation="nearest")
        axes[0, i].axis("off")
        axes[1, i].axis("off")
    axes[0, 0].set_title("image", fontsize=8, loc="left")
    axes[1, 0].set_title("reconstruction", fontsize=8, loc="left")
    fig.tight_layout()
    return fig


def tsne_embedding(latent: np.ndarray, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """A 2-D t-SNE map of latent codes (perplexity capped for small sets)."""
    from sklearn.manifold import TSNE

    x = np.asarray(latent, dtype=float)
    perp = float(min(perplexity, max(2.0, (len(x) - 1) / 3)))
    return TSNE(n_components=2, perplexity=perp, init="pca", random_state=seed).fit_transform(x)


def latent_map(embedding: np.ndarray, colours: np.ndarray, band_gaps: np.ndarray) -> Any:
    """The latent space as Stein et al.'s Figure 4: each sample at its t-SNE position, drawn in its
    image's colour, sized by its band gap."""
    fig, axes = _figure(6.2, 5.6)
    ax = axes[0, 0]
    ax.set_facecolor("0.55")
    sizes = 6 + 22 * np.clip(band_gaps, 0, None)
    ax.scatter(embedding[:, 0], embedding[:, 1], s=sizes, c=colours, edgecolors="none")
    for g in (1.0, 2.0, 4.0):
        ax.scatter([], [], s=6 + 22 * g, color="0.85", label=f"{g:g} eV")
    ax.legend(title="band gap", fontsize=8, loc="best", frameon=True)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("autoencoder latent space (t-SNE): image colour, size = band gap")
    fig.tight_layout()
    return fig
