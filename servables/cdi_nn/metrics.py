"""Reconstruction errors of CDI predictions, up to the ambiguities of phase retrieval.

A diffraction intensity ``|FFT(o)|^2`` is the same for the object ``o(r)``, any
translate ``o(r - t)`` (cyclic on the grid), its twin ``conj(o(-r))`` and
``o(r) exp(i c)`` for any constant ``c``.  So before comparing a prediction
with the truth, :func:`align` picks the twin or not and the translation that
best overlay the predicted structure on the true one (their circular
cross-correlation; the phase decides the twin only where the structure cannot:
a nearly centrosymmetric crystal), and :func:`reconstruction_errors` removes the
global phase offset inside the crystal.  A linear phase ramp is not an
ambiguity (it moves the pattern), so it is not forgiven; but it does not move
the structure either: a prediction whose ramp is wrong is overlaid where its
structure fits and loses on the phase error alone.

The figures, per sample:

``amplitude_error``
    ``||a_pred - a_true|| / ||a_true||`` over the frame (0 is perfect; an empty
    prediction scores 1).
``support_iou``
    intersection over union of the supports ``a > 0.5``.
``phase_error``
    RMS of the wrapped phase difference (radians) over the true support
    (``a_true > 0.5``), after removing the best global offset.
``phase_rms_truth``
    the same for a flat (zero) phase guess: the bar a phase prediction must beat.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Amplitudes above this are inside the crystal.
SUPPORT_THRESHOLD = 0.5
#: Twin and non-twin structures whose best overlaps differ by less than this fraction are
#: told apart by the phase (the complex overlap) instead.
TWIN_TOLERANCE = 0.02


def phase_from_unit(p: np.ndarray) -> np.ndarray:
    """The networks' phase output (a sigmoid in [0, 1]) in radians: ``2 pi p - pi``."""
    return 2 * np.pi * np.asarray(p, dtype=np.float64) - np.pi


def phase_to_unit(phase: np.ndarray) -> np.ndarray:
    """Radians in [-pi, pi] to the networks' [0, 1] phase scale (the inverse of :func:`phase_from_unit`)."""
    return (np.asarray(phase, dtype=np.float64) + np.pi) / (2 * np.pi)


def wrap(phase: np.ndarray) -> np.ndarray:
    """Phases wrapped into (-pi, pi]."""
    return np.angle(np.exp(1j * np.asarray(phase)))


def _twin(amp: np.ndarray, phase: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``conj(o(-r))`` on the centred grid (pixel ``n // 2`` is the origin)."""
    flip_a = np.roll(amp[::-1, ::-1], 1, axis=(0, 1))
    flip_p = np.roll(phase[::-1, ::-1], 1, axis=(0, 1))
    return flip_a, -flip_p


@dataclass(frozen=True)
class Alignment:
    """How a prediction was overlaid on the truth: ``twin`` and the cyclic ``shift`` (rows, cols)."""

    twin: bool
    shift: tuple[int, int]


def _best_shift(moved: np.ndarray, ft_true: np.ndarray) -> tuple[float, tuple[int, int]]:
    """The modulus and the cyclic shift of the largest circular cross-correlation of ``moved``
    with the truth whose conjugate transform is ``ft_true``."""
    corr = np.abs(np.fft.ifft2(np.fft.fft2(moved) * ft_true))
    k = int(np.argmax(corr))
    dy, dx = np.unravel_index(k, corr.shape)
    return float(corr.flat[k]), (-int(dy), -int(dx))


def align(
    pred_amp: np.ndarray, pred_phase: np.ndarray, true_amp: np.ndarray, true_phase: np.ndarray
) -> tuple[np.ndarray, np.ndarray, Alignment]:
    """The prediction (amplitude, phase) moved onto the truth: the twin or not and the cyclic
    shift that maximise the overlap of the structures ``sum_r a_pred(r - t) a_true(r)``.

    Where the two twins' best overlaps differ by less than :data:`TWIN_TOLERANCE` (a nearly
    centrosymmetric structure), the twin whose complex overlap
    ``|sum_r o_pred(r - t) conj(o_true(r))|`` (blind to a global phase) is larger at its shift wins.
    """
    ft_amp = np.conj(np.fft.fft2(true_amp))
    true_obj = true_amp * np.exp(1j * true_phase)
    candidates = []
    for twin in (False, True):
        a, p = _twin(pred_amp, pred_phase) if twin else (pred_amp, pred_phase)
        overlap, shift = _best_shift(a, ft_amp)
        moved_a, moved_p = np.roll(a, shift, axis=(0, 1)), np.roll(p, shift, axis=(0, 1))
        complex_overlap = float(np.abs((moved_a * np.exp(1j * moved_p) * np.conj(true_obj)).sum()))
        candidates.append((overlap, complex_overlap, moved_a, moved_p, Alignment(twin, shift)))
    plain, inverted = candidates
    top = max(plain[0], inverted[0])
    if abs(plain[0] - inverted[0]) <= TWIN_TOLERANCE * top:
        best = inverted if inverted[1] > plain[1] * (1 + 1e-9) else plain
    else:
        best = inverted if inverted[0] > plain[0] else plain
    return best[2], best[3], best[4]


def _phase_rms(diff: np.ndarray, weight: np.ndarray) -> float:
    """RMS of wrapped ``diff`` after removing its weighted circular mean."""
    if weight.sum() == 0:
        return float("nan")
    offset = np.angle((weight * np.exp(1j * diff)).sum())
    return float(np.sqrt((weight * wrap(diff - offset) ** 2).sum() / weight.sum()))


def sample_errors(
    pred_amp: np.ndarray, pred_phase: np.ndarray, true_amp: np.ndarray, true_phase: np.ndarray
) -> dict[str, float]:
    """The errors of one prediction (2D arrays; phases in radians), after :func:`align`."""
    a, p, how = align(pred_amp, pred_phase, true_amp, true_phase)
    support = (true_amp > SUPPORT_THRESHOLD).astype(float)
    pred_support = a > SUPPORT_THRESHOLD
    union = np.logical_or(pred_support, support > 0).sum()
    return {
        "amplitude_error": float(np.linalg.norm(a - true_amp) / np.linalg.norm(true_amp)),
        "support_iou": float(np.logical_and(pred_support, support > 0).sum() / union) if union else 0.0,
        "phase_error": _phase_rms(p - true_phase, support),
        "phase_rms_truth": _phase_rms(-true_phase, support),
        "twin": float(how.twin),
    }


def reconstruction_errors(
    pred_amp: np.ndarray, pred_phase: np.ndarray, true_amp: np.ndarray, true_phase: np.ndarray
) -> list[dict[str, float]]:
    """:func:`sample_errors` for each sample of ``(n, 32, 32)`` (or ``(n, 32, 32, 1)``) arrays."""
    arrays = [np.asarray(x, dtype=np.float64) for x in (pred_amp, pred_phase, true_amp, true_phase)]
    arrays = [x[..., 0] if x.ndim == 4 else x for x in arrays]
    shapes = {x.shape for x in arrays}
    if len(shapes) != 1 or arrays[0].ndim != 3:
        raise ValueError(f"expected four arrays of one shape (n, h, w), got {[x.shape for x in arrays]}")
    return [sample_errors(*(x[i] for x in arrays)) for i in range(arrays[0].shape[0])]


def summarize(errors: list[dict[str, float]]) -> dict[str, float]:
    """Batch means and medians of each figure (``amplitude_error_mean``, ``..._median``, ...)."""
    out: dict[str, float] = {"n": float(len(errors))}
    for key in ("amplitude_error", "support_iou", "phase_error", "phase_rms_truth"):
        values = np.array([e[key] for e in errors], dtype=float)
        out[f"{key}_mean"] = float(np.nanmean(values))
        out[f"{key}_median"] = float(np.nanmedian(values))
    return out
