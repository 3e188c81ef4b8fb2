"""DataCite 4 metadata (the ``dc`` block of a dataset) and its JSON export.

Field names follow the DataCite Metadata Schema 4.x JSON serialisation
(``creators``, ``titles``, ``publisher``, ``publicationYear``, ``types``,
``descriptions``, ``subjects``, ``rightsList``, ``relatedIdentifiers``), so
:func:`to_datacite_json` can hand a version to a DOI registration agent as is.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from hub.exceptions import ValidationError, quoted
from hub.records.names import personal_name


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Creator(_Block):
    """A person or organisation; ``name`` is "Family, Given" for people."""

    name: str = Field(min_length=1)
    nameType: Literal["Personal", "Organizational"] = "Personal"
    givenName: str | None = None
    familyName: str | None = None
    affiliation: list[str] = Field(default_factory=list)
    nameIdentifiers: list[dict[str, str]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _split_name(self) -> Creator:
        if self.nameType == "Personal" and "," in self.name and not self.familyName:
            family, given = (s.strip() for s in self.name.split(",", 1))
            self.familyName, self.givenName = family, given or None
        return self


class Title(_Block):
    """A title of the dataset; the main one has no ``titleType``."""

    title: str = Field(min_length=1)
    titleType: Literal["AlternativeTitle", "Subtitle", "TranslatedTitle", "Other"] | None = None
    lang: str | None = None


class Description(_Block):
    """A description of the dataset, an abstract unless ``descriptionType`` says otherwise."""

    description: str
    descriptionType: Literal[
        "Abstract", "Methods", "SeriesInformation", "TableOfContents", "TechnicalInfo", "Other"
    ] = "Abstract"


class Subject(_Block):
    """A subject, keyword or classification code, with its scheme when it has one."""

    subject: str
    subjectScheme: str | None = None


class Rights(_Block):
    """A license or rights statement, with its URI and identifier when known."""

    rights: str
    rightsUri: str | None = None
    rightsIdentifier: str | None = None


RELATION_TYPES = (
    "IsCitedBy",
    "Cites",
    "IsSupplementTo",
    "IsSupplementedBy",
    "IsContinuedBy",
    "Continues",
    "IsDescribedBy",
    "Describes",
    "HasMetadata",
    "IsMetadataFor",
    "HasVersion",
    "IsVersionOf",
    "IsNewVersionOf",
    "IsPreviousVersionOf",
    "IsPartOf",
    "HasPart",
    "IsReferencedBy",
    "References",
    "IsDocumentedBy",
    "Documents",
    "IsCompiledBy",
    "Compiles",
    "IsVariantFormOf",
    "IsOriginalFormOf",
    "IsIdenticalTo",
    "IsReviewedBy",
    "Reviews",
    "IsDerivedFrom",
    "IsSourceOf",
    "IsRequiredBy",
    "Requires",
)


class RelatedIdentifier(_Block):
    """A related resource (a paper, a dataset), by identifier and how it relates (``relationType``)."""

    relatedIdentifier: str
    relatedIdentifierType: Literal[
        "ARK",
        "arXiv",
        "bibcode",
        "DOI",
        "EAN13",
        "EISSN",
        "Handle",
        "IGSN",
        "ISBN",
        "ISSN",
        "ISTC",
        "LISSN",
        "LSID",
        "PMID",
        "PURL",
        "UPC",
        "URL",
        "URN",
        "w3id",
    ] = "DOI"
    relationType: str = "IsCitedBy"

    @field_validator("relationType")
    @classmethod
    def _relation(cls, v: str) -> str:
        if v not in RELATION_TYPES:
            raise ValueError(f"relationType must be one of {', '.join(RELATION_TYPES)}; got {v!r}")
        return v


class ResourceType(_Block):
    """What kind of resource the version is (``Dataset`` unless said otherwise)."""

    resourceTypeGeneral: str = "Dataset"
    resourceType: str | None = None


class Identifier(_Block):
    """The version's persistent identifier, a DOI unless ``identifierType`` says otherwise."""

    identifier: str
    identifierType: str = "DOI"


class DataCite(_Block):
    """The ``dc`` block: DataCite 4 descriptive metadata of a dataset version."""

    identifier: Identifier | None = None
    creators: list[Creator] = Field(min_length=1)
    titles: list[Title] = Field(min_length=1)
    publisher: str = "MatterHub"
    publicationYear: str = Field(default_factory=lambda: str(_dt.date.today().year))
    resourceType: ResourceType = Field(default_factory=ResourceType)
    descriptions: list[Description] = Field(default_factory=list)
    subjects: list[Subject] = Field(default_factory=list)
    rightsList: list[Rights] = Field(default_factory=list)
    relatedIdentifiers: list[RelatedIdentifier] = Field(default_factory=list)
    contributors: list[Creator] = Field(default_factory=list)
    version: str | None = None

    @field_validator("publicationYear", mode="before")
    @classmethod
    def _year(cls, v: Any) -> str:
        if not re.fullmatch(r"\d{4}", str(v)):
            raise ValueError(f"publicationYear must be a four-digit year; got {v!r}")
        return str(v)


def creators_from(
    authors: list[str | dict[str, Any]], affiliations: list[str] | None = None
) -> list[Creator]:
    """Creators from ``["Ward, Logan", {"name": ..., "affiliation": [...]}]`` (MDF's habit).

    Raises
    ------
    ValidationError
        An author that is not a name, or not an object of :class:`Creator`'s fields.
    """
    out = []
    for i, a in enumerate(authors):
        if isinstance(a, str):
            out.append(Creator(name=a, affiliation=list(affiliations or [])))
        else:
            out.append(_creator_of(a, i, affiliations))
    return out


def personal_creators(
    authors: list[str | dict[str, Any]], affiliations: list[str] | None = None
) -> list[Creator]:
    """Creators of a submission: each string is a person, split into family and given names.

    ``"Marie Curie"`` and ``"Curie, Marie"`` both become ``name="Curie, Marie"``,
    ``familyName="Curie"``, ``givenName="Marie"`` (:func:`hub.records.names.personal_name`);
    an organisation is a dict with ``"nameType": "Organizational"``.

    Raises
    ------
    ValidationError
        A string that cannot be split into a family and a given name (the message gives
        the expected form ``"Family, Given"``), or a dict that is not a :class:`Creator`.
    """
    out = []
    for i, a in enumerate(authors):
        if isinstance(a, str):
            person = personal_name(a)
            out.append(
                Creator(
                    name=person.display,
                    familyName=person.family,
                    givenName=person.given,
                    affiliation=list(affiliations or []),
                )
            )
        else:
            out.append(_creator_of(a, i, affiliations))
    return out


def _creator_of(author: dict[str, Any], i: int, affiliations: list[str] | None) -> Creator:
    """The :class:`Creator` of the ``i``-th author given as a dict of its fields."""
    data = dict(author)
    if isinstance(data.get("affiliation"), str):
        data["affiliation"] = [data["affiliation"]]
    data.setdefault("affiliation", list(affiliations or []))
    try:
        return Creator.model_validate(data)
    except PydanticValidationError as exc:
        errors = [
            {"field": ".".join(map(str, ("authors", i, *e["loc"]))), "message": e["msg"]}
            for e in exc.errors()
        ]
        problems = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise ValidationError(f"author {quoted(author)} is not valid: {problems}", errors) from None


def to_datacite_json(dc: DataCite | dict[str, Any], *, url: str | None = None) -> dict[str, Any]:
    """The DataCite REST API ``attributes`` document of a version, ready for a DOI."""
    model = dc if isinstance(dc, DataCite) else DataCite.model_validate(dc)
    body = model.model_dump(mode="json", exclude_none=True)
    body["types"] = {
        "resourceTypeGeneral": model.resourceType.resourceTypeGeneral,
        **({"resourceType": model.resourceType.resourceType} if model.resourceType.resourceType else {}),
    }
    del body["resourceType"]
    if model.identifier is not None:
        body["identifiers"] = [body.pop("identifier")]
        if model.identifier.identifierType == "DOI":
            body["doi"] = model.identifier.identifier
    body["schemaVersion"] = "http://datacite.org/schema/kernel-4"
    if url:
        body["url"] = url
    return body
