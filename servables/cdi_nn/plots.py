"""Figures of the CDI study, as functions a notebook or a dashboard calls.

Each returns a :class:`matplotlib.figure.Figure` made without pyplot (no global
state, safe in a Voila kernel serving several pages); a notebook with
``%matplotlib inline`` shows it as the cell's value or with ``display(fig)``, a
widget can show ``fig`` in an ``Output`` the same way or save it as PNG
(``fig.savefig(buffer, format="png")``).

* :func:`plot_reconstructions` -- per sample: the input pattern, the true
  structure and phase, and each model's predicted structure and phase, overlaid
  on the truth (twin and translation resolved, see :func:`metrics.align`).
* :func:`plot_errors` -- the batch's amplitude and phase errors per model, with
  the flat-phase bar a phase prediction must beat.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from . import metrics, simulate

#: Colour maps: patterns (log scale), amplitudes, phases (cyclic, zero is white).
PATTERN_CMAP = "magma"
AMPLITUDE_CMAP = "gray"
PHASE_CMAP = "twilight_shifted"
Prediction = tuple[np.ndarray, np.ndarray]


def _masked_phase(phase: np.ndarray, amp: np.ndarray) -> np.ndarray:
    """The phase where the amplitude is above the support threshold, NaN (blank) elsewhere."""
    return np.where(amp > metrics.SUPPORT_THRESHOLD, phase, np.nan)


def _show(ax: Axes, image: np.ndarray, title: str, **kw: Any) -> AxesImage:
    im = ax.imshow(image, interpolation="nearest", **kw)
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    return im


def plot_reconstructions(
    batch: simulate.CDIBatch,
    predictions: Mapping[str, Prediction],
    indices: Sequence[int] = (0, 1, 2, 3),
    cell: float = 1.45,
) -> Figure:
    """A grid, one row per sample in ``indices``.

    Columns: the diffraction pattern (``log10(1 + I)``), the true amplitude and
    phase, then for each entry of ``predictions`` (``label -> (amplitude,
    phase in radians)``, arrays ``(n, 32, 32)``) its amplitude and phase,
    aligned on the truth, with the sample's amplitude and phase errors.
    Phases are drawn inside the support only, on one scale from -pi to pi.
    """
    idx = [int(i) for i in indices]
    ncols = 3 + 2 * len(predictions)
    fig = Figure(figsize=(cell * ncols, cell * len(idx) + 0.5), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(idx), ncols))
    phase_im = None
    for row, i in enumerate(idx):
        ax = axes[row]
        p = batch.params[i] if batch.params else {}
        label = f"#{i} {p.get('shape', '')} / {p.get('strain', '')}".strip()
        _show(ax[0], np.log10(1 + batch.intensity[i]), f"{label}\nlog10(1 + I)", cmap=PATTERN_CMAP)
        _show(ax[1], batch.amplitude[i], "true structure", cmap=AMPLITUDE_CMAP, vmin=0, vmax=1)
        phase_im = _show(
            ax[2],
            _masked_phase(batch.phase[i], batch.amplitude[i]),
            "true phase",
            cmap=PHASE_CMAP,
            vmin=-np.pi,
            vmax=np.pi,
        )
        for k, (name, (amp, phase)) in enumerate(predictions.items()):
            e = metrics.sample_errors(amp[i], phase[i], batch.amplitude[i], batch.phase[i])
            a, ph, _ = metrics.align(amp[i], phase[i], batch.amplitude[i], batch.phase[i])
            offset = np.angle(np.sum(batch.amplitude[i] * np.exp(1j * (ph - batch.phase[i]))))
            col = 3 + 2 * k
            _show(
                ax[col],
                a,
                f"{name}: structure\nerror {e['amplitude_error']:.2f}",
                cmap=AMPLITUDE_CMAP,
                vmin=0,
                vmax=1,
            )
            _show(
                ax[col + 1],
                _masked_phase(metrics.wrap(ph - offset), a),
                f"{name}: phase\nerror {e['phase_error']:.2f} rad",
                cmap=PHASE_CMAP,
                vmin=-np.pi,
                vmax=np.pi,
            )
    if phase_im is not None:
        fig.colorbar(phase_im, ax=axes[:, -1].tolist(), shrink=0.6, label="phase (rad)")
    return fig


def plot_errors(
    errors: Mapping[str, Sequence[Mapping[str, float]]], figsize: tuple[float, float] = (8.0, 3.0)
) -> Figure:
    """Box plots of the per-sample amplitude and phase errors of each model (``label -> errors``
    from :func:`metrics.reconstruction_errors`); the dashed line is the median error of a flat
    (zero) phase guess."""
    labels = list(errors)
    fig = Figure(figsize=figsize, layout="constrained")
    ax_a, ax_p = fig.subplots(1, 2)
    amp = [[e["amplitude_error"] for e in errors[k]] for k in labels]
    phase = [[e["phase_error"] for e in errors[k]] for k in labels]
    ax_a.boxplot(amp, tick_labels=labels)
    ax_a.set_ylabel("||a_pred - a_true|| / ||a_true||")
    ax_a.set_title("structure (amplitude) error", fontsize=9)
    ax_a.axhline(1.0, color="gray", lw=0.8, ls=":", label="empty prediction")
    ax_a.legend(fontsize=7, loc="upper right")
    ax_p.boxplot(phase, tick_labels=labels)
    flat = np.nanmedian([e["phase_rms_truth"] for e in next(iter(errors.values()))]) if labels else np.nan
    ax_p.axhline(flat, color="gray", lw=0.8, ls="--", label="flat phase guess")
    ax_p.set_ylabel("RMS phase error in the crystal (rad)")
    ax_p.set_title("phase error", fontsize=9)
    ax_p.legend(fontsize=7, loc="upper right")
    n = len(next(iter(errors.values()))) if labels else 0
    fig.suptitle(f"reconstruction errors over {n} simulated patterns", fontsize=10)
    return fig
