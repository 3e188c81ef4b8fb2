"""The Globus Search request documents the endpoint accepts (GSearchRequest and its parts).

Field names, types and defaults are Globus Search's (the 2017-09-01 query format that
the Globus SDK and MDF Forge send): filters of type ``match_all``, ``match_any``,
``range``, ``exists``, ``not``, ``and``, ``or``; facets of type ``terms``,
``date_histogram`` and ``numeric_histogram``; ``sort``; ``boosts`` (accepted; the
hub ranks by its own scores).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The most results one request may fetch (``offset + limit``), as in Globus Search.
MAX_RESULTS = 10_000
DateInterval = Literal["year", "quarter", "month", "week", "day", "hour", "minute", "second"]
Scalar = str | int | float | bool


class _Doc(BaseModel):
    """A Globus document: unknown fields are errors; ``@version``/``@datatype`` are accepted."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    version: str | None = Field(None, alias="@version")
    datatype: str | None = Field(None, alias="@datatype")


class _Filter(_Doc):
    """The fields every filter has: its type and whether it is a post filter."""

    type: str
    post_filter: bool | None = Field(
        None,
        description="Apply after the facets are counted (default: true for every type but match_all)",
    )

    @property
    def is_post_filter(self) -> bool:
        return self.post_filter if self.post_filter is not None else self.type != "match_all"


class MatchFilter(_Filter):
    """A field holding every one of ``values`` (``match_all``) or at least one (``match_any``)."""

    type: Literal["match_all", "match_any"]
    field_name: str
    values: list[Scalar] = Field(min_length=1)


class RangeValue(BaseModel):
    """A range: ``from``/``to`` (inclusive; ``"*"`` for no bound), or ``gte``/``gt``/``lte``/``lt``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: Scalar | None = Field(None, alias="from")
    to: Scalar | None = None
    gte: Scalar | None = None
    gt: Scalar | None = None
    lte: Scalar | None = None
    lt: Scalar | None = None


class RangeFilter(_Filter):
    """A field with a value in at least one of the ranges ``values``."""

    type: Literal["range"]
    field_name: str
    values: list[RangeValue] = Field(min_length=1)


class ExistsFilter(_Filter):
    """A field that holds a value."""

    type: Literal["exists"]
    field_name: str


class NotFilter(_Filter):
    """The documents another filter does not match."""

    type: Literal["not"]
    filter: GFilter


class BoolFilter(_Filter):
    """Filters combined: all of them (``and``) or at least one (``or``)."""

    type: Literal["and", "or"]
    filters: list[GFilter] = Field(min_length=1)


GFilter = Annotated[
    MatchFilter | RangeFilter | ExistsFilter | NotFilter | BoolFilter, Field(discriminator="type")
]
NotFilter.model_rebuild()
BoolFilter.model_rebuild()


class HistogramRange(BaseModel):
    """The span of a histogram facet: numbers, or dates for a date histogram."""

    model_config = ConfigDict(extra="forbid")

    low: Scalar
    high: Scalar


class _Facet(_Doc):
    """The fields every facet has: the field it counts and its name in the results."""

    field_name: str
    name: str | None = Field(None, description="The facet's name in facet_results (default: field_name)")

    @property
    def result_name(self) -> str:
        return self.name or self.field_name


class TermsFacet(_Facet):
    """The ``size`` most frequent values of a field, with their counts."""

    type: Literal["terms"] = "terms"
    size: int = Field(10, ge=1, le=MAX_RESULTS)


class DateHistogramFacet(_Facet):
    """Counts of a date field's values per calendar ``date_interval``, within ``histogram_range`` if given."""

    type: Literal["date_histogram"]
    date_interval: DateInterval
    histogram_range: HistogramRange | None = None


class NumericHistogramFacet(_Facet):
    """Counts of a numeric field's values in ``size`` equal buckets of ``histogram_range``."""

    type: Literal["numeric_histogram"]
    size: int = Field(ge=1, le=1000, description="How many buckets split histogram_range")
    histogram_range: HistogramRange


GFacet = Annotated[TermsFacet | DateHistogramFacet | NumericHistogramFacet, Field(discriminator="type")]


class GSort(_Doc):
    """A field to order the results by, descending unless ``order`` is ``asc``."""

    field_name: str
    order: Literal["asc", "desc"] = "desc"


class GBoost(_Doc):
    """A field whose matches should weigh more (accepted; the hub ranks by its own scores)."""

    field_name: str
    factor: float = Field(ge=0)


class GSearchRequest(_Doc):
    """The body of ``POST /v1/index/{index_id}/search``."""

    q: str | None = Field(None, description="The query (the hub's Lucene-style language)")
    advanced: bool = False
    limit: int = Field(10, ge=0, le=MAX_RESULTS)
    offset: int = Field(0, ge=0, le=MAX_RESULTS)
    filters: list[GFilter] = Field(default_factory=list)
    post_facet_filters: list[GFilter] = Field(default_factory=list)
    facets: list[GFacet] = Field(default_factory=list)
    sort: list[GSort] = Field(default_factory=list)
    boosts: list[GBoost] = Field(default_factory=list)
    bypass_visible_to: bool = False
    filter_principal_sets: list[str] = Field(default_factory=list)
    result_format_version: Literal["2019-08-27", "2017-09-01"] = "2019-08-27"
    q_settings: dict[str, Any] | None = None
    query_template: str | None = None

    @field_validator("facets", mode="before")
    @classmethod
    def _terms_by_default(cls, v: Any) -> Any:
        """A facet without a type is a terms facet (as Globus Search reads it)."""
        if isinstance(v, list):
            return [{**f, "type": "terms"} if isinstance(f, dict) and "type" not in f else f for f in v]
        return v


class GScrollRequest(_Doc):
    """The body of ``POST /v1/index/{index_id}/scroll``."""

    q: str | None = None
    advanced: bool = False
    limit: int = Field(10, ge=1, le=MAX_RESULTS)
    filters: list[GFilter] = Field(default_factory=list)
    marker: str | None = None
    bypass_visible_to: bool = False
    filter_principal_sets: list[str] = Field(default_factory=list)
    result_format_version: Literal["2019-08-27", "2017-09-01"] = "2019-08-27"
    q_settings: dict[str, Any] | None = None
