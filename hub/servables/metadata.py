"""Servable metadata: DLHub's document layout with MatterHub's DataCite model.

A servable document has three blocks, as DLHub's had, so DLHub documents
import as they are and searches read the same way
(``servable.type:keras AND dlhub.domains:materials``):

``datacite``
    :class:`~hub.records.datacite.DataCite`: title, creators, description,
    related identifiers (the paper's DOI, the training dataset's hub id).
``dlhub``
    Who and where: name, owner, version, domains, ``visible_to`` (who may see
    the metadata), ``runnable_by`` (who may run it), files, pinned
    requirements, training data, status, limits.
``servable``
    What it is and how to call it: type (the plugin name), model type and
    summary, and ``methods.run`` with the input, output and parameter schemas
    (:class:`~hub.servables.schema.ArgSpec`).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.access import normalize_visible_to
from hub.records.datacite import DataCite
from hub.servables.record_input import RecordInput
from hub.servables.schema import ArgSpec

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}$")
PUBLISHED = "published"
DEPRECATED = "deprecated"


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class MethodSpec(_Model):
    """One callable method: its input, output and keyword parameters.

    ``examples`` are inputs it was described with (JSON values, checked against ``input``;
    DLHub kept test inputs the same way): forms start from the first and "Insert code"
    writes it.  ``input_from_record`` says how one record of a dataset becomes one item of
    the input (:class:`~hub.servables.record_input.RecordInput`).
    """

    input: ArgSpec = Field(default_factory=ArgSpec)
    output: ArgSpec = Field(default_factory=ArgSpec)
    parameters: dict[str, ArgSpec] = Field(default_factory=dict)
    method_details: dict[str, Any] = Field(default_factory=dict)
    examples: list[Any] = Field(default_factory=list)
    input_from_record: RecordInput | None = None

    def json_schema(self) -> dict[str, Any]:
        """``{"input", "output", "parameters"}`` as JSON Schema fragments (the input with its ``examples``)."""
        params = {
            "type": "object",
            "properties": {k: v.json_schema() for k, v in self.parameters.items()},
            "additionalProperties": False,
        }
        schema = self.input.json_schema()
        if self.examples:
            schema["examples"] = list(self.examples)
        return {"input": schema, "output": self.output.json_schema(), "parameters": params}


class Limits(_Model):
    """Per-run limits; None means the executor's default.

    ``network``: the servable needs the network.  A shared hub gives it only where its
    admin allows servables the network (``matterhub serve --allow-servable-network``);
    every other servable runs with none.
    """

    timeout_s: float | None = None
    memory_mb: int | None = None
    network: bool = False


class EnvironmentBlock(_Model):
    """The environment of its own a version runs in (the hub's own does not meet its requirements).

    The hub sets it at publish (:mod:`hub.servables.environments`): ``install`` is what
    that environment adds over the hub's (exact pins, dependencies resolved), ``key``
    names its folder.  A version without one runs in the hub's environment.
    """

    key: str
    install: list[str] = Field(default_factory=list)


class DLHubBlock(_Model):
    """The ``dlhub`` block: identity, access, files and dependencies."""

    name: str
    owner: str | None = None
    id: str | None = None
    version: int | None = None
    type: str = "servable"
    domains: list[str] = Field(default_factory=list)
    visible_to: list[str] = Field(default_factory=lambda: ["public"])
    runnable_by: list[str] | None = None
    files: dict[str, Any] = Field(default_factory=dict)
    dependencies: dict[str, Any] = Field(default_factory=dict)
    requirements: list[str] = Field(default_factory=list)
    python_version: str | None = None
    training_data: list[str] = Field(default_factory=list)
    status: str = PUBLISHED
    published: str | None = None
    artifact: dict[str, Any] | None = None
    cache: bool = False
    limits: Limits = Field(default_factory=Limits)
    imported_from: str | None = None
    environment: EnvironmentBlock | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME_RE.match(v):
            raise ValueError(
                f"servable name {v!r} is not allowed: use 1-80 letters, digits, '_', '.' or '-', "
                "starting with a letter or digit"
            )
        return v

    @field_validator("visible_to")
    @classmethod
    def _visible(cls, v: list[str]) -> list[str]:
        return normalize_visible_to(v)

    @field_validator("runnable_by")
    @classmethod
    def _runnable(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else normalize_visible_to(v)

    @property
    def may_run(self) -> list[str]:
        """Who may run it (``runnable_by``, else ``visible_to``)."""
        return self.runnable_by if self.runnable_by is not None else self.visible_to


class ServableBlock(_Model):
    """The ``servable`` block: the type plugin and the callable methods."""

    type: str
    shim: str | None = None
    model_type: str = ""
    model_summary: str = ""
    methods: dict[str, MethodSpec] = Field(default_factory=lambda: {"run": MethodSpec()})
    options: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    runnable: bool = True

    @property
    def run(self) -> MethodSpec:
        """The method runs call: ``run``, else the first method, else an empty :class:`MethodSpec`."""
        return self.methods.get("run") or next(iter(self.methods.values()), MethodSpec())


class ServableMetadata(_Model):
    """A servable's whole document (one version)."""

    datacite: DataCite
    dlhub: DLHubBlock
    servable: ServableBlock
    dataset: dict[str, Any] | None = None

    def to_document(self) -> dict[str, Any]:
        """The JSON document stored in the catalog and indexed for search."""
        return self.model_dump(mode="json", exclude_none=True)

    def json_schema(self) -> dict[str, Any]:
        """The run method's input, output and parameter schemas as JSON Schema fragments."""
        return self.servable.run.json_schema()
