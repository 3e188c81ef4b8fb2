"""The MDF dataset document: ``dc`` (DataCite), ``mdf``, ``data``, ``custom``."""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.records.datacite import DataCite

MAX_CUSTOM_FIELDS = 10
SOURCE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_]{0,79}$")

#: A searchable custom value: a scalar or a list of scalars.
CustomValue = str | int | float | bool | list[str] | list[int] | list[float]


def slugify(title: str, max_length: int = 40) -> str:
    """MDF's source_name from a title: lowercase ASCII words joined by ``_``.

    >>> slugify("Band gaps of oxides: a DFT study (2019)")
    'band_gaps_of_oxides_a_dft_study_2019'
    """
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_title.lower())
    slug = ""
    for w in words:
        candidate = f"{slug}_{w}" if slug else w
        if len(candidate) > max_length:
            break
        slug = candidate
    return slug or "dataset"


def source_id_of(source_name: str, version: int) -> str:
    """The ``source_id`` of version ``version`` of ``source_name`` (``{source_name}_v{version}``)."""
    return f"{source_name}_v{version}"


def check_custom(v: dict[str, Any]) -> dict[str, Any]:
    """``v``, once checked as a ``custom`` block: field names and how many there are.

    Raises
    ------
    ValueError
        When there are more than :data:`MAX_CUSTOM_FIELDS` fields or a name is not
        letters, digits and ``_`` (at most 64, not starting with a digit).
    """
    if len(v) > MAX_CUSTOM_FIELDS:
        raise ValueError(
            f"at most {MAX_CUSTOM_FIELDS} custom fields are allowed; got {len(v)} "
            f"({', '.join(sorted(v))}). Keep the ones worth searching on."
        )
    for key in v:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", key):
            raise ValueError(f"custom field name {key!r} must be letters, digits and _ (max 64)")
    return v


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MDFDatasetBlock(_Block):
    """The ``mdf`` block of a dataset document: the version's name, number, status and who may see it."""

    source_name: str
    source_id: str
    version: int = Field(ge=1)
    resource_type: Literal["dataset"] = "dataset"
    visible_to: list[str] = Field(default_factory=lambda: ["public"], min_length=1)
    organizations: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    owner: str | None = None
    ingest_date: _dt.datetime | None = None
    previous_version: str | None = None
    status: Literal["published", "pending_curation"] = "published"
    #: True for a dataset published by reference: its files stay at their source (each file's ``url``).
    by_reference: bool | None = None

    @field_validator("source_name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not SOURCE_NAME_RE.fullmatch(v):
            raise ValueError(
                f"source_name must be 1-80 lowercase letters, digits or _, starting with a letter "
                f"or digit; got {v!r} (e.g. {slugify(v)!r})"
            )
        return v


class DataBlock(_Block):
    """Where the files are and how to check them."""

    location: str
    total_size: int = Field(ge=0)
    files: int = Field(ge=0)
    records: int = Field(ge=0, default=0)
    root_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    origin: str | None = None
    manifest: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class DatasetDocument(_Block):
    """An MDF dataset document: a version's DataCite metadata, ``mdf`` block, ``data`` and ``custom``."""

    dc: DataCite
    mdf: MDFDatasetBlock
    data: DataBlock | None = None
    custom: dict[str, CustomValue] = Field(default_factory=dict)

    @field_validator("custom")
    @classmethod
    def _custom(cls, v: dict[str, Any]) -> dict[str, Any]:
        return check_custom(v)
