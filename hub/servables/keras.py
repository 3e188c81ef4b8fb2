"""Keras servables: Keras 3 models (``.keras``) and Keras 2 HDF5 files.

Keras runs on JAX unless the user chose a backend (``KERAS_BACKEND``).  HDF5
files from Keras 2 load with ``compile=False``; a file a model came from is
stored as it is (its bytes are the published model).

Loading skips the random initialisation of weights that the file then
overwrites: with JAX, initialising a Keras 2.1 model's conv layers compiles one
XLA program per shape (about 11 s for the CDI models on 2 cores) for values
that are thrown away; with the initialisers replaced by zeros the same load
takes about half a second, and the outputs are identical.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from hub.servables.base import Runner, ServableType, TypeDescription
from hub.servables.schema import ArgSpec

_ITEM_OF_KIND = {"f": "float", "i": "integer", "u": "integer", "b": "boolean", "c": "complex"}
_H5 = (".h5", ".hdf5")
_BACKEND_DISTS = {"jax": ["jax", "jaxlib"], "tensorflow": ["tensorflow"], "torch": ["torch"], "numpy": []}


def import_keras() -> Any:
    """``keras``, with the JAX backend unless ``KERAS_BACKEND`` says otherwise."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    return keras


def _initializer_names(config: Any) -> set[str]:
    found: set[str] = set()

    def walk(o: Any) -> None:
        if isinstance(o, dict):
            for k, v in o.items():
                if k.endswith("initializer") and isinstance(v, dict) and "class_name" in v:
                    found.add(str(v["class_name"]))
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)

    walk(config)
    return found


def _model_config(path: Path) -> Any:
    try:
        if path.suffix.lower() in _H5:
            import h5py

            with h5py.File(path, "r") as f:
                raw = f.attrs.get("model_config")
            if raw is None:
                return None
            return json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        with zipfile.ZipFile(path) as z:
            return json.loads(z.read("config.json"))
    except Exception:
        return None


def load_model(path: Path) -> Any:
    """Load a ``.keras`` or Keras 2 HDF5 file (``compile=False``), skipping throw-away initialisation."""
    keras = import_keras()

    class _SkipInit(keras.initializers.Initializer):  # type: ignore[misc, name-defined]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def __call__(self, shape: Any, dtype: Any = None) -> Any:
            return keras.ops.zeros(shape, dtype=dtype)

        def get_config(self) -> dict[str, Any]:
            return {}

    names = _initializer_names(_model_config(path))
    custom = {n: _SkipInit for n in names}
    # safe_mode=True (explicit: it also holds after code in this worker called
    # keras.config.enable_unsafe_deserialization()): no Lambda bytecode is ever loaded
    try:
        return keras.saving.load_model(path, compile=False, custom_objects=custom, safe_mode=True)
    except Exception:
        if not custom:
            raise
        return keras.saving.load_model(path, compile=False, safe_mode=True)  # the plain way, slower


def _spec(tensors: list[Any], what: str) -> ArgSpec:
    specs = []
    for t in tensors:
        dtype = np.dtype(str(getattr(t, "dtype", "float32")))
        shape = [None if d is None else int(d) for d in t.shape]
        name = getattr(t, "name", "") or ""
        specs.append(
            ArgSpec.ndarray(
                shape,
                _ITEM_OF_KIND.get(dtype.kind, "float"),
                dtype=dtype.name,
                description=f"{what} {name}".strip(),
            )
        )
    if len(specs) == 1:
        return specs[0]
    return ArgSpec(type="tuple", element_types=specs, description=f"the model's {len(specs)} {what}s")


class KerasServable(ServableType):
    """The ``keras`` servable type: a Keras 3 model, or a Keras 2 HDF5 model file.

    Runs call the model's ``predict`` (batchable: stacked inputs run as one call), with
    the parameter ``batch_size`` (default 32).
    """

    name = "keras"
    description = "A Keras 3 model (.keras) or a Keras 2 HDF5 model"
    shim = "keras.KerasServable"
    imports = ("keras",)
    extra = "models"
    suffixes = (".keras", ".h5", ".hdf5")
    priority = 20

    def can_describe(self, obj: Any) -> bool:
        """Whether ``obj`` is a ``keras.Model`` (False, without importing Keras, when nothing imported it)."""
        if "keras" not in sys.modules:
            return False
        import keras

        return isinstance(obj, keras.Model)

    def open(self, path: Path) -> Any:
        """The model in a ``.keras``, ``.h5`` or ``.hdf5`` file (see :func:`load_model`)."""
        return load_model(path)

    def describe(self, obj: Any, source: Path | None, options: dict[str, Any]) -> TypeDescription:
        """The model's class, size and layer summary, and ndarray schemas of its inputs and outputs.

        Several inputs or outputs become a ``tuple`` schema.  The options record the Keras
        backend, the file format (``h5`` or ``keras``), the Keras version and the parameter
        count; the requirements add the backend's distributions (``jax``, ``jaxlib``, ...).
        ``options`` is not used.
        """
        keras = import_keras()
        lines: list[str] = []
        obj.summary(print_fn=lambda line, *a, **k: lines.append(line))
        backend = keras.backend.backend()
        fmt = "h5" if source is not None and source.suffix.lower() in _H5 else "keras"
        reqs = ["keras", "numpy", "h5py", "ml-dtypes", *_BACKEND_DISTS.get(backend, [])]
        return TypeDescription(
            model_type=f"{type(obj).__name__} ({obj.name}, {len(obj.layers)} layers, {obj.count_params():,} parameters)",
            model_summary="\n".join(lines),
            input=_spec(list(obj.inputs), "input"),
            output=_spec(list(obj.outputs), "output"),
            parameters={
                "batch_size": ArgSpec.scalar("integer", default=32, description="inputs per predict step")
            },
            method_details={"method_name": "predict"},
            options={
                "backend": backend,
                "format": fmt,
                "keras_version": keras.__version__,
                "parameters": int(obj.count_params()),
            },
            requirements=reqs,
            modules=["keras"],
        )

    def package(self, obj: Any, source: Path | None, dest: Path) -> dict[str, Any]:
        """Copy the source file as it is (its bytes are the published model), else save ``model.keras``.

        Returns ``{"model": <file name in dest>}``.
        """
        if source is not None and source.suffix.lower() in self.suffixes:
            target = dest / f"model{source.suffix.lower()}"
            shutil.copyfile(source, target)
        else:
            target = dest / "model.keras"
            obj.save(target)
        return {"model": target.name}

    def load(self, root: Path, files: dict[str, Any], options: dict[str, Any]) -> Runner:
        """A batchable runner calling ``model.predict`` (a tuple of inputs is passed as a list)."""
        model = load_model(root / files["model"])

        def run(x: Any, params: dict[str, Any]) -> Any:
            if isinstance(x, tuple):
                x = list(x)
            return model.predict(x, verbose=0, batch_size=params.get("batch_size", 32))

        return Runner(run, batchable=True)
