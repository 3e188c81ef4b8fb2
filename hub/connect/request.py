"""What the user says about a submission, checked before any work is done."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.access import normalize_visible_to
from hub.records.datacite import (
    DataCite,
    Description,
    RelatedIdentifier,
    Rights,
    Subject,
    Title,
    personal_creators,
)
from hub.records.dataset import SOURCE_NAME_RE, CustomValue, check_custom, slugify
from hub.records.validation import validate_model

#: DataCite fields a user may pass as keyword arguments, besides the named ones.
DATACITE_FIELDS = frozenset(DataCite.model_fields)


class SubmissionRequest(BaseModel):
    """The user's side of a submission (stored with it, so a retry needs nothing else)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1)
    authors: list[str | dict[str, Any]] = Field(min_length=1)
    affiliations: list[str] = Field(default_factory=list)
    source_name: str | None = None
    #: The group a new ``source_name`` is claimed for (its members publish its versions).
    group: str | None = None
    #: The OPTIMADE filter of a harvest (an ``optimade+`` source): the slice of the provider to take.
    filter: str | None = None
    #: Publish by reference (``submit(..., copy=False)``): the files stay at their source,
    #: the hub keeps each one's sha256, size and URL.
    by_reference: bool = False
    description: str | None = None
    license: str | None = None
    related_dois: list[str] = Field(default_factory=list)
    subjects: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    organizations: list[str] = Field(default_factory=list)
    custom: dict[str, CustomValue] = Field(default_factory=dict)
    visible_to: list[str] = Field(default_factory=lambda: ["public"])
    mapping: dict[str, str] | None = None
    #: Publish what the mapping fits when it names a column or key some file lacks (those
    #: files' errors are reported); without it such a submission fails before publishing.
    partial: bool = False
    curate: bool = False
    extractors: list[str] | None = None
    datacite: dict[str, Any] = Field(default_factory=dict)

    @field_validator("source_name")
    @classmethod
    def _source_name(cls, v: str | None) -> str | None:
        if v is not None and not SOURCE_NAME_RE.fullmatch(v):
            raise ValueError(
                f"source_name must be lowercase letters, digits and _ (max 80); got {v!r}, try {slugify(v)!r}"
            )
        return v

    @field_validator("visible_to")
    @classmethod
    def _visible(cls, v: list[str]) -> list[str]:
        return normalize_visible_to(v)

    @field_validator("custom")
    @classmethod
    def _custom(cls, v: dict[str, Any]) -> dict[str, Any]:
        return check_custom(v)

    @field_validator("mapping")
    @classmethod
    def _mapping(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        if v is None:
            return v
        if not v:
            raise ValueError("mapping is empty; give {'record.field': 'column'} pairs or None")
        from hub.records.record import BLOCKS

        allowed = {*BLOCKS, "custom"}
        for target in v:
            block = target.split(".", 1)[0]
            if block not in allowed or "." not in target:
                raise ValueError(
                    f"mapping target {target!r} is not a record field; targets look like "
                    f"'block.field' with block one of {', '.join(sorted(allowed))}"
                )
        return v

    @field_validator("datacite")
    @classmethod
    def _datacite(cls, v: dict[str, Any]) -> dict[str, Any]:
        unknown = set(v) - DATACITE_FIELDS
        if unknown:
            raise ValueError(
                f"unknown DataCite field(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(DATACITE_FIELDS))}"
            )
        return v

    @property
    def name(self) -> str:
        """The dataset's source name: ``source_name``, else the title made into one (:func:`slugify`)."""
        return self.source_name or slugify(self.title)

    def datacite_block(self) -> DataCite:
        """The dataset's DataCite metadata, from the named fields and then the ``datacite`` ones.

        A key in ``datacite`` replaces what the named fields gave it.

        Raises
        ------
        ValidationError
            When the result is not valid DataCite metadata.
        """
        data: dict[str, Any] = {
            "creators": personal_creators(self.authors, self.affiliations),
            "titles": [Title(title=self.title)],
        }
        if self.description:
            data["descriptions"] = [Description(description=self.description)]
        if self.license:
            data["rightsList"] = [Rights(rights=self.license)]
        if self.related_dois:
            data["relatedIdentifiers"] = [
                RelatedIdentifier(
                    relatedIdentifier=d, relatedIdentifierType="DOI", relationType="IsDescribedBy"
                )
                for d in self.related_dois
            ]
        if self.subjects:
            data["subjects"] = [Subject(subject=s) for s in self.subjects]
        for key, value in self.datacite.items():
            data[key] = value
        return validate_model(DataCite, {k: _dump(v) for k, v in data.items()}, "DataCite metadata")


def _dump(v: Any) -> Any:
    if isinstance(v, BaseModel):
        return v.model_dump()
    if isinstance(v, list):
        return [_dump(x) for x in v]
    return v


def make_request(**kwargs: Any) -> SubmissionRequest:
    """A validated request; unknown keyword arguments that are DataCite fields go to ``datacite``."""
    datacite = dict(kwargs.pop("datacite", None) or {})
    for key in list(kwargs):
        if key not in SubmissionRequest.model_fields:
            datacite[key] = kwargs.pop(key)
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    req = validate_model(SubmissionRequest, {**kwargs, "datacite": datacite}, "submission metadata")
    req.datacite_block()  # fail now, before any file is touched
    return req
