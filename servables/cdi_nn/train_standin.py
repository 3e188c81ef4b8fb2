"""Train MatterHub's stand-in for the CDI_NN networks on the simulator.

The authors' networks (``structure_weights.hdf5``, ``phase_weights.hdf5``) are
not on every machine (Binder, a fresh install).  This trains a small
encoder-decoder on :func:`simulate.simulate` batches of the ``authors-train``
parameter set (crystals 15-23 px across, phase ramps up to 0.6 rad/px), with the
same input (``simulate.model_input``) and the same outputs as the authors' pair:
a 32x32 structure (amplitude in [0, 1]) and a 32x32 phase on the networks'
[0, 1] scale (``(phi + pi) / 2 pi``).  It is saved as two Keras 3 files that
share the encoder's weights, ``standin/structure.keras`` and
``standin/phase.keras``, plus ``standin/training.json`` (the sizes, seeds and
errors: ``validation`` on unseen crystals of the training range, ``held_out`` on
the ``authors-heldout`` range, 23-28 px and ramps of 0.6-0.9 rad/px, which
training never sees).

The loss is blind to what a diffraction pattern cannot tell: the twin image (a
pattern is the same for ``o(r)`` and ``conj(o(-r))``, so each sample is scored
against whichever of the two its prediction is closer to), a global phase
offset, and whole turns of the phase (phases wrap over -pi..pi).

Usage::

    python -m servables.cdi_nn.train_standin [--full] [--n N] [--epochs E] [--seed 0] [--out DIR]

The defaults (:data:`QUICK`: 12,000 patterns, 12 epochs) are what the committed files
were trained with, 1,012 s (17 minutes) on two CPU cores shared with other work;
``--full`` trains the full-size stand-in (:data:`FULL`: 40,000 patterns, 30 epochs),
hours on such a machine.
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
#: Seed of the validation batch (the training range, never trained on).
VALIDATION_SEED = 10_000
#: Seed of the held-out batch (the held-out range: sizes and ramps training never sees).
HELD_OUT_SEED = 20_000
#: The parameter sets trained on and held out (see :data:`simulate.PARAMETER_SETS`).
TRAINING_SET = "authors-train"
HELD_OUT_SET = "authors-heldout"
#: Weight of the phase term of the loss (``1 - |mean exp(i dphi)|``, about half the squared error in rad^2).
PHASE_WEIGHT = 1.0
#: ``(patterns, epochs)``: the committed stand-in's training (see the module text for its time),
#: and the full-size one (``--full``).
QUICK = (12_000, 12)
FULL = (40_000, 30)


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
    :data:`PHASE_WEIGHT` times ``1 - |sum a exp(i dphi)| / sum a``, where ``dphi``
    is the phase difference and ``a`` the true amplitude (outside the crystal the
    phase means nothing).  That phase term is blind to a global offset and to whole
    turns (0 and 1 on the networks' scale are the same phase); for small errors it
    is half their variance in rad^2.
    """
    ops = _keras().ops

    def loss(t: Any) -> Any:
        a, p = t[..., 0], t[..., 1]
        da = ops.mean(ops.square(y_pred[..., 0] - a), axis=(1, 2))
        turn = 2 * np.pi * (y_pred[..., 1] - p)
        c, s = ops.sum(a * ops.cos(turn), axis=(1, 2)), ops.sum(a * ops.sin(turn), axis=(1, 2))
        dp = 1.0 - ops.sqrt(ops.square(c) + ops.square(s) + 1e-12) / (ops.sum(a, axis=(1, 2)) + 1e-6)
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
    n: int = QUICK[0],
    epochs: int = QUICK[1],
    seed: int = 0,
    out: Path | None = STANDIN_DIR,
    n_validation: int = 256,
    verbose: int = 2,
) -> dict[str, Any]:
    """Train on ``n`` simulated samples of :data:`TRAINING_SET` (seed ``seed``); save to ``out`` (unless None).

    Returns the training report: sizes, seconds, the final loss, the errors on
    unseen crystals of the training range (``validation``) and on the held-out
    range (``held_out``, :data:`HELD_OUT_SET`), also written to ``out/training.json``.
    """
    keras = _keras()
    start = time.perf_counter()
    data = simulate.simulate(n, seed=seed, settings=TRAINING_SET)
    validation = simulate.simulate(n_validation, seed=VALIDATION_SEED, settings=TRAINING_SET)
    held_out = simulate.simulate(n_validation, seed=HELD_OUT_SEED, settings=HELD_OUT_SET)
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
        "settings": TRAINING_SET,
        "held_out_settings": HELD_OUT_SET,
        "validation_seed": VALIDATION_SEED,
        "held_out_seed": HELD_OUT_SEED,
        "n_validation": n_validation,
        "parameters": int(joint.count_params()),
        "input_scale": simulate.MODEL_INPUT_SCALE,
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "final_loss": float(history.history["loss"][-1]),
        "seconds": round(time.perf_counter() - start, 1),
        "validation": evaluate(structure, phase, validation),
        "held_out": evaluate(structure, phase, held_out),
    }
    if out is not None:
        save(structure, phase, out)
        (out / "training.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--full", action="store_true", help=f"full size: {FULL[0]:,} patterns, {FULL[1]} epochs"
    )
    parser.add_argument("--n", type=int, default=None, help=f"training samples (default {QUICK[0]:,})")
    parser.add_argument("--epochs", type=int, default=None, help=f"default {QUICK[1]}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=STANDIN_DIR)
    args = parser.parse_args()
    n, epochs = FULL if args.full else QUICK
    report = train(args.n or n, args.epochs or epochs, args.seed, args.out)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
