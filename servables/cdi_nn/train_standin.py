"""Train MatterHub's stand-in for the CDI_NN networks on the simulator.

The authors' networks (``structure_weights.hdf5``, ``phase_weights.hdf5``) are
not on every machine (Binder, a fresh install), and on this project's simulator
they recover the size and position of a crystal but not its shape or phase
(see the README of this folder).  This trains a small encoder-decoder on
:func:`simulate.simulate` batches, with the same input (``simulate.model_input``)
and the same outputs as the authors' pair: a 32x32 structure (amplitude in
[0, 1]) and a 32x32 phase on the networks' [0, 1] scale (``(phi + pi) / 2 pi``).
It is saved as two Keras 3 files that share the encoder's weights,
``standin/structure.keras`` and ``standin/phase.keras``, plus ``standin/training.json``
(the sizes, seeds and held-out errors).

The loss is blind to the twin image: a pattern is the same for ``o(r)`` and
``conj(o(-r))``, so each sample is scored against whichever of the two its
prediction is closer to.

Usage::

    python -m servables.cdi_nn.train_standin [--n 10000] [--epochs 10] [--seed 0] [--out DIR]

Takes about 15 minutes on two busy CPU cores with the defaults (the committed files took 874 s).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import metrics, simulate

HERE = Path(__file__).resolve().parent

#: Where the trained stand-in lives (committed: it is small, and training takes minutes).
STANDIN_DIR = HERE / "standin"
#: Seed of the held-out batch the training report is computed on (never trained on).
VALIDATION_SEED = 10_000
#: Weight of the phase term of the loss (phases on the [0, 1] scale are small numbers).
PHASE_WEIGHT = 4.0


def _keras() -> Any:
    from hub.servables.keras import import_keras

    return import_keras()


def build(seed: int = 0, initializer: str = "glorot_uniform") -> tuple[Any, Any, Any]:
    """``(joint, structure, phase)``: the two-headed training model and its two single-output views.

    About 300,000 parameters, most in a dense bottleneck (the inverse Fourier
    transform is global); the convolutions are kept narrow at 32x32, where
    they cost the most: one conv per scale down to 4x4x64, the bottleneck,
    one conv per scale back up to 32x32.  ``initializer`` is that of every
    kernel (:func:`save` builds a ``zeros`` copy to hold trained weights).
    """
    keras = _keras()
    layers = keras.layers
    keras.utils.set_random_seed(seed)
    inp = keras.Input((simulate.SIZE, simulate.SIZE, 1), name="diffraction")
    x = layers.Rescaling(1.0 / 1000.0)(inp)
    for width in (16, 32, 64):
        x = layers.Conv2D(width, 3, padding="same", activation="relu", kernel_initializer=initializer)(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu", kernel_initializer=initializer)(x)
    x = layers.Dense(4 * 4 * 64, activation="relu", kernel_initializer=initializer)(x)
    x = layers.Reshape((4, 4, 64))(x)
    for width in (32, 16, 8):
        x = layers.UpSampling2D(2)(x)
        x = layers.Conv2D(width, 3, padding="same", activation="relu", kernel_initializer=initializer)(x)
    head = {"padding": "same", "activation": "sigmoid", "kernel_initializer": initializer}
    amp = layers.Conv2D(1, 3, name="structure", **head)(x)
    phase = layers.Conv2D(1, 3, name="phase", **head)(x)
    joint = keras.Model(inp, layers.Concatenate(name="object")([amp, phase]), name="cdi_standin")
    structure = keras.Model(inp, amp, name="cdi_standin_structure")
    phase_model = keras.Model(inp, phase, name="cdi_standin_phase")
    return joint, structure, phase_model


def targets(batch: simulate.CDIBatch) -> np.ndarray:
    """``(n, 32, 32, 2)``: the amplitude and the phase on the [0, 1] scale."""
    return np.stack([batch.amplitude, metrics.phase_to_unit(batch.phase)], axis=-1).astype(np.float32)


def twin_blind_loss(y_true: Any, y_pred: Any) -> Any:
    """Per sample, the smaller of the losses against the object and against its twin.

    Each loss is the mean squared amplitude error over the frame plus
    :data:`PHASE_WEIGHT` times the mean squared phase error over the crystal
    (weighted by the true amplitude; outside the crystal the phase means nothing).
    """
    ops = _keras().ops

    def loss(t: Any) -> Any:
        a, p = t[..., 0], t[..., 1]
        da = ops.mean(ops.square(y_pred[..., 0] - a), axis=(1, 2))
        dp = ops.sum(a * ops.square(y_pred[..., 1] - p), axis=(1, 2)) / (ops.sum(a, axis=(1, 2)) + 1e-6)
        return da + PHASE_WEIGHT * dp

    flipped = ops.roll(ops.flip(y_true, axis=(1, 2)), 1, axis=(1, 2))
    twin = ops.stack([flipped[..., 0], 1.0 - flipped[..., 1]], axis=-1)
    return ops.minimum(loss(y_true), loss(twin))


def save(structure: Any, phase: Any, out: Path) -> None:
    """Save the trained pair as ``out/structure.keras`` and ``out/phase.keras``.

    The files hold a copy built with ``zeros`` kernel initializers: loading a
    ``.keras`` file runs each layer's initializer before the saved weights
    overwrite it, and with JAX a random initializer compiles one XLA program per
    shape (about 25 s for this model on two busy cores, against 2 s with zeros).
    """
    _, serve_structure, serve_phase = build(initializer="zeros")
    serve_structure.set_weights(structure.get_weights())
    serve_phase.set_weights(phase.get_weights())
    out.mkdir(parents=True, exist_ok=True)
    serve_structure.save(out / "structure.keras")
    serve_phase.save(out / "phase.keras")


def evaluate(structure: Any, phase: Any, batch: simulate.CDIBatch) -> dict[str, float]:
    """Batch summary of :func:`metrics.reconstruction_errors` for a structure/phase pair."""
    x = simulate.model_input(batch.intensity)
    a = structure.predict(x, verbose=0)[..., 0]
    p = metrics.phase_from_unit(phase.predict(x, verbose=0)[..., 0])
    return metrics.summarize(metrics.reconstruction_errors(a, p, batch.amplitude, batch.phase))


def train(
    n: int = 10_000,
    epochs: int = 10,
    seed: int = 0,
    out: Path | None = STANDIN_DIR,
    n_validation: int = 256,
    verbose: int = 2,
) -> dict[str, Any]:
    """Train on ``n`` simulated samples (seed ``seed``); save to ``out`` (unless None).

    Returns the training report: sizes, seconds, the final loss and the
    held-out errors (``validation``), also written to ``out/training.json``.
    """
    keras = _keras()
    start = time.perf_counter()
    data = simulate.simulate(n, seed=seed)
    held_out = simulate.simulate(n_validation, seed=VALIDATION_SEED)
    joint, structure, phase = build(seed)
    joint.compile(optimizer=keras.optimizers.Adam(2e-3), loss=twin_blind_loss)
    history = joint.fit(
        simulate.model_input(data.intensity),
        targets(data),
        batch_size=64,
        epochs=epochs,
        shuffle=True,
        verbose=verbose,
        callbacks=[keras.callbacks.ReduceLROnPlateau("loss", factor=0.5, patience=2)],
    )
    report: dict[str, Any] = {
        "model": "MatterHub stand-in for CDI_NN (trained on the MatterHub CDI simulator, not the authors' data)",
        "n_train": n,
        "epochs": epochs,
        "seed": seed,
        "validation_seed": VALIDATION_SEED,
        "n_validation": n_validation,
        "parameters": int(joint.count_params()),
        "input_scale": simulate.MODEL_INPUT_SCALE,
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "final_loss": float(history.history["loss"][-1]),
        "seconds": round(time.perf_counter() - start, 1),
        "validation": evaluate(structure, phase, held_out),
    }
    if out is not None:
        save(structure, phase, out)
        (out / "training.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=10_000, help="training samples")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=STANDIN_DIR)
    args = parser.parse_args()
    report = train(args.n, args.epochs, args.seed, args.out)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
