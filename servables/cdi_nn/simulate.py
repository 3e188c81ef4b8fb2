"""A coherent diffraction imaging (CDI) simulator for the CDI_NN study.

It makes the kind of data the networks of Cherukara, Nashed & Harder (Sci. Rep. 8,
16520, 2018) were trained on: a 2D crystal (a convex section whose amplitude is 1
inside) carrying a phase, and its far-field diffraction intensity
``I(q) = |FFT(a exp(i phi))|^2`` on the same 32x32 grid, centred on the Bragg peak
(``q = 0`` at pixel ``[16, 16]``).  The phase is ``g . u(r)`` of a displacement
field ``u`` (the strain that Bragg CDI images), plus, where the parameter set says
so, a linear ramp (a shift of the Bragg peak) and a constant, wrapped into (-pi, pi].

Two named parameter sets (:data:`PARAMETER_SETS`, :class:`CrystalSettings`):

``authors`` (the default)
    crystals like the test crystals of the authors' ``testing.ipynb`` figure
    (github.com/mcherukara/CDI_NN): 15 to 28 pixels across, convex sections
    stretched up to 3:1, edges softened by a Gaussian of 0.5 to 1.2 pixels,
    phases that wrap over -pi..pi with ramps of up to 0.9 rad per pixel (up to
    four fringes across a crystal), a strain field of up to 3 rad and a random
    constant.  ``authors-train`` and ``authors-heldout`` split it into the range
    the stand-in networks are trained on (15-23 px, ramps up to 0.6 rad/px) and
    a range they never see (23-28 px, ramps 0.6-0.9 rad/px).
``faceted``
    the simulator of the earlier figures: sharp anti-aliased facets, 6 to 15.5
    pixels across (the object fits in the central half of the frame: oversampled
    at least twice), centroid on the centre pixel, the strain's linear part
    removed and its largest magnitude 0.5 to 2.5 rad (no wrapping).  The same
    seed gives the same arrays as before the parameter sets existed.

:func:`model_input` turns intensities into the input the authors' networks
respond to (see its docstring for how the scale was found).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

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
#: Amplitudes below this (the far tails of a softened edge) are set to zero: outside the crystal.
AMPLITUDE_FLOOR = 0.01


@dataclass(frozen=True)
class CrystalSettings:
    """One distribution of simulated crystals: a named parameter set of :func:`simulate`.

    Every range is ``(low, high)``, drawn uniformly per crystal.

    Attributes
    ----------
    name
        The set's name in :data:`PARAMETER_SETS`.
    extent_px
        The crystal's larger side along x or y, in pixels.
    aspect
        The section is squeezed by this factor along a random direction before it is
        scaled to its extent (``(1, 1)``: not squeezed, nothing drawn).
    edge_px
        Standard deviation (pixels) of the Gaussian that softens the edges
        (``(0, 0)``: sharp facets, anti-aliased by supersampling only).
    max_phase
        The largest magnitude (radians) of the strain phase, whose own linear part
        is removed.
    ramp
        Magnitude of a linear phase ramp in radians per pixel, at a random angle
        (``(0, 0)``: no ramp, nothing drawn).  A ramp ``k`` moves the Bragg peak by
        ``k N / 2 pi`` pixels.
    offset
        Add a random constant phase.
    wrap
        Wrap the phase into (-pi, pi].
    centre
        What sits on the centre pixel: the crystal's ``centroid`` or the centre of its
        bounding ``box`` (large crystals need the box to stay inside the frame).
    shapes, strains
        The shape families and displacement fields drawn from.
    """

    name: str
    extent_px: tuple[float, float]
    aspect: tuple[float, float] = (1.0, 1.0)
    edge_px: tuple[float, float] = (0.0, 0.0)
    max_phase: tuple[float, float] = (0.5, 2.5)
    ramp: tuple[float, float] = (0.0, 0.0)
    offset: bool = False
    wrap: bool = False
    centre: Literal["centroid", "box"] = "centroid"
    shapes: tuple[str, ...] = SHAPES
    strains: tuple[str, ...] = STRAINS

    def __post_init__(self) -> None:
        low, high = self.extent_px
        if not 2.0 <= low <= high <= SIZE - 2:
            raise ValueError(f"extent_px must lie within [2, {SIZE - 2}] pixels, got {self.extent_px}")
        if self.centre not in ("centroid", "box"):
            raise ValueError(f"centre must be 'centroid' or 'box', got {self.centre!r}")


#: The simulator of the earlier figures (sharp facets, small crystals, ramp-free phases below pi).
FACETED = CrystalSettings("faceted", extent_px=(6.0, MAX_EXTENT - 0.5))
#: Crystals like those of the authors' test figure (the default).
AUTHORS = CrystalSettings(
    "authors",
    extent_px=(15.0, 28.0),
    aspect=(0.35, 1.0),
    edge_px=(0.5, 1.2),
    max_phase=(0.0, 3.0),
    ramp=(0.0, 0.9),
    offset=True,
    wrap=True,
    centre="box",
)
#: Where the ``authors`` set is split for training and for the held-out score.
SPLIT_EXTENT_PX = 23.0
SPLIT_RAMP = 0.6
#: The named parameter sets.
PARAMETER_SETS: dict[str, CrystalSettings] = {
    s.name: s
    for s in (
        FACETED,
        AUTHORS,
        replace(AUTHORS, name="authors-train", extent_px=(15.0, SPLIT_EXTENT_PX), ramp=(0.0, SPLIT_RAMP)),
        replace(AUTHORS, name="authors-heldout", extent_px=(SPLIT_EXTENT_PX, 28.0), ramp=(SPLIT_RAMP, 0.9)),
    )
}
#: The parameter set the study uses unless told otherwise.
DEFAULT = "authors"


def parameter_set(settings: CrystalSettings | str) -> CrystalSettings:
    """``settings`` itself, or the named set of :data:`PARAMETER_SETS`.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones).
    """
    if isinstance(settings, CrystalSettings):
        return settings
    try:
        return PARAMETER_SETS[settings]
    except KeyError:
        raise ValueError(
            f"unknown parameter set {settings!r}; choose one of {', '.join(PARAMETER_SETS)}"
        ) from None


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
        One dict per sample: ``shape``, ``facets``, ``extent_px``, ``aspect``,
        ``edge_px`` (the Gaussian's sigma), ``strain``, ``max_phase`` (radians),
        ``ramp`` (rad per pixel), ``ramp_angle``, ``offset`` (radians), ``support_px``.
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


def _stretched(corners: np.ndarray, factor: float, angle: float) -> np.ndarray:
    """``corners`` squeezed by ``factor`` along the direction at ``angle``."""
    u = np.array([np.cos(angle), np.sin(angle)])
    along = corners @ u
    return corners + np.outer((factor - 1.0) * along, u)


def _inside(corners: np.ndarray, points_x: np.ndarray, points_y: np.ndarray) -> np.ndarray:
    """Which points lie in the convex hull of ``corners`` (every corner is a hull vertex)."""
    mid = corners.mean(axis=0)
    order = np.argsort(np.arctan2(corners[:, 1] - mid[1], corners[:, 0] - mid[0]))
    ring = corners[order]
    inside = np.ones(points_x.shape, bool)
    for p, q in zip(ring, np.roll(ring, -1, axis=0)):
        inside &= (q[0] - p[0]) * (points_y - p[1]) - (q[1] - p[1]) * (points_x - p[0]) >= 0
    return inside


def soften(amplitude: np.ndarray, sigma: float) -> np.ndarray:
    """``amplitude`` convolved (cyclically) with a Gaussian of ``sigma`` pixels; tails below
    :data:`AMPLITUDE_FLOOR` set to zero.  ``sigma = 0`` returns it unchanged."""
    if sigma <= 0:
        return amplitude
    f = np.fft.fftfreq(amplitude.shape[0])
    kernel = np.exp(-2 * np.pi**2 * sigma**2 * (f[:, None] ** 2 + f[None, :] ** 2))
    out = np.clip(np.fft.ifft2(np.fft.fft2(amplitude) * kernel).real, 0.0, 1.0)
    return np.where(out < AMPLITUDE_FLOOR, 0.0, out)


def crystal_shape(
    rng: np.random.Generator,
    shape: str | None = None,
    size: int = SIZE,
    settings: CrystalSettings | str = DEFAULT,
) -> tuple[np.ndarray, dict[str, Any]]:
    """A convex crystal section centred in a ``size`` x ``size`` frame.

    The crystal's extent (its larger side along x or y) is drawn from
    ``settings.extent_px``; its centroid (or the centre of its bounding box, see
    :class:`CrystalSettings`) sits on the frame's centre pixel; its edges are
    softened by a Gaussian of ``settings.edge_px``.  Returns the amplitude (1 deep
    inside; on a facet, the fraction of the pixel inside the crystal, then
    softened) and a dict of what was drawn (``shape``, ``facets``, ``extent_px``,
    ``aspect``, ``edge_px``).
    """
    settings = parameter_set(settings)
    shape = shape or str(rng.choice(settings.shapes))
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
    squeeze = 1.0
    if settings.aspect != (1.0, 1.0):
        squeeze = float(rng.uniform(*settings.aspect))
        corners = _stretched(corners, squeeze, float(rng.uniform(0, np.pi)))
    extent = float(rng.uniform(*settings.extent_px))
    scale = extent / np.ptp(corners, axis=0).max()
    corners = corners * scale
    if settings.centre == "box":
        cx, cy = (corners.min(axis=0) + corners.max(axis=0)) / 2
    else:  # the centroid of the polygon (shoelace over its corners sorted by angle)
        order = np.argsort(
            np.arctan2(corners[:, 1] - corners[:, 1].mean(), corners[:, 0] - corners[:, 0].mean())
        )
        px, py = corners[order, 0], corners[order, 1]
        cross = px * np.roll(py, -1) - np.roll(px, -1) * py
        area = cross.sum() / 2
        cx = ((px + np.roll(px, -1)) * cross).sum() / (6 * area)
        cy = ((py + np.roll(py, -1)) * cross).sum() / (6 * area)
    fine = (np.arange(size * _SUPER) + 0.5) / _SUPER - 0.5 - size // 2
    yy, xx = np.meshgrid(fine + cy, fine + cx, indexing="ij")
    if settings.aspect == (1.0, 1.0):  # the facets' own half-planes (the earlier figures' exact arithmetic)
        inside = np.ones(yy.shape, bool)
        for a, d in zip(angles, distances * scale):
            inside &= xx * np.cos(a) + yy * np.sin(a) <= d
    else:
        inside = _inside(corners, xx, yy)
    amp = inside.reshape(size, _SUPER, size, _SUPER).mean(axis=(1, 3))
    edge = float(rng.uniform(*settings.edge_px)) if settings.edge_px != (0.0, 0.0) else 0.0
    info = {
        "shape": shape,
        "facets": len(angles),
        "extent_px": round(extent, 2),
        "aspect": round(squeeze, 3),
        "edge_px": round(edge, 3),
    }
    return soften(amp, edge), info


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
    out: np.ndarray = (scale * np.sqrt(intensities(intensity)))[..., None].astype(np.float32)
    return out


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


def linear_ramp(gradient: float, angle: float, size: int = SIZE) -> np.ndarray:
    """The phase ``k . r`` of a ramp of ``gradient`` rad per pixel at ``angle`` (``r`` from the centre pixel)."""
    yy, xx = np.indices((size, size), dtype=float) - size // 2
    return np.asarray(gradient * (np.cos(angle) * xx + np.sin(angle) * yy))


def simulate(
    n: int,
    seed: int = 0,
    *,
    settings: CrystalSettings | str = DEFAULT,
    max_phase: tuple[float, float] | None = None,
    shapes: tuple[str, ...] | None = None,
    strains: tuple[str, ...] | None = None,
) -> CDIBatch:
    """``n`` strained crystals and their diffraction patterns, reproducible from ``seed``.

    ``settings`` is a :class:`CrystalSettings` or the name of one in
    :data:`PARAMETER_SETS` (default ``"authors"``; ``"faceted"`` reproduces the
    earlier figures).  ``max_phase``, ``shapes`` and ``strains`` override the set's:
    ``max_phase`` bounds (radians) the largest strain phase of each crystal, drawn
    uniformly; ``max_phase=(0, 0)`` with the ``faceted`` set gives unstrained (real)
    objects.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    settings = parameter_set(settings)
    max_phase = settings.max_phase if max_phase is None else max_phase
    shapes = settings.shapes if shapes is None else shapes
    strains = settings.strains if strains is None else strains
    rng = np.random.default_rng(seed)
    amps, phases, params = [], [], []
    for _ in range(n):
        amp, info = crystal_shape(rng, str(rng.choice(shapes)), settings=settings)
        uy, ux, kind = displacement(rng, amp, str(rng.choice(strains)))
        peak = float(rng.uniform(*max_phase))
        phase = strain_phase(amp, uy, ux, rng.uniform(0, 2 * np.pi), peak)
        gradient, angle, offset = 0.0, 0.0, 0.0
        if settings.ramp != (0.0, 0.0):
            gradient, angle = float(rng.uniform(*settings.ramp)), float(rng.uniform(0, 2 * np.pi))
            phase = phase + linear_ramp(gradient, angle)
        if settings.offset:
            offset = float(rng.uniform(-np.pi, np.pi))
            phase = phase + offset
        if settings.wrap:
            phase = np.angle(np.exp(1j * phase))
        phase = np.where(amp > 0, phase, 0.0)
        amps.append(amp)
        phases.append(phase)
        params.append(
            {
                **info,
                "strain": kind,
                "max_phase": round(peak, 4),
                "ramp": round(gradient, 4),
                "ramp_angle": round(angle, 4),
                "offset": round(offset, 4),
                "support_px": int((amp > 0.5).sum()),
            }
        )
    amplitude = np.stack(amps)
    phase = np.stack(phases)
    intensity = far_field(amplitude * np.exp(1j * phase))
    return CDIBatch(intensity=intensity, amplitude=amplitude, phase=phase, params=params)
