"""Describing a model or function as a servable.

:func:`describe` takes a fitted scikit-learn estimator, a Keras model, a
Python callable, a model file (``.keras``, ``.h5``/``.hdf5``, ``.joblib``,
``.pkl``) or a DLHub document, asks the registered servable types which one
knows it, and returns a :class:`ServableDescription`: the metadata document
(DataCite + ``dlhub`` + ``servable`` blocks) plus what to package.  Nothing is
published until :meth:`ServableRegistry.publish
<hub.servables.published.ServableRegistry.publish>`.
"""

from __future__ import annotations

import getpass
import json
import os
import platform
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from hub.exceptions import InputValidationError, ValidationError
from hub.records.datacite import (
    DataCite,
    Description,
    RelatedIdentifier,
    ResourceType,
    Rights,
    Subject,
    Title,
    creators_from,
)
from hub.servables.base import ServableType, TypeDescription
from hub.servables.metadata import DLHubBlock, Limits, MethodSpec, ServableBlock, ServableMetadata
from hub.servables.record_input import RecordInput
from hub.servables.registry import get_type, servable_types
from hub.servables.requirements import distributions_of, pin, requirement_lines
from hub.servables.schema import ArgSpec, check_parameters

_DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)


@dataclass
class ServableDescription:
    """A described servable, ready to publish.

    ``metadata`` is the document (edit it freely before publishing);
    ``obj`` is the model or function in memory, ``source`` the file it came
    from (stored as it is), ``code`` and ``files`` are extra files packaged
    with it (``code/`` and ``files/`` in the artifact).
    """

    metadata: ServableMetadata
    obj: Any = None
    source: Path | None = None
    code: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The servable's name (``dlhub.name``; the id is ``owner/name`` once published)."""
        return self.metadata.dlhub.name

    @property
    def type(self) -> str:
        """The servable type plugin's name (``sklearn``, ``keras``, ``python``, ...)."""
        return self.metadata.servable.type

    @property
    def input(self) -> ArgSpec:
        """The run method's input schema."""
        return self.metadata.servable.run.input

    @property
    def output(self) -> ArgSpec:
        """The run method's output schema."""
        return self.metadata.servable.run.output

    @property
    def parameters(self) -> dict[str, ArgSpec]:
        """The run method's keyword parameters, by name."""
        return self.metadata.servable.run.parameters

    @property
    def requirements(self) -> list[str]:
        """The requirements workers need to run it (pinned, ``name==version``, when described here)."""
        return self.metadata.dlhub.requirements

    def json_schema(self) -> dict[str, Any]:
        """The input, output and parameters as JSON Schema."""
        return self.metadata.json_schema()

    def to_dict(self) -> dict[str, Any]:
        """The servable's JSON document, as the catalog would store it."""
        return self.metadata.to_document()

    def check(self, inputs: Any, parameters: Mapping[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Validate inputs and parameters as a run would (raises :class:`InputValidationError`)."""
        return self.input.check(inputs, "input"), check_parameters(self.parameters, parameters)

    def __repr__(self) -> str:
        run = self.metadata.servable.run
        return (
            f"<ServableDescription {self.name!r} ({self.type}: {self.metadata.servable.model_type}); "
            f"input: {run.input.describe()}; output: {run.output.describe()}>"
        )


def _default_name(obj: Any, source: Path | None) -> str:
    if source is not None:
        base = source.stem
    else:
        base = getattr(obj, "__name__", None) or getattr(obj, "name", None) or type(obj).__name__
    base = re.sub(r"[^A-Za-z0-9_.\-]+", "-", str(base)).strip("-._") or "servable"
    return base[:80]


def _default_author() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def related_identifiers(
    paper_doi: str | None, dois: Iterable[str], training_data: Iterable[str]
) -> list[RelatedIdentifier]:
    """The paper (``IsDescribedBy``), other DOIs (``References``) and training datasets (``IsDerivedFrom``)."""
    out = []
    if paper_doi:
        out.append(RelatedIdentifier(relatedIdentifier=_doi(paper_doi), relationType="IsDescribedBy"))
    for d in dois:
        out.append(RelatedIdentifier(relatedIdentifier=_doi(d), relationType="References"))
    for ds in training_data:
        m = _DOI.match(ds)
        if m:
            out.append(RelatedIdentifier(relatedIdentifier=m.group(1), relationType="IsDerivedFrom"))
        else:  # a hub dataset id (source_id)
            out.append(
                RelatedIdentifier(
                    relatedIdentifier=f"urn:matterhub:dataset:{ds}",
                    relatedIdentifierType="URN",
                    relationType="IsDerivedFrom",
                )
            )
    return out


def _doi(text: str) -> str:
    m = _DOI.match(text.strip())
    if not m:
        raise ValidationError(f"{text!r} is not a DOI; give it as 10.xxxx/... or https://doi.org/10.xxxx/...")
    return m.group(1)


def _pick_type(obj: Any, source: Path | None, type_name: str | None) -> ServableType:
    if type_name:
        plugin = get_type(type_name)
        plugin.require()
        return plugin
    for cls in servable_types().values():
        if not cls.available():
            continue
        plugin = cls()
        if source is not None and obj is None:
            if plugin.can_open(source):
                return plugin
        elif plugin.can_describe(obj):
            return plugin
    if source is not None and obj is None:
        suffixes = sorted({s for c in servable_types().values() for s in c.suffixes})
        raise ValidationError(
            f"no servable type publishes {source.name}: known model files end in {', '.join(suffixes)} "
            "(or describe the model object itself)"
        )
    raise ValidationError(
        f"no servable type knows a {type(obj).__module__}.{type(obj).__qualname__}; installed types: "
        f"{', '.join(servable_types())}. Give a fitted scikit-learn estimator, a Keras model, a Python "
        "callable or a model file."
    )


def describe(
    obj: Any,
    *,
    name: str | None = None,
    title: str | None = None,
    authors: Sequence[str | dict[str, Any]] | None = None,
    affiliations: Sequence[str] | None = None,
    description: str | None = None,
    paper_doi: str | None = None,
    dois: Sequence[str] = (),
    training_data: Sequence[str] = (),
    domains: Sequence[str] = (),
    visible_to: Sequence[str] | str | None = None,
    runnable_by: Sequence[str] | str | None = None,
    inputs: ArgSpec | dict[str, Any] | None = None,
    outputs: ArgSpec | dict[str, Any] | None = None,
    parameters: Mapping[str, ArgSpec | dict[str, Any]] | None = None,
    examples: Sequence[Any] = (),
    input_from_record: RecordInput | Mapping[str, Any] | None = None,
    method: str | None = None,
    type: str | None = None,
    requirements: Sequence[str] = (),
    code: Sequence[str | os.PathLike[str]] = (),
    files: Sequence[str | os.PathLike[str]] = (),
    metrics: Mapping[str, float] | None = None,
    cache: bool = False,
    timeout_s: float | None = None,
    memory_mb: int | None = None,
    network: bool = False,
    license: str | None = None,
    publication_year: int | str | None = None,
    **options: Any,
) -> ServableDescription:
    """Describe a model, function, model file or DLHub document as a servable.

    Parameters
    ----------
    obj
        A fitted scikit-learn estimator or pipeline, a Keras model, a Python
        callable with type hints, a path to a model file, or a DLHub servable
        document (a dict or a ``.json`` path).
    name
        Short name (default: from the object or file).
    title, authors, affiliations, description, license, publication_year
        DataCite fields (authors as ``"Family, Given"``).
    paper_doi, dois
        The paper describing the model (``IsDescribedBy``) and other references.
    training_data
        Hub ids (source_ids) or DOIs of the training datasets (``IsDerivedFrom``).
    domains
        Scientific domains, searchable as ``dlhub.domains``.
    visible_to, runnable_by
        Who may see the metadata, and who may run it (default: who may see it).
    inputs, outputs, parameters
        Override the schemas found automatically.
    examples
        Example inputs (checked against the input schema, stored as JSON): forms start
        from the first, and the JupyterLab panel's "Insert code" writes it.
    input_from_record
        How one record of a dataset becomes one item of the input
        (:class:`~hub.servables.record_input.RecordInput`, or its fields as a dict), so
        front ends can run the servable on search hits.
    method
        The method to call (scikit-learn: ``predict``, ``predict_proba``, ...).
    type
        Force a servable type (plugin name).
    requirements
        More distributions to pin (names, or ``name==version`` kept as given).
    code, files
        Source files and data files to package with the model.
    metrics
        Figures of merit (``{"cv_mae_eV": 0.41}``), searchable as ``servable.metrics``.
    cache
        Memoize outputs by servable version and input hash.
    timeout_s, memory_mb
        Per-run limits (default: the executor's).
    network
        The servable needs the network (a shared hub gives it only where its admin allows it).
    **options
        Extra ``servable.options`` stored with the metadata.
    """
    from hub.servables import dlhub

    if isinstance(obj, Mapping) or (
        isinstance(obj, str | os.PathLike) and Path(obj).suffix.lower() == ".json"
    ):
        sv = dlhub.import_document(obj)
        _apply_overrides(
            sv.metadata, name, title, authors, affiliations, description, domains, visible_to, runnable_by
        )
        return sv

    source: Path | None = None
    if isinstance(obj, str | os.PathLike):
        source = Path(obj).expanduser().resolve()
        if not source.is_file():
            raise ValidationError(f"no model file at {source}")
        plugin = _pick_type(None, source, type)
        plugin.require()
        obj = plugin.open(source)
        if not plugin.can_describe(obj):  # e.g. a .pkl holding a function
            plugin = _pick_type(obj, None, None)
    else:
        plugin = _pick_type(obj, None, type)
    td: TypeDescription = plugin.describe(obj, source, {"method": method} if method else {})

    run = MethodSpec(
        input=_spec(inputs) if inputs is not None else td.input,
        output=_spec(outputs) if outputs is not None else td.output,
        parameters={k: _spec(v) for k, v in parameters.items()} if parameters is not None else td.parameters,
        method_details=td.method_details,
    )
    run.examples = [_example(run.input, value) for value in examples]
    if input_from_record is not None:
        run.input_from_record = (
            input_from_record
            if isinstance(input_from_record, RecordInput)
            else _record_input(input_from_record)
        )
    given = [r for r in requirements if "==" in r]
    pins = pin([*distributions_of(td.modules), *td.requirements, *(r for r in requirements if "==" not in r)])
    for line in given:
        dist, _, version = line.partition("==")
        pins[dist.strip()] = version.strip()
    name = name or _default_name(obj, source)
    text = description or td.summary or None
    try:
        datacite = DataCite(
            creators=creators_from(list(authors or [_default_author()]), list(affiliations or [])),
            titles=[Title(title=title or name)],
            descriptions=[Description(description=text)] if text else [],
            subjects=[Subject(subject=d) for d in domains],
            relatedIdentifiers=related_identifiers(paper_doi, dois, training_data),
            rightsList=[Rights(rights=license)] if license else [],
            resourceType=ResourceType(resourceTypeGeneral=td.resource_type, resourceType="Servable"),
            **({"publicationYear": str(publication_year)} if publication_year else {}),
        )
        metadata = ServableMetadata(
            datacite=datacite,
            dlhub=DLHubBlock(
                name=name,
                domains=list(domains),
                visible_to=_listify(visible_to) if visible_to is not None else ["public"],
                runnable_by=_listify(runnable_by) if runnable_by is not None else None,
                dependencies={"python": pins},
                requirements=requirement_lines(dict(sorted(pins.items(), key=lambda kv: kv[0].lower()))),
                python_version=platform.python_version(),
                training_data=list(training_data),
                cache=cache,
                limits=Limits(timeout_s=timeout_s, memory_mb=memory_mb, network=network),
            ),
            servable=ServableBlock(
                type=plugin.name,
                shim=plugin.shim,
                model_type=td.model_type,
                model_summary=td.model_summary,
                methods={"run": run},
                options={**td.options, **options},
                metrics=dict(metrics or {}),
                runnable=plugin.runnable,
            ),
        )
    except PydanticValidationError as exc:
        raise ValidationError(
            f"servable metadata is not valid: {exc}",
            errors=[{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()],
        ) from None
    return ServableDescription(
        metadata=metadata,
        obj=obj,
        source=source,
        code=[_existing(p) for p in code],
        files=[_existing(p) for p in files],
    )


def _example(spec: ArgSpec, value: Any) -> Any:
    """``value`` checked against ``spec``, as JSON (arrays as nested lists)."""
    checked = spec.check(value, "example")
    return json.loads(json.dumps(checked, default=_plain))


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    if isinstance(value, tuple | set):
        return list(value)
    raise InputValidationError(f"example values must be JSON data or arrays; got a {type(value).__name__}")


def _record_input(value: Mapping[str, Any]) -> RecordInput:
    try:
        return RecordInput.model_validate(dict(value))
    except PydanticValidationError as exc:
        raise ValidationError(f"input_from_record is not valid: {exc}") from None


def _listify(value: Sequence[str] | str) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _existing(path: str | os.PathLike[str]) -> Path:
    p = Path(path).expanduser().resolve()
    if not p.is_file():
        raise ValidationError(f"no file at {p} to package with the servable")
    return p


def _spec(value: ArgSpec | dict[str, Any]) -> ArgSpec:
    if isinstance(value, ArgSpec):
        return value
    try:
        return ArgSpec.from_dlhub(value)
    except (PydanticValidationError, ValueError) as exc:
        raise InputValidationError(f"bad argument schema {value!r}: {exc}") from None


def _apply_overrides(
    metadata: ServableMetadata,
    name: str | None,
    title: str | None,
    authors: Sequence[str | dict[str, Any]] | None,
    affiliations: Sequence[str] | None,
    description: str | None,
    domains: Sequence[str],
    visible_to: Sequence[str] | str | None,
    runnable_by: Sequence[str] | str | None,
) -> None:
    dl = metadata.dlhub
    if name:
        metadata.dlhub = dl.model_copy(update={"name": DLHubBlock(name=name).name})
    if title:
        metadata.datacite.titles = [Title(title=title)]
    if authors:
        metadata.datacite.creators = creators_from(list(authors), list(affiliations or []))
    if description:
        metadata.datacite.descriptions = [Description(description=description)]
    if domains:
        metadata.dlhub.domains = list(domains)
    if visible_to is not None:
        metadata.dlhub.visible_to = DLHubBlock(name="x", visible_to=_listify(visible_to)).visible_to
    if runnable_by is not None:
        metadata.dlhub.runnable_by = DLHubBlock(name="x", runnable_by=_listify(runnable_by)).runnable_by
