"""The CDI networks scored on real data: a measured 3D Bragg CDI volume, cut into 2D patterns.

``../shared/data/cdi_nn`` holds a real Bragg coherent diffraction volume
(``ft_downsampled_32.npy``: the diffraction modulus sqrt(I) on a 32^3 grid, scaled to a
maximum of 1; from hyiprc/3D-CDI-NN's example run) and a 3D network's complex reconstruction
of the crystal from it (``nn_output_32.npy``).  By the projection-slice theorem, the central
slice of a 3D Fourier transform normal to an axis is the 2D Fourier transform of the
object's projection along that axis.  So:

* the slice of the volume through the Bragg peak normal to each axis, squared, is the 2D
  diffraction intensity of the crystal's projection along that axis (:func:`central_patterns`);
* the projection of the complex reconstruction along the same axis is a reference object for
  that pattern (:func:`reference_objects`): its amplitude (scaled to a maximum of 1) and
  phase.

:func:`consistency` checks the premise on the data: the modulus of the 2D transform of each
projection against the measured slice (a correlation near 1 says the slices and the
reconstruction belong together; this is a self-consistency check of the data, not of any
network).  The reference is itself a reconstruction (by a 3D network), not ground truth:
scores against it say how far a 2D network lands from an independent 3D one.

:func:`authors_input` applies the input convention of Cherukara et al.'s own notebook
(``v4_struct_phase.ipynb`` of github.com/mcherukara/CDI_NN): the modulus sqrt(I), the peak
on the centre pixel, scaled to a maximum of :data:`AUTHORS_INPUT_MAX` (10,000).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import numpy as np

from . import metrics
from .simulate import SIZE, intensities

#: The maximum the authors scaled the diffraction modulus of real data to.
AUTHORS_INPUT_MAX = 10_000.0
#: The axes the volume is cut normal to.
AXES = (0, 1, 2)


@dataclass(frozen=True)
class RealPatterns:
    """Three 2D patterns cut from the real volume and their reference objects.

    Attributes
    ----------
    intensity : ndarray
        ``(3, 32, 32)`` diffraction intensities (the squared modulus, peak at ``[16, 16]``),
        one per axis, each scaled to a maximum of 1.
    amplitude, phase : ndarray
        ``(3, 32, 32)`` the projected reference object of each: amplitude scaled to a
        maximum of 1, phase in radians.
    peak : tuple of int
        Where the Bragg peak (the brightest voxel) is in the volume.
    """

    intensity: np.ndarray
    amplitude: np.ndarray
    phase: np.ndarray
    peak: tuple[int, int, int]


def load(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """The measured modulus volume and the complex 3D reconstruction under ``root/cdi_nn``."""
    volume = np.load(root / "cdi_nn" / "ft_downsampled_32.npy").astype(np.float64)
    reconstruction = np.load(root / "cdi_nn" / "nn_output_32.npy").astype(np.complex128)
    if volume.shape != (SIZE,) * 3 or reconstruction.shape != (SIZE,) * 3:
        raise ValueError(f"expected two {SIZE}^3 arrays, got {volume.shape} and {reconstruction.shape}")
    return volume, reconstruction


def _centred(image: np.ndarray) -> np.ndarray:
    """``image`` rolled (cyclically) so its brightest pixel is the centre pixel ``[16, 16]``."""
    y, x = np.unravel_index(int(np.argmax(image)), image.shape)
    return np.roll(image, (SIZE // 2 - int(y), SIZE // 2 - int(x)), axis=(0, 1))


def central_patterns(volume: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int]]:
    """``(3, 32, 32)`` intensities: the slices through the peak normal to each axis, squared, centred."""
    peak = tuple(int(i) for i in np.unravel_index(int(np.argmax(volume)), volume.shape))
    out = []
    for axis in AXES:
        modulus = np.take(volume, peak[axis], axis=axis)
        intensity = _centred(modulus) ** 2
        out.append(intensity / intensity.max())
    return np.stack(out), (peak[0], peak[1], peak[2])


def reference_objects(reconstruction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(3, 32, 32)`` amplitudes (maximum 1) and phases of the reconstruction projected along each axis."""
    projections = [reconstruction.sum(axis=axis) for axis in AXES]
    amplitude = np.stack([np.abs(p) / np.abs(p).max() for p in projections])
    phase = np.stack([np.angle(p) for p in projections])
    return amplitude, phase


def patterns(root: Path) -> RealPatterns:
    """The real patterns and their reference objects (see the module's text)."""
    volume, reconstruction = load(root)
    intensity, peak = central_patterns(volume)
    amplitude, phase = reference_objects(reconstruction)
    return RealPatterns(intensity, amplitude, phase, peak)


def consistency(root: Path) -> list[float]:
    """Per axis: the correlation of the projection's 2D transform modulus with the measured slice.

    Both are centred on their peak and scaled to a maximum of 1 first.  Near 1: the
    projection-slice relation holds for this volume and reconstruction.
    """
    volume, reconstruction = load(root)
    measured, _ = central_patterns(volume)
    out = []
    for axis, intensity in zip(AXES, measured, strict=True):
        modulus = _centred(np.abs(np.fft.fft2(reconstruction.sum(axis=axis))))
        out.append(float(np.corrcoef(modulus.ravel() / modulus.max(), np.sqrt(intensity).ravel())[0, 1]))
    return out


def authors_input(intensity: np.ndarray, maximum: float = AUTHORS_INPUT_MAX) -> np.ndarray:
    """The ``(n, 32, 32, 1)`` float32 network input of intensities of any scale, as the authors fed real data.

    The modulus sqrt(I), the brightest pixel moved to the centre, scaled to a maximum of
    ``maximum``.

    Raises
    ------
    ValueError
        When the intensities are not ``(n, 32, 32)`` or ``(32, 32)``, are negative or all zero.
    """
    arr = intensities(intensity)
    out = []
    for frame in arr:
        modulus = _centred(np.sqrt(frame))
        top = modulus.max()
        if top <= 0:
            raise ValueError("a pattern is all zero: nothing to invert")
        out.append(modulus / top * maximum)
    return np.stack(out)[..., None].astype(np.float32)


def detector_input(frames: np.ndarray) -> Annotated[np.ndarray, (None, SIZE, SIZE, 1)]:
    """The network input of raw diffraction intensities: one frame ``(h, w)`` or a stack ``(n, h, w)``.

    Frames of any scale and of at least 32x32 pixels (a detector's counts): the 32x32 window
    centred on each frame's brightest pixel (the Bragg peak) is kept, then
    :func:`authors_input` applies the authors' convention.  This is the first step of the
    ``cdi-nn-*-from-intensity`` pipelines.
    """
    arr = np.asarray(frames, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or min(arr.shape[-2:]) < SIZE:
        raise ValueError(
            f"expected frames (h, w) or (n, h, w) of at least {SIZE}x{SIZE} pixels, got {arr.shape}"
        )
    windows = []
    for frame in arr:
        y, x = np.unravel_index(int(np.argmax(frame)), frame.shape)
        rolled = np.roll(frame, (frame.shape[0] // 2 - int(y), frame.shape[1] // 2 - int(x)), axis=(0, 1))
        top, left = frame.shape[0] // 2 - SIZE // 2, frame.shape[1] // 2 - SIZE // 2
        windows.append(rolled[top : top + SIZE, left : left + SIZE])
    return authors_input(np.stack(windows))


def score(structure: np.ndarray, phase_unit: np.ndarray, real: RealPatterns) -> list[dict[str, float]]:
    """The errors of network outputs (``(3, 32, 32, 1)``: amplitude, and phase in [0, 1]) on ``real``.

    After the translation/twin alignment of :func:`metrics.align`; ``phase_rms_truth`` is the
    error of a flat (zero) phase guess.
    """
    return metrics.reconstruction_errors(
        structure, metrics.phase_from_unit(phase_unit), real.amplitude, real.phase
    )


__all__ = [
    "AUTHORS_INPUT_MAX",
    "AXES",
    "RealPatterns",
    "authors_input",
    "central_patterns",
    "consistency",
    "detector_input",
    "load",
    "patterns",
    "reference_objects",
    "score",
]
