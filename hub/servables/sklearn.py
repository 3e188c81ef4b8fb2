"""scikit-learn servables: fitted estimators and pipelines.

Described from the fitted object: the class (a pipeline's steps), its repr,
``n_features_in_``, ``feature_names_in_`` (inputs are given to the model as a
DataFrame with those names, so it sees what it was fitted on) and ``classes_``.
Written with cloudpickle (custom transformers from the user's own modules go in
by value); run with ``predict`` or the method chosen at describe time.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from hub.exceptions import ValidationError
from hub.servables import pickling
from hub.servables.base import Runner, ServableType, TypeDescription
from hub.servables.requirements import by_value_modules
from hub.servables.schema import ArgSpec

_ITEM_OF_KIND = {"f": "float", "i": "integer", "u": "integer", "b": "boolean", "U": "string", "O": "string"}
_METHODS = (
    "predict",
    "predict_proba",
    "predict_log_proba",
    "decision_function",
    "transform",
    "score_samples",
)


def _components(est: Any) -> list[Any]:
    """The estimator and every estimator nested in it (pipeline steps, meta-estimators)."""
    from sklearn.base import BaseEstimator

    out = [est]
    try:
        params = est.get_params(deep=True)
    except Exception:
        return out
    out += [v for v in params.values() if isinstance(v, BaseEstimator)]
    return out


def _model_type(est: Any) -> str:
    steps = getattr(est, "steps", None)
    if steps:
        return f"{type(est).__name__}({' → '.join(type(s).__name__ for _, s in steps if s not in (None, 'passthrough'))})"
    return type(est).__name__


class SklearnServable(ServableType):
    """The ``sklearn`` servable type: a fitted scikit-learn estimator or pipeline (see the module docs)."""

    name = "sklearn"
    description = "A fitted scikit-learn estimator or pipeline"
    shim = "sklearn.ScikitLearnServable"
    imports = ("sklearn",)
    extra = "models"
    suffixes = (".joblib", ".pkl", ".pickle")
    priority = 10

    def can_describe(self, obj: Any) -> bool:
        """Whether ``obj`` is a scikit-learn estimator (False, without importing it, when nothing did)."""
        if "sklearn" not in sys.modules:
            return False
        from sklearn.base import BaseEstimator

        return isinstance(obj, BaseEstimator)

    def open(self, path: Path) -> Any:
        """The estimator in a ``.joblib``, ``.pkl`` or ``.pickle`` file, loaded with joblib.

        Loading a pickle runs whatever code it names: open only files you trust.
        """
        import joblib

        return joblib.load(path)

    def describe(self, obj: Any, source: Path | None, options: dict[str, Any]) -> TypeDescription:
        """The fitted estimator's class, repr, input width and feature names, and output schema.

        The method runs call is ``options["method"]``, else ``predict`` when the estimator
        has one, else ``transform``.  The input is an ndarray of ``n_features_in_`` columns
        when that is known; the output follows the method and ``classes_``.

        Raises
        ------
        ValidationError
            When the estimator is not fitted, or lacks the chosen method.
        """
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        try:
            check_is_fitted(obj)
        except NotFittedError:
            raise ValidationError(
                f"the {type(obj).__name__} is not fitted: call fit() before describing it"
            ) from None
        method = options.get("method") or ("predict" if hasattr(obj, "predict") else "transform")
        if method not in _METHODS or not hasattr(obj, method):
            have = [m for m in _METHODS if hasattr(obj, m)]
            raise ValidationError(f"{type(obj).__name__} has no method {method!r}; it has {', '.join(have)}")
        n_features = getattr(obj, "n_features_in_", None)
        names = getattr(obj, "feature_names_in_", None)
        names = [str(n) for n in names] if names is not None else None
        if n_features:
            desc = f"{n_features} features" + (": " + ", ".join(names) if names else "")
            inp = ArgSpec.ndarray([None, int(n_features)], "float", description=desc)
        else:  # e.g. a pipeline whose first step featurizes strings: say what it takes with inputs=
            inp = ArgSpec(type="unknown", description=f"what {type(obj).__name__}.{method} accepts")
        classes = getattr(obj, "classes_", None)
        out = self._output(obj, method, classes)
        modules = sorted({type(c).__module__ for c in _components(obj)})
        reqs = ["scikit-learn", "numpy", "scipy", "joblib", "threadpoolctl", "cloudpickle"]
        if names:
            reqs.append("pandas")
        opts: dict[str, Any] = {"method": method, "feature_names": names}
        if classes is not None:
            opts["classes"] = np.asarray(classes).tolist()
        return TypeDescription(
            model_type=_model_type(obj),
            model_summary=repr(obj)[:5000],
            input=inp,
            output=out,
            method_details={"method_name": method},
            options=opts,
            requirements=reqs,
            modules=modules,
        )

    @staticmethod
    def _output(obj: Any, method: str, classes: Any) -> ArgSpec:
        if method == "predict":
            if classes is not None:
                kind = np.asarray(classes).dtype.kind
                return ArgSpec.ndarray(
                    [None],
                    _ITEM_OF_KIND.get(kind, "python object"),
                    description=f"the predicted class, one of {np.asarray(classes).tolist()[:20]}",
                )
            n_out = getattr(obj, "n_outputs_", None)
            coef = getattr(obj, "coef_", None)
            if n_out is None and isinstance(coef, np.ndarray) and coef.ndim == 2:
                n_out = coef.shape[0]
            n_out = n_out or 1
            shape: list[int | None] = [None] if n_out == 1 else [None, int(n_out)]
            return ArgSpec.ndarray(shape, "float", description="the predicted value(s)")
        if method in ("predict_proba", "predict_log_proba", "decision_function") and classes is not None:
            n = len(classes)
            shape = [None, n] if (method != "decision_function" or n > 2) else [None]
            return ArgSpec.ndarray(
                shape, "float", description=f"one column per class {np.asarray(classes).tolist()[:20]}"
            )
        return ArgSpec.ndarray(None, "float")

    def package(self, obj: Any, source: Path | None, dest: Path) -> dict[str, Any]:
        """Pickle the estimator to ``model.pkl`` (custom components from the user's modules by value).

        Returns ``{"model": "model.pkl"}``.
        """
        modules = {type(c).__module__ for c in _components(obj)}
        pickling.dump(obj, dest / "model.pkl", by_value=by_value_modules(modules))
        return {"model": "model.pkl"}

    def load(self, root: Path, files: dict[str, Any], options: dict[str, Any]) -> Runner:
        """A batchable runner calling the chosen method with the run's parameters as keywords.

        With feature names recorded, a 2-d ndarray input is given as a DataFrame with
        those column names.
        """
        model = pickling.load(root / files["model"])
        call = getattr(model, options.get("method") or "predict")
        names = options.get("feature_names")
        if names:
            import pandas as pd

            def run(x: Any, params: dict[str, Any]) -> Any:
                if isinstance(x, np.ndarray) and x.ndim == 2:
                    x = pd.DataFrame(x, columns=names)
                return call(x, **params)

            return Runner(run, batchable=True)
        return Runner(lambda x, params: call(x, **params), batchable=True)
