"""A colour-clustering band-gap model (scikit-learn): images in, band gaps out.

The colour of a film in transmitted light says where its absorption starts:
light above the gap is absorbed, so a 2.4 eV film looks yellow, a 2.0 eV one
red, one below ~1.7 eV (all visible light absorbed) dark, and one above ~3.1 eV
colourless.  The model reads each image's mean colour in CIELAB (lightness L*,
red-green a*, yellow-blue b*, plus the chroma), groups the training images into
``n_clusters`` colour clusters with k-means, and predicts for a new image the
median band gap of the training images in its cluster.  Colour cannot tell
apart gaps that all look black (below the visible) or all look clear (above
it); the clusters' spread (``cluster_spread_``) says how sure each cluster is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

from . import cie_colour

FEATURES = ("L*", "a*", "b*", "chroma", "L*_std")


def _as_images(x: Any) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim == 3:
        a = a[None]
    if a.ndim != 4 or a.shape[-1] != 3:
        raise ValueError(f"images must have shape (n, height, width, 3) (8-bit sRGB); got {a.shape}")
    return a


class MeanColour(TransformerMixin, BaseEstimator):
    """Images (``(n, h, w, 3)``, 8-bit sRGB values) -> their mean colour in CIELAB and its spread."""

    def fit(self, X: Any, y: Any = None) -> MeanColour:
        _as_images(X)
        return self

    def transform(self, X: Any) -> np.ndarray:
        images = _as_images(X).astype(float) / 255.0
        linear = cie_colour.srgb_decode(images)
        lab_pixels = cie_colour.xyz_to_lab(cie_colour.linear_srgb_to_xyz(linear))
        mean_lab = cie_colour.xyz_to_lab(cie_colour.linear_srgb_to_xyz(linear.mean(axis=(1, 2))))
        chroma = np.hypot(mean_lab[:, 1], mean_lab[:, 2])
        spread = lab_pixels[..., 0].std(axis=(1, 2))
        return np.column_stack([mean_lab, chroma, spread])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array(FEATURES)


class ColourClusterRegressor(RegressorMixin, BaseEstimator):
    """k-means clusters of colour features; a cluster predicts the median band gap of its members."""

    def __init__(self, n_clusters: int = 12, random_state: int = 0) -> None:
        self.n_clusters = n_clusters
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> ColourClusterRegressor:
        x = np.asarray(X, dtype=float)
        gaps = np.asarray(y, dtype=float)
        k = min(self.n_clusters, len(x))
        self.scaler_ = StandardScaler().fit(x)
        self.kmeans_ = KMeans(n_clusters=k, n_init=10, random_state=self.random_state).fit(
            self.scaler_.transform(x)
        )
        labels = self.kmeans_.labels_
        self.cluster_gap_ = np.array([np.median(gaps[labels == c]) for c in range(k)])
        self.cluster_spread_ = np.array(
            [np.median(np.abs(gaps[labels == c] - self.cluster_gap_[c])) for c in range(k)]
        )
        self.cluster_size_ = np.bincount(labels, minlength=k)
        self.n_features_in_ = x.shape[1]
        return self

    def cluster_of(self, X: Any) -> np.ndarray:
        """The colour cluster of each sample."""
        return self.kmeans_.predict(self.scaler_.transform(np.asarray(X, dtype=float)))

    def predict(self, X: Any) -> np.ndarray:
        return self.cluster_gap_[self.cluster_of(X)]


def make_model(n_clusters: int = 12, seed: int = 0) -> Any:
    """The servable's pipeline: mean colour -> colour clusters -> band gap (eV)."""
    from sklearn.pipeline import Pipeline

    return Pipeline(
        [
            ("colour", MeanColour()),
            ("clusters", ColourClusterRegressor(n_clusters=n_clusters, random_state=seed)),
        ]
    )
