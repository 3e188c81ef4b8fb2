"""Forge-style search helpers over a hub (:class:`~hub.api.HubAPI`), for MDF users.

Users of the Materials Data Facility build queries with ``mdf_forge.Forge``::

    from hub.forge import Forge

    f = Forge(hub)  # or Forge() for the default hub
    res = f.match_elements(["Co", "O"]).match_range("custom.band_gap", 1, 3).search(limit=20)
    everything = f.match_source_names("oqmd").aggregate()  # no 10,000 cap here
    f.download(res, "data/")

Every ``match_*`` / ``exclude_*`` helper appends a term to a Lucene query string
(the language of :mod:`hub.index.query`) and returns the Forge, so calls chain;
:meth:`Forge.current_query` shows the string that will run.

Groups work as in MDF's ``SearchHelper``:

- a term with ``required=True`` is joined to the current group with ``AND``,
  one with ``required=False`` with ``OR``; ``exclude_*`` terms are ``AND NOT``;
- ``new_group=True`` closes the current parenthesised group and starts a new
  one, joined to the previous groups with ``AND`` (or ``OR`` when
  ``required=False``);
- the list helpers (``match_elements``, ``match_source_names``, ...) put their
  values in a group of their own;
- within the string the usual precedence holds: ``AND`` binds tighter than
  ``OR``, so ``(a AND b OR c)`` means ``(a AND b) OR c``.

Values are written for the query language by :func:`quote`: numbers and
booleans unquoted; words of letters, digits and ``_ . + -`` as they are;
number-, boolean- and date-like strings unquoted (escaped) so that they also
match numeric, boolean and date fields; any other text as a quoted phrase. A
string with ``*`` or ``?`` and no whitespace is a wildcard pattern (``"Co*"``,
``"10.18126/*"``); pass ``wildcard=False`` to match such a value literally.

Differences from MDF Forge: ``aggregate`` returns every result (MDF stops at
10,000); ``facets`` and ``search(..., facets=...)`` count values over the
whole (access-filtered) result; ``download`` and ``stream`` read files from the
hub and verify their sha256; there is no Globus (``globus_download``) and
``advanced`` is accepted but not needed (one query language does both).
"""

from __future__ import annotations

import hashlib
import math
import numbers
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal, TypeAlias, overload

from tqdm.auto import tqdm

from hub.api import Hub, HubAPI
from hub.exceptions import HubError, IntegrityError, ValidationError
from hub.index.analysis import parse_date
from hub.index.results import Hit, SearchResult

#: Most results one :meth:`Forge.search` returns (the search engine's page limit).
SEARCH_LIMIT = 10_000
#: Results :meth:`Forge.search` returns when ``limit`` is not given (as MDF Forge).
DEFAULT_LIMIT = 10
Document: TypeAlias = dict[str, Any]
#: What ``search(..., info=True)`` returns: the documents and the information dict.
WithInfo: TypeAlias = tuple[list[Document], dict[str, Any]]
FacetsArg: TypeAlias = Sequence[str | dict[str, Any]] | str | None

#: Resource types a hub's documents carry in ``mdf.resource_type``.
RESOURCE_TYPES = ("record", "dataset")

YEAR_FIELD = "dc.publicationYear"
DOI_FIELDS = ("dc.identifier.identifier", "dc.relatedIdentifiers.relatedIdentifier")

_CHUNK = 1 << 20
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_PLAIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_BOUND_WORD = re.compile(r"^[A-Za-z0-9_.:+-]+$")
_VERSIONED = re.compile(r"^[a-z0-9_]+_v\d+$")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", re.IGNORECASE)
#: Characters with a meaning in the query language (escaped outside phrases).
_SPECIAL = frozenset('+-&|!(){}[]^"~*?:\\/<>=')
_RESERVED = frozenset({"AND", "OR", "NOT", "TO"})


def _element_symbols() -> dict[str, str]:
    from ase.data import chemical_symbols

    return {s.lower(): s for s in chemical_symbols[1:]}


# -- writing values for the query language -----------------------------------------


def _escape(text: str, keep: str = "") -> str:
    """Backslash-escape what the query language would read as syntax (``-``/``+`` only first)."""
    return "".join(
        "\\" + c if (c in _SPECIAL or c.isspace()) and c not in keep and (i == 0 or c not in "+-") else c
        for i, c in enumerate(text)
    )


def _number(value: Any, what: str) -> str:
    if isinstance(value, numbers.Integral):
        return str(int(value))
    number = float(value)
    if not math.isfinite(number):
        raise ValidationError(f"{what} must be a finite number; got {value!r}")
    return repr(number)


def quote(value: Any, wildcard: bool | None = None) -> str:
    r"""Write ``value`` as a term of the query language (the right side of ``field:``).

    Parameters
    ----------
    value
        A string, number or boolean.
    wildcard
        ``None`` (default): a string containing ``*`` or ``?`` and no whitespace is a
        wildcard pattern (``"Co*"``, ``"10.18126/*"``); every other string is literal.
        ``True``: the string is a pattern. ``False``: always literal.

    Returns
    -------
    str
        ``true``/``false`` for booleans; numbers as they are (``\-5`` for negatives,
        since a bare ``-`` means NOT); a word of letters, digits and ``_ . + -`` as it
        is; a number-, boolean- or date-like string unquoted with its special
        characters escaped (so it also matches numeric, boolean and date fields); a
        pattern with everything but ``*`` and ``?`` escaped; any other string as a
        quoted phrase (``"Cu/NaCl (test)"``).

    Raises
    ------
    ValidationError
        For an empty string, a non-finite number, or a value that is not a string,
        number or boolean.

    Examples
    --------
    >>> quote("Co"), quote(2.5), quote(-5), quote(True)
    ('Co', '2.5', '\\-5', 'true')
    >>> quote("Band gaps: oxides"), quote("mp-*")
    ('"Band gaps: oxides"', 'mp-*')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Real):
        return _escape(_number(value, "a value"))
    if not isinstance(value, str):
        raise ValidationError(
            f"a value to match must be a string, number or boolean; got {type(value).__name__} {value!r}"
        )
    if not value.strip():
        raise ValidationError(
            f"a value to match must not be empty; got {value!r} (use match_exists() to require a field)"
        )
    has_space = any(c.isspace() for c in value)
    if wildcard is None:
        wildcard = ("*" in value or "?" in value) and not has_space
    if wildcard:
        if has_space:
            raise ValidationError(
                f"a wildcard pattern cannot contain whitespace; got {value!r}: "
                "match a phrase with wildcard=False, or use one word such as 'cobalt*'"
            )
        return _escape(value, keep="*?")
    if _NUMBER.match(value) or value.lower() in ("true", "false") or parse_date(value):
        return _escape(value)
    if _PLAIN.match(value) and value.upper() not in _RESERVED:
        return value
    text = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _bound(value: Any) -> str:
    """A range bound: ``*`` (open), a number, a date or a simple word."""
    if value is None or (isinstance(value, str) and value.strip() == "*"):
        return "*"
    if isinstance(value, bool):
        raise ValidationError(f"a range bound must be a number, a date or a word; got the boolean {value!r}")
    if isinstance(value, numbers.Real):
        return _number(value, "a range bound")
    if hasattr(value, "isoformat"):  # datetime.date / datetime.datetime
        return f'"{value.isoformat()}"'
    if isinstance(value, str):
        text = value.strip()
        if _NUMBER.match(text) or (_PLAIN.match(text) and text.upper() not in _RESERVED):
            return text
        if parse_date(text) or _BOUND_WORD.match(text):
            return f'"{text}"'
    raise ValidationError(
        f"a range bound must be a number, a date (2020-01-31, 2020-01-31T12:00:00Z), a word of "
        f"letters, digits and _ . : + -, or '*' for no bound; got {value!r}"
    )


# -- the query being built -----------------------------------------------------------


@dataclass
class _Group:
    join: str | None  # AND / OR with the previous group; None for the first
    terms: list[tuple[str | None, str]] = field(default_factory=list)

    def render(self) -> str:
        return "(" + "".join(t if op is None else f" {op} {t}" for op, t in self.terms) + ")"


@dataclass(frozen=True)
class _File:
    source_id: str
    path: str
    filename: str
    sha256: str
    length: int


class Forge:
    """MDF Forge's query helpers, search, aggregation and file access over a hub.

    Parameters
    ----------
    hub
        The hub to search: a hub (:class:`~hub.api.HubAPI`), a hub folder, or ``None`` for
        ``Hub()`` (``$MATTERHUB_HOME`` or ``~/.matterhub``). Everything is seen as
        the hub's principal: results, totals, facets and fields are access-filtered.

    Examples
    --------
    >>> f = Forge(hub)
    >>> f.match_elements(["Co", "O"]).match_source_names("band_gaps").current_query()
    '(material.elements:Co AND material.elements:O) AND (mdf.source_name:band_gaps)'
    """

    def __init__(self, hub: HubAPI | str | os.PathLike[str] | None = None) -> None:
        if hub is None:
            hub = Hub()
        elif isinstance(hub, str | os.PathLike):
            hub = Hub(hub)
        elif not isinstance(hub, HubAPI):
            raise ValidationError(
                f"Forge needs a Hub, a hub folder or None (the default hub); got {type(hub).__name__}"
            )
        self.hub: HubAPI = hub
        self._groups: list[_Group] = []

    def __repr__(self) -> str:
        return f"<Forge over {self.hub!r}, query {self.current_query()!r}>"

    # -- building the query -------------------------------------------------------------

    def _add(self, term: str, required: bool, new_group: bool) -> Forge:
        _check_flag("required", required)
        _check_flag("new_group", new_group)
        op = "AND" if required else "OR"
        if not self._groups:
            self._groups.append(_Group(None, [(None, term)]))
        elif new_group:
            self._groups.append(_Group(op, [(None, term)]))
        else:
            self._groups[-1].terms.append((op, term))
        return self

    def _any_of(self, terms: Sequence[str], match_all: bool = False) -> Forge:
        """Terms in a new group: the first required, the others ANDed (``match_all``) or ORed."""
        for i, term in enumerate(terms):
            self._add(term, required=True if i == 0 else match_all, new_group=i == 0)
        return self

    def current_query(self) -> str:
        """The query string built so far (``""`` when nothing was added).

        Returns
        -------
        str
            E.g. ``'(material.elements:Co AND material.elements:O) AND (mdf.source_name:x)'``.
        """
        return "".join(g.render() if g.join is None else f" {g.join} {g.render()}" for g in self._groups)

    def reset_query(self) -> None:
        """Forget the query built so far (returns ``None``: not meant to be chained, as in MDF)."""
        self._groups = []

    def match_term(self, value: Any, required: bool = True, new_group: bool = False) -> Forge:
        """Match ``value`` in any field (a full-text word or phrase).

        Parameters
        ----------
        value
            A word, phrase, number or wildcard pattern (see :func:`quote`).
        required, new_group
            How the term joins the query (see the module docstring).
        """
        return self._add(quote(value), required, new_group)

    def match_field(
        self,
        field: str,
        value: Any,
        required: bool = True,
        new_group: bool = False,
        *,
        wildcard: bool | None = None,
    ) -> Forge:
        """Match documents whose ``field`` has ``value``.

        Parameters
        ----------
        field
            A dotted path such as ``"material.elements"`` or ``"custom.band_gap"``.
        value
            The value: exact for keywords, numbers, booleans and dates, a word or
            phrase within text; a wildcard pattern when it has ``*`` or ``?`` and no
            whitespace (see :func:`quote`).
        required
            ``True``: joined to the current group with AND; ``False``: with OR.
        new_group
            Start a new parenthesised group.
        wildcard
            Override the wildcard detection of :func:`quote`.

        Returns
        -------
        Forge
            This Forge, for chaining.
        """
        return self._add(f"{_check_field(field)}:{quote(value, wildcard)}", required, new_group)

    def exclude_field(
        self, field: str, value: Any, new_group: bool = False, *, wildcard: bool | None = None
    ) -> Forge:
        """Exclude documents whose ``field`` has ``value`` (``AND NOT field:value``).

        Parameters
        ----------
        field, value, wildcard
            As in :meth:`match_field`.
        new_group
            Start a new parenthesised group.
        """
        return self._add(f"NOT {_check_field(field)}:{quote(value, wildcard)}", True, new_group)

    def match_range(
        self,
        field: str,
        start: Any = "*",
        stop: Any = "*",
        inclusive: bool = True,
        required: bool = True,
        new_group: bool = False,
    ) -> Forge:
        """Match documents whose ``field`` lies between ``start`` and ``stop``.

        Parameters
        ----------
        field
            A dotted path of a number, date or keyword field.
        start, stop
            Numbers, dates (``"2020-01-31"``, :class:`datetime.date`) or words; ``"*"``
            or ``None`` for no bound. With neither bound this is :meth:`match_exists`.
        inclusive
            Include the bounds (``[a TO b]``) or not (``{a TO b}``).
        required, new_group
            How the term joins the query (see the module docstring).
        """
        return self._add(self._range(field, start, stop, inclusive), required, new_group)

    def exclude_range(
        self,
        field: str,
        start: Any = "*",
        stop: Any = "*",
        inclusive: bool = True,
        new_group: bool = False,
    ) -> Forge:
        """Exclude documents whose ``field`` lies between ``start`` and ``stop``.

        With neither bound this is :meth:`match_not_exists`. Parameters as in
        :meth:`match_range`.
        """
        return self._add(f"NOT {self._range(field, start, stop, inclusive)}", True, new_group)

    def _range(self, field: str, start: Any, stop: Any, inclusive: bool) -> str:
        field = _check_field(field)
        _check_flag("inclusive", inclusive)
        lo, hi = _bound(start), _bound(stop)
        if lo == "*" and hi == "*":
            return f"_exists_:{field}"
        if lo != "*" and hi != "*" and _NUMBER.match(lo) and _NUMBER.match(hi) and float(lo) > float(hi):
            raise ValidationError(
                f"the range on {field} is empty: start {start!r} is greater than stop {stop!r}; swap them"
            )
        left, right = ("[", "]") if inclusive else ("{", "}")
        return f"{field}:{left}{lo} TO {hi}{right}"

    def match_exists(self, field: str, required: bool = True, new_group: bool = False) -> Forge:
        """Match documents that have any value in ``field`` (``_exists_:field``)."""
        return self._add(f"_exists_:{_check_field(field)}", required, new_group)

    def match_not_exists(self, field: str, new_group: bool = False) -> Forge:
        """Match documents without ``field`` (``NOT _exists_:field``)."""
        return self._add(f"NOT _exists_:{_check_field(field)}", True, new_group)

    # -- MDF's list helpers -------------------------------------------------------------

    def match_elements(self, elements: str | Sequence[str], match_all: bool = True) -> Forge:
        """Match materials containing ``elements`` (on ``material.elements``), in a new group.

        Parameters
        ----------
        elements
            Element symbols (``"Co"`` or ``["Co", "O"]``); case is normalised (``"co"`` is Co).
        match_all
            ``True``: every element must be present; ``False``: any of them.
        """
        _check_flag("match_all", match_all)
        symbols = _element_symbols()
        values = []
        for e in _as_list(elements, "elements"):
            symbol = symbols.get(e.strip().lower()) if isinstance(e, str) else None
            if symbol is None:
                raise ValidationError(
                    f"{e!r} is not an element symbol; give symbols such as 'Co', 'O' or 'Fe' "
                    "(one element per item: ['Co', 'O'], not 'CoO')"
                )
            values.append(f"material.elements:{symbol}")
        return self._any_of(values, match_all)

    def match_source_names(self, source_names: str | Sequence[str]) -> Forge:
        """Match any of the datasets ``source_names`` (on ``mdf.source_name``), in a new group.

        A name with a version suffix (``band_gaps_v2``, MDF's habit) also matches that
        version's ``mdf.source_id``.
        """
        terms: list[str] = []
        for name in _as_list(source_names, "source_names"):
            if not isinstance(name, str) or not name.strip():
                raise ValidationError(f"a source name must be a non-empty string; got {name!r}")
            terms.append(f"mdf.source_name:{quote(name)}")
            if _VERSIONED.match(name):
                terms.append(f"mdf.source_id:{quote(name)}")
        return self._any_of(terms)

    def match_years(
        self,
        years: int | str | Sequence[int | str] | None = None,
        start: int | str | None = None,
        stop: int | str | None = None,
        inclusive: bool = True,
    ) -> Forge:
        """Match datasets published in ``years``, or between ``start`` and ``stop``.

        On the dataset's ``dc.publicationYear``, in a new group. ``years`` wins over
        ``start``/``stop``.

        DataCite years are strings (``"2019"``); the index also stores such
        strings as numbers, so a year range is an ordinary numeric range.
        """
        _check_flag("inclusive", inclusive)
        if years is not None and not (isinstance(years, list | tuple) and not years):
            wanted = sorted({_year(y, "years") for y in _as_list(years, "years")})
            return self._any_of([f"{YEAR_FIELD}:{y}" for y in wanted])
        if start is None and stop is None:
            return self
        lo = None if start is None else _year(start, "start")
        hi = None if stop is None else _year(stop, "stop")
        if not inclusive:
            lo = None if lo is None else lo + 1
            hi = None if hi is None else hi - 1
        if lo is not None and hi is not None and lo > hi:
            raise ValidationError(
                f"no year lies between start {start!r} and stop {stop!r} (inclusive={inclusive})"
            )
        return self._add(self._range(YEAR_FIELD, lo, hi, True), True, True)

    def match_resource_types(self, types: str | Sequence[str]) -> Forge:
        """Match any of the resource ``types`` (``"record"``, ``"dataset"``; on ``mdf.resource_type``)."""
        values = []
        for t in _as_list(types, "types"):
            if t not in RESOURCE_TYPES:
                raise ValidationError(
                    f"resource type {t!r} is not one of {', '.join(map(repr, RESOURCE_TYPES))}"
                )
            values.append(f"mdf.resource_type:{t}")
        return self._any_of(values)

    def match_dois(self, dois: str | Sequence[str]) -> Forge:
        """Match datasets with any of ``dois``, as their DOI or a related identifier.

        On ``dc.identifier.identifier`` and ``dc.relatedIdentifiers.relatedIdentifier``;
        ``https://doi.org/`` and ``doi:`` prefixes are removed.
        """
        terms = []
        for doi in _as_list(dois, "dois"):
            if not isinstance(doi, str) or not doi.strip():
                raise ValidationError(
                    f"a DOI must be a non-empty string such as '10.18126/M2V65Z'; got {doi!r}"
                )
            bare = _DOI_PREFIX.sub("", doi.strip())
            terms += [f"{f}:{quote(bare)}" for f in DOI_FIELDS]
        return self._any_of(terms)

    def match_organizations(self, organizations: str | Sequence[str], match_all: bool = True) -> Forge:
        """Match datasets of ``organizations`` (on ``mdf.organizations``), in a new group.

        Parameters
        ----------
        organizations
            Organization names (matched as phrases).
        match_all
            ``True``: the dataset belongs to every organization; ``False``: to any.
        """
        _check_flag("match_all", match_all)
        return self._any_of(
            [
                f"mdf.organizations:{quote(_text(o, 'an organization'), wildcard=False)}"
                for o in _as_list(organizations, "organizations")
            ],
            match_all,
        )

    def match_titles(self, titles: str | Sequence[str]) -> Forge:
        """Match datasets whose title has any of ``titles`` (as a phrase; on ``dc.titles.title``)."""
        return self._any_of(
            [
                f"dc.titles.title:{quote(_text(t, 'a title'), wildcard=False)}"
                for t in _as_list(titles, "titles")
            ]
        )

    # -- running it ---------------------------------------------------------------------

    def _query(self, q: str | None) -> str:
        if q is not None:
            if not isinstance(q, str) or not q.strip():
                raise ValidationError(
                    f"q must be a non-empty query string; got {q!r} (q='*' matches everything)"
                )
            return q
        built = self.current_query()
        if not built:
            raise ValidationError(
                "there is no query to run: build one with match_field(), match_elements(), ... "
                "or pass q='...' (q='*' matches everything you may see)"
            )
        return built

    @overload
    def search(
        self,
        q: str | None = ...,
        advanced: bool = ...,
        limit: int | None = ...,
        info: Literal[False] = ...,
        reset_query: bool = ...,
        facets: FacetsArg = ...,
    ) -> list[Document]: ...

    @overload
    def search(
        self,
        q: str | None = ...,
        advanced: bool = ...,
        limit: int | None = ...,
        *,
        info: Literal[True],
        reset_query: bool = ...,
        facets: FacetsArg = ...,
    ) -> WithInfo: ...

    @overload
    def search(
        self,
        q: str | None = ...,
        advanced: bool = ...,
        limit: int | None = ...,
        info: bool = ...,
        reset_query: bool = ...,
        facets: FacetsArg = ...,
    ) -> list[Document] | WithInfo: ...

    def search(
        self,
        q: str | None = None,
        advanced: bool = False,
        limit: int | None = None,
        info: bool = False,
        reset_query: bool = True,
        facets: FacetsArg = None,
    ) -> list[Document] | WithInfo:
        """Run the query and return the matching documents (records and datasets).

        Parameters
        ----------
        q
            A query string to run instead of the built one (which is then left as it
            is). Default: the built query.
        advanced
            Accepted for MDF compatibility; field and full-text queries both work.
        limit
            At most this many results, ``0`` to ``10000``; default 10, as in MDF Forge.
            Use :meth:`aggregate` for more.
        info
            Also return a dict with ``total`` (also as MDF's ``total_query_matches``),
            ``query``, ``limit`` and ``facets``.
        reset_query
            Forget the built query after a successful search (when ``q`` is not given).
        facets
            Field paths (or the facet dicts of :meth:`Hub.search`) to count over the
            whole result; the counts are in ``info["facets"]`` as ``{field: {value:
            count}}``, so this needs ``info=True``.

        Returns
        -------
        list of dict, or (list of dict, dict)
            The documents, and with ``info`` the information dict.
        """
        query = self._query(q)
        n = _limit(limit)
        specs = _facet_specs(facets)
        _check_flag("info", info)
        _check_flag("reset_query", reset_query)
        if specs and not info:
            raise ValidationError(
                "facet counts are returned in the info dict: call search(..., facets=[...], info=True) "
                "or use forge.facets(field)"
            )
        res = self.hub.search(query, facets=specs, limit=n)
        results = res.documents
        if q is None and reset_query:
            self.reset_query()
        if not info:
            return results
        return results, {
            "query": query,
            "total": res.total,
            "total_query_matches": res.total,
            "limit": n,
            "offset": res.offset,
            "facets": {name: _counts(f) for name, f in res.facets.items()},
        }

    @overload
    def search_by_elements(
        self,
        elements: str | Sequence[str],
        source_names: str | Sequence[str] | None = ...,
        limit: int | None = ...,
        match_all: bool = ...,
        info: Literal[False] = ...,
    ) -> list[Document]: ...

    @overload
    def search_by_elements(
        self,
        elements: str | Sequence[str],
        source_names: str | Sequence[str] | None = ...,
        limit: int | None = ...,
        match_all: bool = ...,
        *,
        info: Literal[True],
    ) -> WithInfo: ...

    def search_by_elements(
        self,
        elements: str | Sequence[str],
        source_names: str | Sequence[str] | None = None,
        limit: int | None = None,
        match_all: bool = True,
        info: bool = False,
    ) -> list[Document] | WithInfo:
        """``match_elements(elements, match_all).match_source_names(source_names).search(...)``.

        Adds to (and then resets) the current query, as MDF Forge does.
        """
        self.match_elements(elements, match_all=match_all)
        if source_names:
            self.match_source_names(source_names)
        return self.search(limit=limit, info=info)

    @overload
    def search_by_titles(
        self, titles: str | Sequence[str], limit: int | None = ..., info: Literal[False] = ...
    ) -> list[Document]: ...

    @overload
    def search_by_titles(
        self, titles: str | Sequence[str], limit: int | None = ..., *, info: Literal[True]
    ) -> WithInfo: ...

    def search_by_titles(
        self, titles: str | Sequence[str], limit: int | None = None, info: bool = False
    ) -> list[Document] | WithInfo:
        """``match_titles(titles).search(limit=limit, info=info)``."""
        return self.match_titles(titles).search(limit=limit, info=info)

    def aggregate(self, q: str | None = None, reset_query: bool = True) -> list[dict[str, Any]]:
        """Every document matching the query, with no cap (MDF Forge's stops at 10,000).

        Parameters
        ----------
        q
            A query string to run instead of the built one (left as it is).
        reset_query
            Forget the built query afterwards (when ``q`` is not given).

        Returns
        -------
        list of dict
            All matching documents you may see, in a stable order.
        """
        query = self._query(q)
        _check_flag("reset_query", reset_query)
        results = [hit.document for hit in self.hub.scroll(query)]
        if q is None and reset_query:
            self.reset_query()
        return results

    def aggregate_sources(self, source_names: str | Sequence[str]) -> list[dict[str, Any]]:
        """Every document (the dataset and its records) of ``source_names``; adds to the current query."""
        return self.match_source_names(source_names).aggregate()

    def facets(self, field: str, q: str | None = None, size: int = 10) -> dict[Any, int]:
        """How many matching documents have each value of ``field`` (MDF Forge has no such helper).

        Parameters
        ----------
        field
            A dotted path, e.g. ``"material.elements"``.
        q
            The query to count over; default the built query (kept, not reset), or
            everything you may see when nothing was built.
        size
            The number of most frequent values to return.

        Returns
        -------
        dict
            ``{value: count}``, most frequent first, counted over every document of the
            result that you may see (not only the first page).
        """
        field = _check_field(field)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValidationError(f"size must be a whole number >= 1; got {size!r}")
        query = q if q is not None else (self.current_query() or "*")
        res = self.hub.search(self._query(query), facets=[{"field": field, "size": size}], limit=0)
        return _counts(res.facets[field])

    def show_fields(self, block: str | None = None) -> dict[str, str]:
        """The searchable fields of the documents you may see, with their type.

        Parameters
        ----------
        block
            ``None`` for every field, ``"top"`` for the top-level blocks only (typed
            ``"object"``), or a block or path prefix such as ``"material"`` or ``"dft"``
            for the fields under it.

        Returns
        -------
        dict
            ``{path: type}`` with type ``keyword``, ``number``, ``date`` or ``boolean``
            (the type most documents give the field).
        """
        fields = self.hub.fields()
        if block is None:
            selected = fields
        elif not isinstance(block, str) or not block.strip():
            raise ValidationError(
                f"block must be None, 'top' or a block name such as 'material'; got {block!r}"
            )
        elif block == "top":
            return {path.split(".", 1)[0]: "object" for path in fields}
        else:
            prefix = block.strip().rstrip(".")
            selected = {p: t for p, t in fields.items() if p == prefix or p.startswith(prefix + ".")}
        return {path: max(sorted(types), key=types.__getitem__) for path, types in selected.items()}

    # -- files ---------------------------------------------------------------------------

    def download(
        self, results: Any, dest: str | os.PathLike[str] = ".", preserve_dir: bool = False
    ) -> list[Path]:
        """Download the files of ``results`` from the hub, verifying each sha256.

        Parameters
        ----------
        results
            What :meth:`search` or :meth:`aggregate` returned (a list of documents, or
            the ``(results, info)`` tuple), one document, or a
            :class:`~hub.index.results.SearchResult`. Each file of each record
            (``files[]``) is downloaded once, even when several records share it;
            dataset documents carry no ``files`` and add nothing.
        dest
            The folder to write to (created if needed). Existing files are replaced.
        preserve_dir
            ``True``: write ``dest/<source_id>/<path in the dataset>``. ``False``
            (default): write flat files named by their filename; files whose filename
            is already taken are named ``<source_id>-<filename>`` (then
            ``<source_id>-<path with / as ->``).

        Returns
        -------
        list of Path
            The written files, in the order of the results.

        Raises
        ------
        IntegrityError
            When a file's content does not match the sha256 of its record.
        """
        _check_flag("preserve_dir", preserve_dir)
        files = _files_of(results)
        root = Path(dest).absolute()
        targets = _layout(files, root, preserve_dir)
        written = []
        with tqdm(
            total=sum(f.length for f in files),
            unit="B",
            unit_scale=True,
            desc="download",
            disable=not self.hub.progress,
            leave=False,
        ) as bar:
            for f, target in zip(files, targets):
                self._fetch(f, target)
                written.append(target)
                bar.update(f.length)
        return written

    def _fetch(self, f: _File, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part-{uuid.uuid4().hex[:8]}")
        digest = hashlib.sha256()
        try:
            with self.hub.open(f.source_id, f.path) as src, open(tmp, "wb") as out:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            _verify(f, digest.hexdigest())
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def stream(self, results: Any) -> Iterator[bytes]:
        """The contents of the files of ``results``, one ``bytes`` per file, each verified.

        Parameters
        ----------
        results
            As in :meth:`download`; each file is read once, in the order of the results.

        Yields
        ------
        bytes
            A whole file.

        Raises
        ------
        IntegrityError
            When a file's content does not match the sha256 of its record.
        """
        files = _files_of(results)  # bad input fails here, not at the first next()

        def contents() -> Iterator[bytes]:
            for f in files:
                with self.hub.open(f.source_id, f.path) as src:
                    data = src.read()
                _verify(f, hashlib.sha256(data).hexdigest())
                yield data

        return contents()


# -- helpers ----------------------------------------------------------------------------


def _check_flag(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ValidationError(f"{name} must be True or False; got {value!r}")


def _check_field(field: Any) -> str:
    if not isinstance(field, str) or not _PATH.match(field.strip()):
        raise ValidationError(
            f"a field must be a dotted path such as 'material.elements' or 'custom.band_gap'; got {field!r} "
            "(forge.show_fields() lists the fields)"
        )
    return field.strip()


def _as_list(values: Any, name: str) -> list[Any]:
    if isinstance(values, str | bytes | numbers.Number):
        return [values]
    if isinstance(values, Iterable) and not isinstance(values, Mapping):
        items = list(values)
        if items:
            return items
    raise ValidationError(f"{name} must be a value or a non-empty list of values; got {values!r}")


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{what} must be a non-empty string; got {value!r}")
    return value


def _year(value: Any, name: str) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not re.fullmatch(r"\d{1,4}", text):
        raise ValidationError(f"{name} must be years such as 2019 or '2019'; got {value!r}")
    return int(text)


def _int_or_none(value: Any) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def _limit(limit: Any) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= SEARCH_LIMIT:
        raise ValidationError(
            f"limit must be a whole number from 0 to {SEARCH_LIMIT}; got {limit!r}. "
            "Use forge.aggregate() to get every result"
        )
    return limit


def _facet_specs(facets: Any) -> list[str | dict[str, Any]]:
    if facets is None:
        return []
    items = [facets] if isinstance(facets, str | Mapping) else facets
    if not isinstance(items, Iterable):
        raise ValidationError(f"facets must be a list of field paths; got {facets!r}")
    specs: list[str | dict[str, Any]] = []
    for spec in items:
        if isinstance(spec, str):
            specs.append(_check_field(spec))
        elif isinstance(spec, Mapping) and "field" in spec:
            specs.append({**spec, "field": _check_field(spec["field"])})
        else:
            raise ValidationError(
                f"a facet is a field path such as 'material.elements' or a dict with a 'field'; got {spec!r}"
            )
    return specs


def _counts(facet: Mapping[str, Any]) -> dict[Any, int]:
    return {b["value"]: int(b["count"]) for b in facet.get("buckets", [])}


def _documents(results: Any) -> list[Mapping[str, Any]]:
    if isinstance(results, tuple) and len(results) == 2 and isinstance(results[1], Mapping):
        results = results[0]  # search(..., info=True)
    if isinstance(results, Hit):
        return [results.document]
    if isinstance(results, Mapping):
        return [results]
    if isinstance(results, SearchResult):
        return list(results.documents)
    if isinstance(results, Iterable) and not isinstance(results, str | bytes):
        docs: list[Mapping[str, Any]] = []
        for item in results:
            if isinstance(item, Hit):
                docs.append(item.document)
            elif isinstance(item, Mapping):
                docs.append(item)
            else:
                raise ValidationError(
                    f"results must be documents (dicts) from search() or aggregate(); found {type(item).__name__}"
                )
        return docs
    raise ValidationError(
        f"results must be what search() or aggregate() returned, or one document; got {type(results).__name__}"
    )


def _files_of(results: Any) -> list[_File]:
    """The distinct files of the results' records, in order."""
    files: dict[tuple[str, str], _File] = {}
    for doc in _documents(results):
        entries = doc.get("files") or []
        if not entries:
            continue
        source_id = (doc.get("mdf") or {}).get("source_id")
        for entry in entries:
            path, sha = (
                (entry.get("path"), entry.get("sha256")) if isinstance(entry, Mapping) else (None, None)
            )
            if not (source_id and path and sha):
                raise ValidationError(
                    "a result's file needs mdf.source_id, files[].path and files[].sha256 "
                    f"(as the hub's records have); got source_id={source_id!r}, file={entry!r}"
                )
            key = (str(source_id), str(path))
            if key not in files:
                files[key] = _File(
                    source_id=key[0],
                    path=key[1],
                    filename=str(entry.get("filename") or PurePosixPath(path).name),
                    sha256=str(sha),
                    length=int(entry.get("length") or 0),
                )
    return list(files.values())


def _layout(files: list[_File], root: Path, preserve_dir: bool) -> list[Path]:
    """Where each file goes under ``root``; never outside it, never two files on one name."""
    targets = []
    if preserve_dir:
        relatives = [PurePosixPath(f.source_id, f.path) for f in files]
    else:
        taken: set[str] = set()
        relatives = []
        for f in files:
            candidates = [
                f.filename,
                f"{f.source_id}-{f.filename}",
                f"{f.source_id}-{f.path.replace('/', '-')}",
            ]
            name = next((c for c in candidates if c not in taken), None)
            if name is None:
                stem, suffix = os.path.splitext(candidates[-1])
                name = next(
                    f"{stem}-{i}{suffix}"
                    for i in range(2, len(files) + 2)
                    if f"{stem}-{i}{suffix}" not in taken
                )
            taken.add(name)
            relatives.append(PurePosixPath(name))
    for rel in relatives:
        target = (root / rel).resolve()
        if not target.is_relative_to(root.resolve()) or target == root.resolve():
            raise HubError(f"refusing to write {str(rel)!r} outside {root}")
        targets.append(target)
    return targets


def _verify(f: _File, sha256: str) -> None:
    if sha256 != f.sha256:
        raise IntegrityError(
            f"{f.source_id}/{f.path} does not match its record: the record says sha256 {f.sha256}, "
            f"the hub's file hashes to {sha256}. Search again for a fresh record, or run "
            f"hub.verify({f.source_id!r})"
        )
