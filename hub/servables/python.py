"""Python callables as servables.

The signature and type hints give the schema: the parameters without a default
are the input (one parameter: its value; several: a dict of them), those with a
default are keyword parameters.  The numpy-style docstring gives descriptions.
The function is written with cloudpickle (by value when it comes from the
user's own code), with its source beside it for people.
"""

from __future__ import annotations

import inspect
import json
import linecache
import typing
from pathlib import Path
from typing import Any

from hub.exceptions import ValidationError
from hub.servables import pickling
from hub.servables.base import Runner, ServableType, TypeDescription
from hub.servables.requirements import by_value_modules, referenced_modules
from hub.servables.schema import ArgSpec, from_annotation, parse_docstring


def _target(fn: Any) -> Any:
    """The function whose signature and hints describe ``fn`` (a callable object's ``__call__``)."""
    if inspect.isfunction(fn) or inspect.ismethod(fn) or inspect.isbuiltin(fn):
        return fn
    call = type(fn).__dict__.get("__call__") if not isinstance(fn, type) else None
    return call if call is not None else fn


def _signature(fn: Any) -> inspect.Signature:
    """The signature with string annotations (``from __future__ import annotations``) evaluated."""
    try:
        return inspect.signature(fn, eval_str=True)
    except Exception:
        return inspect.signature(fn)


def _hint_modules(hint: Any) -> set[str]:
    """Modules of the classes a type hint names (``np.ndarray`` -> numpy)."""
    found: set[str] = set()
    stack = [hint]
    while stack:
        h = stack.pop()
        origin = typing.get_origin(h)
        if isinstance(h, type) and h.__module__ != "builtins":
            found.add(h.__module__)
        if isinstance(origin, type) and origin.__module__ != "builtins":
            found.add(origin.__module__)
        stack += [a for a in typing.get_args(h) if not isinstance(a, str | int | float | tuple)]
    return found


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return None
    return value


class PythonServable(ServableType):
    """The ``python`` servable type: a function or callable object, described by its signature.

    See the module docs for how the signature, type hints and docstring become the schema.
    """

    name = "python"
    description = "A Python function (or callable object) with type hints"
    shim = "python.PythonStaticMethodServable"
    priority = 90

    def can_describe(self, obj: Any) -> bool:
        """Whether ``obj`` is callable and not a class."""
        return callable(obj) and not isinstance(obj, type)

    def describe(self, obj: Any, source: Path | None, options: dict[str, Any]) -> TypeDescription:
        """The callable's input, output and keyword parameters, from its signature, hints and docstring.

        The positional parameters without a default are the input (one: its value, the
        call style ``single``; several: a dict of them, ``kwargs``; none: ``none``); those
        with a default are parameters, their defaults kept when JSON can hold them.  The
        modules it references and those of its type hints are listed.  ``source`` and
        ``options`` are not used.

        Raises
        ------
        ValidationError
            When the signature cannot be read, or a keyword-only parameter has no default.
        """
        try:
            sig = _signature(obj)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"cannot read the signature of {obj!r}: {exc}") from None
        target = _target(obj)
        try:
            hints = typing.get_type_hints(target, include_extras=True)
        except Exception:
            hints = {}
        summary, param_docs, returns_doc = parse_docstring(inspect.getdoc(target))
        required: list[str] = []
        params: dict[str, ArgSpec] = {}
        for p in sig.parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            spec = from_annotation(hints.get(p.name, inspect.Parameter.empty), param_docs.get(p.name, ""))
            if p.default is p.empty and p.kind is not p.KEYWORD_ONLY:
                required.append(p.name)
                params.setdefault(p.name, spec)
            elif p.default is p.empty:
                raise ValidationError(f"keyword-only parameter {p.name!r} of {obj!r} needs a default")
            else:
                params[p.name] = spec.model_copy(
                    update={"default": _jsonable(p.default), "nullable": spec.nullable or p.default is None}
                )
        if len(required) == 1:
            call, inp = "single", params.pop(required[0])
        elif required:
            call = "kwargs"
            inp = ArgSpec(type="dict", properties={n: params.pop(n) for n in required}, required=required)
        else:
            call, inp = "none", ArgSpec(type="unknown", nullable=True, description="ignored: takes no input")
        out = from_annotation(hints.get("return", inspect.Parameter.empty), returns_doc)
        qualname = getattr(obj, "__qualname__", type(obj).__qualname__)
        module = getattr(obj, "__module__", type(obj).__module__) or "__main__"
        return TypeDescription(
            model_type=f"{module}.{qualname}",
            model_summary=f"{qualname}{sig}",
            input=inp,
            output=out,
            parameters=params,
            method_details={"method_name": qualname, "call": call},
            options={"call": call, "input_names": required},
            requirements=["cloudpickle"],
            modules=sorted(referenced_modules(obj).union(*(_hint_modules(h) for h in hints.values()))),
            summary=summary,
            resource_type="Software",
        )

    def package(self, obj: Any, source: Path | None, dest: Path) -> dict[str, Any]:
        """Pickle the callable to ``function.pkl`` (the user's own modules by value), with its source.

        Returns ``{"model": "function.pkl"}``, plus ``source`` (``source.py``, the
        callable's code) and ``module_source`` (``module_source.py``, the whole module
        when it was pickled by value, for tracebacks) when the source can be read.
        """
        modules = referenced_modules(obj)
        pickling.dump(obj, dest / "function.pkl", by_value=by_value_modules(modules))
        files: dict[str, Any] = {"model": "function.pkl"}
        try:
            (dest / "source.py").write_text(inspect.getsource(_target(obj)))
            files["source"] = "source.py"
            module = inspect.getmodule(_target(obj))
            if module is not None and module.__name__ in by_value_modules([module.__name__]):
                # cloudpickle names by-value code "<dynamic-code>" (keeping line numbers): with the
                # module's source, the worker's tracebacks show the servable's lines
                (dest / "module_source.py").write_text(inspect.getsource(module))
                files["module_source"] = "module_source.py"
        except (OSError, TypeError):
            pass
        return files

    def load(self, root: Path, files: dict[str, Any], options: dict[str, Any]) -> Runner:
        """A runner calling the unpickled callable in the call style ``describe`` chose.

        ``single``: ``fn(inputs, **parameters)``; ``kwargs``: ``fn(**inputs, **parameters)``;
        ``none``: ``fn(**parameters)``.  With the module's source shipped, tracebacks show
        the servable's lines.
        """
        fn = pickling.load(root / files["model"])
        call = options.get("call", "single")
        lines: list[str] | None = None
        if files.get("module_source") and (root / files["module_source"]).is_file():
            lines = (root / files["module_source"]).read_text().splitlines(keepends=True)

        def run(x: Any, params: dict[str, Any]) -> Any:
            if lines is not None:
                filename = getattr(getattr(fn, "__code__", None), "co_filename", "<dynamic-code>")
                linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)
            if call == "kwargs":
                return fn(**x, **params)
            if call == "none":
                return fn(**params)
            return fn(x, **params)

        return Runner(run)
