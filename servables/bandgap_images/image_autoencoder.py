"""A small convolutional autoencoder of sample images (Keras 3), after Stein et al. 2019.

The encoder takes a ``size`` x ``size`` RGB image with 8-bit values (0-255;
the model rescales), averages 2x2 pixels (film images are smooth colour fields;
the finest detail is shot noise, which no code can keep), two strided
convolutions halve the resolution twice more, and a dense layer gives a
``latent_dim`` code.  The decoder mirrors it (upsampling and convolutions) and
ends with a bilinear upsampling back to ``size`` x ``size`` with values in
[0, 1].  The published model has two outputs, the reconstruction and the
latent code, so one run gives both (the notebook's t-SNE map of the latent
space comes from the second).  Training runs on CPU: small images, Adam with a
cosine-decaying step, fixed seeds.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np


def _keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    return keras


def build(size: int = 32, latent_dim: int = 8, width: int = 16) -> tuple[Any, Any]:
    """The autoencoder (image -> reconstruction) and the served model (image -> [reconstruction, latent])."""
    keras = _keras()
    layers = keras.layers
    if size % 8:
        raise ValueError(f"size must be a multiple of 8 (three halvings); got {size}")
    inputs = keras.Input((size, size, 3), name="image")
    x = layers.Rescaling(1.0 / 255.0, name="to_unit")(inputs)
    x = layers.AveragePooling2D(2, name="enc_pool")(x)
    x = layers.Conv2D(width, 3, strides=2, padding="same", activation="relu", name="enc_conv1")(x)
    x = layers.Conv2D(2 * width, 3, strides=2, padding="same", activation="relu", name="enc_conv2")(x)
    x = layers.Flatten(name="enc_flat")(x)
    latent = layers.Dense(latent_dim, name="latent")(x)
    q = size // 8
    y = layers.Dense(q * q * 2 * width, activation="relu", name="dec_dense")(latent)
    y = layers.Reshape((q, q, 2 * width), name="dec_reshape")(y)
    y = layers.UpSampling2D(2, name="dec_up1")(y)
    y = layers.Conv2D(2 * width, 3, padding="same", activation="relu", name="dec_conv1")(y)
    y = layers.UpSampling2D(2, name="dec_up2")(y)
    y = layers.Conv2D(width, 3, padding="same", activation="relu", name="dec_conv2")(y)
    y = layers.Conv2D(3, 3, padding="same", activation="sigmoid", name="dec_rgb")(y)
    recon = layers.UpSampling2D(2, interpolation="bilinear", name="reconstruction")(y)
    autoencoder = keras.Model(inputs, recon, name="bandgap_image_autoencoder")
    served = keras.Model(inputs, [recon, latent], name="bandgap_image_autoencoder")
    return autoencoder, served


def train(
    images: np.ndarray,
    latent_dim: int = 8,
    epochs: int = 30,
    batch_size: int = 16,
    seed: int = 0,
    validation: np.ndarray | None = None,
    learning_rate: float = 3e-3,
) -> tuple[Any, dict[str, list[float]]]:
    """Train on ``images`` (``(n, size, size, 3)`` uint8); returns the served model and its history."""
    keras = _keras()
    keras.utils.set_random_seed(seed)
    size = int(images.shape[1])
    autoencoder, served = build(size, latent_dim)
    steps = max(1, epochs * int(np.ceil(len(images) / batch_size)))
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.05)
    autoencoder.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    x = np.asarray(images, dtype="float32")
    val = None
    if validation is not None and len(validation):
        v = np.asarray(validation, dtype="float32")
        val = (v, v / 255.0)
    history = autoencoder.fit(
        x, x / 255.0, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0, validation_data=val
    )
    return served, {k: [float(v) for v in vals] for k, vals in history.history.items()}


def reconstruction_error(images: np.ndarray, reconstructions: np.ndarray) -> float:
    """Root-mean-square error of reconstructions (values in [0, 1]) in 8-bit units (0-255)."""
    original = np.asarray(images, dtype=float) / 255.0
    return float(np.sqrt(np.mean((original - np.asarray(reconstructions, dtype=float)) ** 2)) * 255.0)
