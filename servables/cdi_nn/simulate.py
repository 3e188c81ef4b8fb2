"""A coherent diffraction imaging (CDI) simulator for the CDI_NN study.

It makes the kind of data the networks of Cherukara, Nashed & Harder (Sci. Rep. 8,
16520, 2018) were trained on: a 2D crystal (a faceted convex shape whose
amplitude is 1 inside, with anti-aliased edges) carrying a phase
``phi(r) = g . u(r)`` from a displacement field ``u`` (the strain that Bragg CDI
images), and its far-field diffraction intensity ``I(q) = |FFT(a exp(i phi))|^2``
on the same 32x32 grid, centred on the Bragg peak (``q = 0`` at pixel ``[16, 16]``).

The object fits in the central half of the frame in each direction, so the
pattern is oversampled at least twice (the condition for phase retrieval).  The
linear part of the phase (a shift of the Bragg peak) is removed and the phase
is referred to its mean over the crystal, so the truth carries no trivial
ramp or offset.

:func:`model_input` turns intensities into the input the authors' networks
respond to (see its docstring for how the scale was found).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Side of the real-space and detector grids (the networks' 32x32).
SIZE = 32
#: The crystal's largest extent, in pixels (half the frame: oversampling >= 2).
MAX_EXTENT = SIZE // 2
#: Shape families: cross-sections of faceted crystals.
SHAPES = ("triangle", "hexagon", "rectangle", "polygon")
#: Displacement fields that give the phase.
STRAINS = ("inclusion", "bending", "shear", "smooth")
#: Supersampling factor used to anti-alias the crystal's facets.
_SUPER = 4


@dataclass
class CDIBatch:
    """Simulated CDI samples: ``n`` objects and their diffraction patterns.

    Attributes
    ----------
    intensity
        ``(n, 32, 32)`` far-field intensities ``|FFT|^2``, Bragg peak at ``[16, 16]``.
    amplitude
        ``(n, 32, 32)`` object amplitudes in [0, 1] (the structure).
    phase
        ``(n, 32, 32)`` object phases in radians, zero where the amplitude is zero.
    params
        One dict per sample: ``shape``, ``facets``, ``extent_px``, ``strain``,
        ``max_phase`` (radians), ``support_px``.
    """

    intensity: np.ndarray
    amplitude: np.ndarray
    phase: np.ndarray
    params: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.intensity.shape[0])

    @property
    def complex_object(self) -> np.ndarray:
        return self.amplitude * np.exp(1j * self.phase)


# -- the crystal --------------------------------------------------------------------------------


def _facet_normals(rng: np.random.Generator, shape: str) -> np.ndarray:
    """Angles of the facet normals of a convex crystal section."""
    turn = rng.uniform(0, 2 * np.pi)
    if shape == "triangle":
        base = np.arange(3) * 2 * np.pi / 3
    elif shape == "hexagon":
        base = np.arange(6) * np.pi / 3
    elif shape == "rectangle":
        base = np.arange(4) * np.pi / 2
    else:
        k = int(rng.integers(5, 9))
        base = np.arange(k) * 2 * np.pi / k + rng.uniform(-0.3, 0.3, k) * np.pi / k
    return np.asarray(base + turn)


def _vertices(angles: np.ndarray, distances: np.ndarray) -> np.ndarray:
    """Corners of the convex polygon ``{r : r . n_k <= d_k}`` (``n_k`` at ``angles``)."""
    normals = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    corners = []
    for i in range(len(angles)):
        for j in range(i + 1, len(angles)):
            m = normals[[i, j]]
            if abs(np.linalg.det(m)) < 1e-9:
                continue
            p = np.linalg.solve(m, distances[[i, j]])
            if (normals @ p <= distances + 1e-9).all():
                corners.append(p)
    return np.array(corners)


def crystal_shape(
    rng: np.random.Generator, shape: str | None = None, size: int = SIZE
) -> tuple[np.ndarray, dict[str, Any]]:
    """A faceted convex crystal section centred in a ``size`` x ``size`` frame.

    The crystal's extent (its larger side along x or y) is drawn between 6
    pixels and :data:`MAX_EXTENT`; its centroid sits on the frame's centre
    pixel.  Returns the amplitude (1 inside; on a facet, the fraction of the
    pixel inside the crystal) and a dict of what was drawn.
    """
    shape = shape or str(rng.choice(SHAPES))
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; choose one of {', '.join(SHAPES)}")
    angles = _facet_normals(rng, shape)
    distances = rng.uniform(0.75, 1.0, len(angles))
    if shape == "rectangle":  # opposite facets at the same distance
        aspect = rng.uniform(0.55, 1.0)
        distances = np.array([1.0, aspect, 1.0, aspect])
    elif shape == "hexagon":  # a truncated triangle: alternate facets pulled in
        distances = np.where(np.arange(6) % 2 == 0, 1.0, rng.uniform(0.75, 1.25))
    corners = _vertices(angles, distances)
    extent = float(rng.uniform(6.0, MAX_EXTENT - 0.5))
    scale = extent / np.ptp(corners, axis=0).max()
    distances = distances * scale
    # the centroid of the polygon (shoelace over its corners sorted by angle)
    corners = corners * scale
    order = np.argsort(np.arctan2(corners[:, 1] - corners[:, 1].mean(), corners[:, 0] - corners[:, 0].mean()))
    px, py = corners[order, 0], corners[order, 1]
    cross = px * np.roll(py, -1) - np.roll(px, -1) * py
    area = cross.sum() / 2
    cx = ((px + np.roll(px, -1)) * cross).sum() / (6 * area)
    cy = ((py + np.roll(py, -1)) * cross).sum() / (6 * area)
    fine = (np.arange(size * _SUPER) + 0.5) / _SUPER - 0.5 - size // 2
    yy, xx = np.meshgrid(fine + cy, fine + cx, indexing="ij")
    inside = np.ones(yy.shape, bool)
    for a, d in zip(angles, distances):
        inside &= xx * np.cos(a) + yy * np.sin(a) <= d
    amp = inside.reshape(size, _SUPER, size, _SUPER).mean(axis=(1, 3))
    return amp, {"shape": shape, "facets": len(angles), "extent_px": round(extent, 2)}


# -- the strain ---------------------------------------------------------------------------------


def displacement(
    rng: np.random.Generator, amplitude: np.ndarray, kind: str | None = None
) -> tuple[np.ndarray, np.ndarray, str]:
    """A 2D displacement field ``(u_y, u_x)`` over the crystal, in arbitrary units.

    ``inclusion``: a centre of dilatation inside the crystal (``u`` grows as
    ``r`` inside a core, falls as ``1/r`` outside, as around a misfitting
    inclusion); ``bending``: a bent plate (``u_y ~ x^2``); ``shear``: a
    non-uniform shear (``u_x ~ y^2 x``); ``smooth``: a sum of three Gaussian
    displacement bumps.
    """
    kind = kind or str(rng.choice(STRAINS))
    yy, xx = np.indices(amplitude.shape, dtype=float)
    inside = amplitude > 0.5
    ys, xs = yy[inside], xx[inside]
    cy, cx = ys.mean(), xs.mean()
    half = max(np.ptp(ys), np.ptp(xs), 2.0) / 2
    y, x = (yy - cy) / half, (xx - cx) / half
    if kind == "inclusion":
        k = int(rng.integers(ys.size))
        dy, dx = (yy - ys[k]) / half, (xx - xs[k]) / half
        r2 = dy**2 + dx**2
        core = rng.uniform(0.15, 0.4) ** 2
        f = np.where(r2 < core, 1.0, core / np.maximum(r2, 1e-9))
        uy, ux = dy * f, dx * f
    elif kind == "bending":
        t = rng.uniform(0, np.pi)
        xr = x * np.cos(t) + y * np.sin(t)
        uy, ux = -(xr**2) * np.cos(t), xr**2 * np.sin(t)
    elif kind == "shear":
        uy, ux = np.zeros_like(x), y**2 * x
    elif kind == "smooth":
        uy, ux = np.zeros_like(x), np.zeros_like(x)
        for _ in range(3):
            py, px = rng.uniform(-0.7, 0.7, 2)
            w = rng.uniform(0.25, 0.6)
            bump = np.exp(-((y - py) ** 2 + (x - px) ** 2) / (2 * w**2))
            vy, vx = rng.normal(size=2)
            uy, ux = uy + vy * bump, ux + vx * bump
    else:
        raise ValueError(f"unknown strain {kind!r}; choose one of {', '.join(STRAINS)}")
    return uy, ux, kind


def strain_phase(
    amplitude: np.ndarray, uy: np.ndarray, ux: np.ndarray, g_angle: float, max_phase: float
) -> np.ndarray:
    """The Bragg CDI phase ``g . u`` for a reflection ``g`` at ``g_angle``.

    The linear part (a shift of the Bragg peak) is removed by an
    amplitude-weighted least-squares fit, then the phase is scaled so that its
    largest magnitude over the crystal is ``max_phase`` (< pi: no wrapping)
    and set to zero outside the crystal.
    """
    phase = np.cos(g_angle) * ux + np.sin(g_angle) * uy
    w = amplitude.ravel()
    yy, xx = np.indices(amplitude.shape, dtype=float)
    basis = np.stack([np.ones(w.size), yy.ravel(), xx.ravel()], axis=1)
    root = np.sqrt(w)  # minimise sum(a * residual^2): the residual is a-weighted orthogonal to the basis
    coef, *_ = np.linalg.lstsq(basis * root[:, None], phase.ravel() * root, rcond=None)
    phase = phase - (basis @ coef).reshape(amplitude.shape)
    inside = amplitude > 0
    peak = np.abs(phase[inside]).max()
    phase = phase * (max_phase / peak if peak > 0 else 0.0)
    return np.where(inside, phase, 0.0)


# -- the diffraction ----------------------------------------------------------------------------


def far_field(obj: np.ndarray) -> np.ndarray:
    """``|FFT(obj)|^2`` over the last two axes, ``q = 0`` at the centre pixel.

    The object's centre pixel ``[16, 16]`` is the origin of real space, so a
    real, centrosymmetric object has a real transform.
    """
    axes = (-2, -1)
    f = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(obj, axes=axes)), axes=axes)
    return np.abs(f) ** 2


#: The CDI_NN networks respond to the diffraction *modulus* ``sqrt(I)`` of an object
#: whose amplitude is about this value (no per-pattern normalisation): scanned
#: against the authors' structure network on simulated batches, this scale gives
#: the lowest amplitude error (see ``servables/cdi_nn/calibrate.py`` and the
#: README).  Their training objects were, we think, projections of crystals many
#: atoms thick; a pattern scaled to a maximum of 1 gives an empty prediction.
MODEL_INPUT_SCALE = 14.0


def model_input(intensity: np.ndarray, scale: float = MODEL_INPUT_SCALE) -> np.ndarray:
    """The ``(n, 32, 32, 1)`` float32 network input for intensities ``(n, 32, 32)`` or ``(32, 32)``.

    ``scale * sqrt(I)``: the modulus of the far field of an object whose amplitude is ``scale``.
    """
    return (scale * np.sqrt(intensities(intensity)))[..., None].astype(np.float32)


def intensities(intensity: np.ndarray) -> np.ndarray:
    """``intensity`` as a float64 stack ``(n, 32, 32)`` (one pattern ``(32, 32)`` becomes a stack of one).

    Raises
    ------
    ValueError
        When the shape is neither, or an intensity is negative.
    """
    arr = np.asarray(intensity, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[-2:] != (SIZE, SIZE):
        raise ValueError(
            f"expected intensities of shape (n, {SIZE}, {SIZE}) or ({SIZE}, {SIZE}), got {arr.shape}"
        )
    if (arr < 0).any():
        raise ValueError("intensities must be >= 0 (counts, or |FFT|^2)")
    return arr


# -- batches ------------------------------------------------------------------------------------


def simulate(
    n: int,
    seed: int = 0,
    *,
    max_phase: tuple[float, float] = (0.5, 2.5),
    shapes: tuple[str, ...] = SHAPES,
    strains: tuple[str, ...] = STRAINS,
) -> CDIBatch:
    """``n`` strained crystals and their diffraction patterns, reproducible from ``seed``.

    ``max_phase`` bounds (radians) the largest phase of each crystal, drawn
    uniformly; ``max_phase=(0, 0)`` gives unstrained (real) objects.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    rng = np.random.default_rng(seed)
    amps, phases, params = [], [], []
    for _ in range(n):
        amp, info = crystal_shape(rng, str(rng.choice(shapes)))
        uy, ux, kind = displacement(rng, amp, str(rng.choice(strains)))
        peak = float(rng.uniform(*max_phase))
        phase = strain_phase(amp, uy, ux, rng.uniform(0, 2 * np.pi), peak)
        amps.append(amp)
        phases.append(phase)
        params.append(
            {**info, "strain": kind, "max_phase": round(peak, 4), "support_px": int((amp > 0.5).sum())}
        )
    amplitude = np.stack(amps)
    phase = np.stack(phases)
    intensity = far_field(amplitude * np.exp(1j * phase))
    return CDIBatch(intensity=intensity, amplitude=amplitude, phase=phase, params=params)
