"""The search index: a tantivy index beside the catalog.

The index is derived: :func:`hub.index.sync.rebuild` makes it again from the
catalog at any time.  It holds the latest version of each dataset (its dataset
document and its records); older versions stay readable by id through the
catalog.  Access control is applied here, below every search path (hits,
totals, facets, scroll, fields): each document carries the principals that may
see it, and every query is intersected with the asking principal's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tantivy

from hub.access import Principal
from hub.access.index import index_filter, principal_filter
from hub.exceptions import ConfigurationError, QueryError, quoted
from hub.index.documents import prepare_document
from hub.index.facets import FacetSpec, auto_interval, check_bins, facet_name, histogram_request, ms_to_iso
from hub.index.failures import engine_errors
from hub.index.query import _PATH, Occur, compile_query
from hub.index.registry import FieldRegistry, acl_key
from hub.index.results import Hit, SearchResult
from hub.index.schema import SCHEMA_VERSION, build_schema
from hub.index.unknown_fields import unknown_field_warnings

if TYPE_CHECKING:
    from hub.index.handoff import IndexHandoff

Q = tantivy.Query
WRITER_HEAP = 128 * 1024 * 1024
WRITER_THREADS = 2
LOCK_WAIT_S = 120.0
MAX_LIMIT = 10_000
#: The deepest page ``offset + limit`` may reach (the engine allocates that many slots;
#: past it, page with scroll, whose cost does not grow with depth).
MAX_WINDOW = 1_000_000
SCROLL_BATCH = 1_000


@dataclass(frozen=True)
class IndexDoc:
    """One document to index."""

    id: str
    kind: str
    source: str
    acl: list[str]
    doc: dict[str, Any]


class SearchIndex:
    """A tantivy index at ``path``; created (empty) when missing.

    Parameters
    ----------
    path
        The index folder.
    handoff
        Open the index read-only: its writes are the hub's index writer's, in another
        process (:mod:`hub.index.handoff`), which made the folder.
    """

    def __init__(self, path: str | os.PathLike[str], handoff: IndexHandoff | None = None) -> None:
        self.path = Path(path)
        self.schema = build_schema()
        self.needs_rebuild = False
        #: Where this read-only index's changes go (None: this process writes it).
        self.handoff = handoff
        self._committed: list[Callable[[], None]] = []
        if handoff is not None:
            handoff.on_commit(self.refresh)
        version_file = self.path / "SCHEMA_VERSION"
        if handoff is not None and (
            not version_file.exists() or version_file.read_text().strip() != str(SCHEMA_VERSION)
        ):
            raise ConfigurationError(
                f"the search index at {self.path} is missing or of another schema; a read-only process "
                "opens the index its writer made: start the writer (matterhub serve) first"
            )
        if self.path.exists() and (
            not version_file.exists() or version_file.read_text().strip() != str(SCHEMA_VERSION)
        ):
            shutil.rmtree(self.path)
            self.needs_rebuild = True
        if not self.path.exists():
            self.path.mkdir(parents=True)
            version_file.write_text(str(SCHEMA_VERSION))
            self.needs_rebuild = True
        if (self.path / "STALE").exists():
            self.needs_rebuild = True
        self.index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        #: which paths and types each source's documents hold (:mod:`hub.index.registry`)
        self.registry = FieldRegistry(self.path / "fields.json")
        self._seen_commit: tuple[int, int] | None = None
        self._range_cache: dict[tuple[Any, ...], tuple[float, float] | None] = {}

    def mark_stale(self, reason: str) -> None:
        """Note that the index missed a change; the next open rebuilds it."""
        (self.path / "STALE").write_text(reason + "\n")
        self.needs_rebuild = True

    # -- writing -------------------------------------------------------------------

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after each commit of this process (the writer announces them)."""
        self._committed.append(callback)

    def _announce(self) -> None:
        for callback in self._committed:
            callback()

    @contextmanager
    def _writer(self) -> Iterator[tantivy.IndexWriter]:
        if self.handoff is not None:
            raise ConfigurationError(
                f"the search index at {self.path} is open read-only here: its writer is another process"
            )
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                writer = self.index.writer(heap_size=WRITER_HEAP, num_threads=WRITER_THREADS)
                break
            except ValueError as exc:
                if "Lock" not in str(exc) or time.monotonic() > deadline:
                    raise ConfigurationError(
                        f"the search index at {self.path} cannot be written: {exc}"
                    ) from exc
                time.sleep(0.05)
        try:
            yield writer
        except BaseException:
            writer.rollback()
            raise
        finally:
            del writer

    def replace_sources(
        self, remove: Sequence[str], docs: Iterable[IndexDoc], remove_name: str | None = None
    ) -> int:
        """Delete every document of the ``remove`` sources and add ``docs``, in one commit.

        With ``remove_name``, the documents of every version of that dataset name are
        deleted too.  The field registry (:meth:`fields`) follows.

        Returns
        -------
        int
            How many documents were added.
        """
        n = 0
        types: dict[str, dict[str, Counter[tuple[str, str]]]] = {}
        remove = list(remove)
        if remove_name is not None:
            pattern = re.compile(rf"^{re.escape(remove_name)}_v\d+$")
            remove += [source for source in self.registry.sources() if pattern.match(source)]
        with self._writer() as w:
            if remove_name is not None:
                w.delete_documents_by_query(Q.term_query(self.schema, "kw.mdf.source_name", remove_name))
            for source in remove:
                w.delete_documents_by_term("source", source)
            for d in docs:
                document, doc_types = prepare_document(d.id, d.kind, d.source, d.acl, d.doc)
                w.add_json(document)
                types.setdefault(d.source, {}).setdefault(acl_key(d.acl), Counter()).update(doc_types)
                n += 1
            w.commit()
            self.registry.update(remove, types)  # at once: searches already see the commit
            w.wait_merging_threads()
        self.index.reload()
        self._announce()
        return n

    def clear(self) -> None:
        """Delete every document and empty the field registry, in one commit."""
        with self._writer() as w:
            w.delete_all_documents()
            w.commit()
            self.registry.write({})
            w.wait_merging_threads()
        self.index.reload()
        self._announce()

    def mark_fresh(self) -> None:
        """Note that the index matches the catalog again (after a rebuild)."""
        (self.path / "STALE").unlink(missing_ok=True)
        self.needs_rebuild = False

    # -- reading -------------------------------------------------------------------

    def searcher(self) -> tantivy.Searcher:
        """A searcher on the latest commit, this process's or another's.

        The index is reloaded only when its ``meta.json`` changed.
        """
        try:
            st = (self.path / "meta.json").stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = (-1, -1)
        if stamp != self._seen_commit:
            self.index.reload()
            self._seen_commit = stamp
        return self.index.searcher()

    def refresh(self, payload: str | None = None) -> None:
        """Reload the searcher on the latest commit now (a change listener's callback; ``payload`` unused)."""
        self.index.reload()
        self._seen_commit = None

    def count(self) -> int:
        """How many documents the index holds, whoever may see them."""
        return int(self.searcher().num_docs)

    def fields(self, sources: Iterable[str] | None = None) -> dict[str, dict[str, int]]:
        """``{path: {type: documents}}`` over ``sources`` (all when None)."""
        return self.registry.fields(sources)

    def field_types(self, principal: Principal) -> dict[str, dict[str, int]]:
        """``{path: {type: documents}}`` over the documents ``principal`` may see.

        Every type-dependent behaviour (how a query on a field is compiled, whether a
        sort is numeric, boolean facet values) reads this, so documents hidden from
        ``principal`` never change what they observe (:mod:`hub.index.registry`).
        """
        return self.registry.types(principal_filter(principal))

    def field_type(self, path: str, principal: Principal) -> str | None:
        """The type most documents ``principal`` may see give ``path`` (number, date, keyword, boolean)."""
        typed = self.field_types(principal).get(path)
        return max(typed, key=lambda k: typed[k]) if typed else None

    def filter_query(
        self, principal: Principal, kinds: Sequence[str] | None = None
    ) -> list[tuple[Any, tantivy.Query]]:
        """The ``Must`` clauses limiting a query to what ``principal`` may see (and to ``kinds``).

        Empty for an admin (who sees everything) and no ``kinds``.
        """
        clauses: list[tuple[Any, tantivy.Query]] = []
        acl = index_filter(self.schema, principal)
        if acl is not None:
            clauses.append((Occur.Must, acl))
        if kinds:
            clauses.append((Occur.Must, Q.term_set_query(self.schema, "kind", list(kinds))))
        return clauses

    def build_query(
        self,
        query: str,
        principal: Principal,
        *,
        filters: dict[str, Any] | None = None,
        kinds: Sequence[str] | None = None,
    ) -> tantivy.Query:
        """The user's query, its facet filters and the access filter, as one query."""
        types = self.field_types(principal)
        clauses = [(Occur.Must, compile_query(query, self.schema, self.index, types=types))]
        for path, values in (filters or {}).items():
            if not isinstance(path, str) or not _PATH.match(path):
                raise QueryError(
                    f"a filter's key is a field path such as material.elements; got {quoted(path)}"
                )
            values = values if isinstance(values, list | tuple | set) else [values]
            for v in values:
                if not isinstance(v, str | int | float):  # bool is an int
                    raise QueryError(
                        f"a filter's values are strings, numbers or booleans; got {quoted(v)} for {quoted(path)}",
                        hint="filters={'field': value} or {'field': [value, ...]}",
                    )
            alternatives = [
                compile_query(f"{path}:{_quote(v)}", self.schema, self.index, types=types) for v in values
            ]
            if alternatives:
                clauses.append((Occur.Must, Q.boolean_query([(Occur.Should, q) for q in alternatives])))
        clauses += self.filter_query(principal, kinds)
        return Q.boolean_query(clauses)

    def search(
        self,
        query: str,
        principal: Principal,
        *,
        facets: Sequence[str | dict[str, Any] | FacetSpec] = (),
        filters: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        sort: str | Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
    ) -> SearchResult:
        """One page of the documents ``principal`` may see that match ``query``.

        Parameters
        ----------
        query : str
            A query in the hub's query language (:mod:`hub.index.query`).
        principal : Principal
            Who asks: hits, totals and facets only count what they may see.
        facets : sequence of str, dict or FacetSpec
            The facets to compute over every match (:meth:`FacetSpec.of`).
        filters : dict, optional
            ``{path: value or list of values}``; a document must match one value of each path.
        limit, offset : int
            The page: at most :data:`MAX_LIMIT` hits, ``offset + limit`` at most :data:`MAX_WINDOW`.
        sort : str or sequence of str, optional
            Dotted paths, ``-path`` or ``path:desc`` descending; by score when None.
        kinds : sequence of str, optional
            Only documents of these kinds (``dataset``, ``record``, ``servable``).

        Returns
        -------
        SearchResult
            The page, the exact total and the facets; ``warnings`` names each field the
            query, filters, facets or sort name that no document ``principal`` may see has,
            with the nearest fields (:mod:`hub.index.unknown_fields`); a facet on such a
            field carries its ``warning`` too.

        Raises
        ------
        QueryError
            When the query, a facet or the page is not one the index can answer.
        """
        if not isinstance(limit, int) or not isinstance(offset, int) or isinstance(limit, bool):
            raise QueryError(
                f"limit and offset must be whole numbers; got limit={limit!r}, offset={offset!r}"
            )
        if limit < 0 or offset < 0:
            raise QueryError(f"limit and offset must be >= 0; got limit={limit}, offset={offset}")
        if limit > MAX_LIMIT:
            raise QueryError(
                f"Max allowed limit is {MAX_LIMIT}, you requested {limit}; use hub.scroll() for more"
            )
        if offset + limit > MAX_WINDOW:
            raise QueryError(
                f"offset + limit may reach {MAX_WINDOW} at most (got offset={offset}, limit={limit}); "
                "page deeper with hub.scroll()"
            )
        q = self.build_query(query, principal, filters=filters, kinds=kinds)
        specs = [FacetSpec.of(f) for f in facets]
        sort_keys = _sort_keys(sort)
        searcher = self.searcher()
        with engine_errors(query):
            if not sort_keys or sort_keys == [("_score", True)]:
                res = searcher.search(q, max(limit, 1), count=True, offset=offset)
                hits = [self._hit(searcher, addr, score) for score, addr in res.hits[:limit]]
                total = _total(res)
            else:
                total = _count(searcher, q)
                hits = self._sorted_hits(searcher, q, sort_keys, limit, offset, principal)
        with engine_errors(query, "facets: "):
            facet_results = self._facets(searcher, q, specs, principal)
        warnings = unknown_field_warnings(
            self.field_types(principal),
            query=query,
            filters=filters,
            facets=[s.field for s in specs],
            sort=[path for path, _ in sort_keys],
        )
        unknown_facets = {w["field"]: w["message"] for w in warnings if w["where"] == "facets"}
        for spec in specs:
            if spec.field in unknown_facets:
                facet_results[facet_name(spec, specs)]["warning"] = unknown_facets[spec.field]
        return SearchResult(
            query=query,
            total=total,
            hits=hits,
            facets=facet_results,
            offset=offset,
            limit=limit,
            warnings=warnings,
        )

    def scroll(
        self,
        query: str,
        principal: Principal,
        *,
        filters: dict[str, Any] | None = None,
        kinds: Sequence[str] | None = None,
        batch: int = SCROLL_BATCH,
    ) -> Iterator[Hit]:
        """Every hit, in a stable order (by ``seq``), with no cap; keyset paging."""
        q = self.build_query(query, principal, filters=filters, kinds=kinds)
        last: int | None = None
        while True:
            searcher = self.searcher()
            page = self._scroll_page(searcher, q, query, last, batch)
            if not page:
                return
            for key, addr in page:
                yield self._hit(searcher, addr, None)
                last = int(key)
            if len(page) < batch:
                return

    def scroll_page(
        self,
        query: str,
        principal: Principal,
        *,
        filters: dict[str, Any] | None = None,
        kinds: Sequence[str] | None = None,
        after: int | None = None,
        size: int = SCROLL_BATCH,
    ) -> tuple[list[Hit], int | None]:
        """One page of :meth:`scroll`: the hits after cursor ``after`` and the next cursor.

        The next cursor is None on the last page.  Cursors are stable across index
        updates (``seq`` only grows).

        Raises
        ------
        QueryError
            When ``size`` is not 1 to :data:`MAX_LIMIT`, ``after`` is not a cursor, or
            the query is not one the index can answer.
        """
        if not 1 <= size <= MAX_LIMIT:
            raise QueryError(f"a scroll page holds 1 to {MAX_LIMIT} hits; got {size}")
        if after is not None and not 0 <= after < 2**63:
            raise QueryError(f"{after!r} is not a scroll cursor")
        q = self.build_query(query, principal, filters=filters, kinds=kinds)
        searcher = self.searcher()
        page = self._scroll_page(searcher, q, query, after, size)
        hits = [self._hit(searcher, addr, None) for _, addr in page]
        return hits, (int(page[-1][0]) if len(page) == size else None)

    def _scroll_page(
        self, searcher: tantivy.Searcher, q: tantivy.Query, query: str, last: int | None, batch: int
    ) -> list[Any]:
        with engine_errors(query):
            page_q = (
                q
                if last is None
                else Q.boolean_query(
                    [
                        (Occur.Must, q),
                        (
                            Occur.Must,
                            Q.range_query(
                                self.schema, "seq", tantivy.FieldType.Integer, last, None, include_lower=False
                            ),
                        ),
                    ]
                )
            )
            res = searcher.search(page_q, batch, count=False, order_by_field="seq", order=tantivy.Order.Asc)
        return list(res.hits)

    # -- helpers ---------------------------------------------------------------------

    @staticmethod
    def _hit(searcher: tantivy.Searcher, addr: Any, score: float | None) -> Hit:
        d = searcher.doc(addr)
        doc = json.loads(d["src"][0])
        return Hit(
            id=d["id"][0], kind=d["kind"][0], score=float(score) if score is not None else None, document=doc
        )

    def _docs_by_id(self, searcher: tantivy.Searcher, ids: list[str]) -> dict[str, Hit]:
        if not ids:
            return {}
        res = searcher.search(Q.term_set_query(self.schema, "id", ids), len(ids), count=False)
        hits = [self._hit(searcher, addr, None) for _, addr in res.hits]
        return {h.id: h for h in hits}

    def _sorted_hits(
        self,
        searcher: tantivy.Searcher,
        q: tantivy.Query,
        keys: list[tuple[str, bool]],
        limit: int,
        offset: int,
        principal: Principal,
    ) -> list[Hit]:
        if limit == 0:
            return []
        path, ascending = keys[0]
        typ = self.field_type(path, principal)
        if typ in ("number", "date"):
            ids = self._sorted_ids_fast(searcher, q, path, ascending, limit, offset)
        else:
            ids = self._sorted_ids_python(searcher, q, keys, limit, offset)
        by_id = self._docs_by_id(searcher, ids)
        return [by_id[i] for i in ids if i in by_id]

    def _sorted_ids_fast(
        self,
        searcher: tantivy.Searcher,
        q: tantivy.Query,
        path: str,
        ascending: bool,
        limit: int,
        offset: int,
    ) -> list[str]:
        """Sorted by a numeric or date fast field; documents without it come last (by seq)."""
        has = Q.boolean_query([(Occur.Must, q), (Occur.Must, Q.exists_query(f"kw.{path}", True))])
        n_has = _count(searcher, has)
        ids: list[str] = []
        if offset < n_has:
            agg = {
                "top": {
                    "top_hits": {
                        "size": min(limit, n_has - offset),
                        "from": offset,
                        "sort": [{f"kw.{path}": "asc" if ascending else "desc"}, {"seq": "asc"}],
                        "docvalue_fields": ["id"],
                    }
                }
            }
            result = searcher.aggregate(has, agg)
            ids = [h["docvalue_fields"]["id"][0] for h in result["top"]["hits"]]
        if len(ids) < limit:
            missing = Q.boolean_query([(Occur.Must, q), (Occur.MustNot, Q.exists_query(f"kw.{path}", True))])
            start = max(0, offset - n_has)
            res = searcher.search(
                missing,
                limit - len(ids),
                count=False,
                offset=start,
                order_by_field="seq",
                order=tantivy.Order.Asc,
            )
            ids += [searcher.doc(addr)["id"][0] for _, addr in res.hits]
        return ids

    def _sorted_ids_python(
        self,
        searcher: tantivy.Searcher,
        q: tantivy.Query,
        keys: list[tuple[str, bool]],
        limit: int,
        offset: int,
    ) -> list[str]:
        """Sorted by keyword fields: reads the sort values of every match (costs O(matches))."""
        rows = []
        res = searcher.search(
            q,
            max(1, _count(searcher, q)),
            count=False,
            order_by_field="seq",
            order=tantivy.Order.Asc,
        )
        for _, addr in res.hits:
            d = searcher.doc(addr)
            doc = json.loads(d["src"][0])
            rows.append((d["id"][0], [_sort_value(doc, p) for p, _ in keys]))
        for i in reversed(range(len(keys))):
            ascending = keys[i][1]

            def key(r: tuple[str, list[Any]], i: int = i, ascending: bool = ascending) -> tuple[int, str]:
                return _missing_last(r[1][i], ascending)

            rows.sort(key=key, reverse=not ascending)
        return [r[0] for r in rows[offset : offset + limit]]

    def _facets(
        self, searcher: tantivy.Searcher, q: tantivy.Query, specs: Sequence[FacetSpec], principal: Principal
    ) -> dict[str, Any]:
        """Every facet in one aggregation pass over the matches.

        A histogram without an interval takes its bins from the range of the field
        over everything the principal may see (cached until the next commit), so
        bins stay put while the user drills down; one with more bins over that range
        than :data:`~hub.index.facets.MAX_HISTOGRAM_BUCKETS` is refused before it runs.
        """
        if not specs:
            return {}
        request: dict[str, Any] = {}
        intervals: dict[int, float | str | None] = {}
        for i, spec in enumerate(specs):
            path = f"kw.{spec.field}"
            if spec.type == "terms":
                request[f"f{i}"] = {"terms": {"field": path, "size": spec.size}}
                continue
            bounds = self._visible_range(searcher, spec.field, principal)
            interval = spec.interval or auto_interval(spec, bounds)
            intervals[i] = interval
            if interval is not None:
                check_bins(spec, interval, bounds)
                request[f"f{i}"] = histogram_request(spec, path, interval)
        res = searcher.aggregate(q, request) if request else {}
        return {
            facet_name(spec, specs): self._facet_result(spec, res.get(f"f{i}"), intervals.get(i), principal)
            for i, spec in enumerate(specs)
        }

    def _visible_range(
        self, searcher: tantivy.Searcher, field: str, principal: Principal
    ) -> tuple[float, float] | None:
        """The smallest and largest value of ``field`` over what ``principal`` may see (None: none)."""
        who = principal_filter(principal) or ("*",)
        key = (self._seen_commit, who, field)
        if key not in self._range_cache:
            visible = Q.boolean_query([(Occur.Must, Q.all_query()), *self.filter_query(principal)])
            stats = searcher.aggregate(visible, {"s": {"stats": {"field": f"kw.{field}"}}})["s"]
            found = (float(stats["min"]), float(stats["max"])) if stats.get("count") else None
            if len(self._range_cache) > 1024:
                self._range_cache.clear()
            self._range_cache[key] = found
        return self._range_cache[key]

    def _facet_result(
        self,
        spec: FacetSpec,
        res: dict[str, Any] | None,
        interval: float | str | None,
        principal: Principal,
    ) -> dict[str, Any]:
        if spec.type == "terms":
            assert res is not None
            boolean = self.field_type(spec.field, principal) == "boolean"
            return {
                "type": "terms",
                "buckets": [
                    {"value": bool(b["key"]) if boolean else b["key"], "count": int(b["doc_count"])}
                    for b in res["buckets"]
                ],
                "other": int(res.get("sum_other_doc_count", 0)),
            }
        interval = spec.interval if spec.interval else interval
        if res is None:
            return {"type": spec.type, "buckets": [], "interval": interval}
        if spec.type == "histogram":
            return {
                "type": "histogram",
                "interval": float(interval) if interval is not None else None,
                "buckets": [{"value": float(b["key"]), "count": int(b["doc_count"])} for b in res["buckets"]],
            }
        return {
            "type": "date_histogram",
            "interval": str(interval),
            "buckets": [
                {"value": b.get("key_as_string") or ms_to_iso(b["key"]), "count": int(b["doc_count"])}
                for b in res["buckets"]
            ],
        }


def _count(searcher: tantivy.Searcher, q: tantivy.Query) -> int:
    """How many documents match ``q`` (tantivy wants a limit of at least 1)."""
    return _total(searcher.search(q, 1, count=True))


def _total(res: Any) -> int:
    """The exact count of a tantivy search run with ``count=True``."""
    return int(getattr(res, "count", 0) or 0)


def _quote(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _sort_keys(sort: str | Sequence[str] | None) -> list[tuple[str, bool]]:
    if sort is None:
        return []
    items = [sort] if isinstance(sort, str) else list(sort)
    out = []
    for item in items:
        item = item.strip()
        if item.startswith("-"):
            out.append((item[1:], False))
        elif item.endswith((":desc", " desc")):
            out.append((item.rsplit(":" if ":" in item else " ", 1)[0], False))
        else:
            out.append((item.removeprefix("+").removesuffix(":asc").removesuffix(" asc"), True))
    for path, _ in out:
        if path != "_score" and not _PATH.match(path):
            raise QueryError(
                f"cannot sort by {path!r}: not a field path",
                hint="sort by a dotted path such as custom.band_gap, or -custom.band_gap for descending",
            )
    return out


def _sort_value(doc: dict[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        if isinstance(value, list):
            value = [v.get(part) if isinstance(v, dict) else None for v in value]
            value = [v for v in value if v is not None]
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    if isinstance(value, list):
        value = min((v for v in value if v is not None), default=None, key=str)
    return value


def _missing_last(value: Any, ascending: bool) -> tuple[int, str]:
    if value is None:
        return (1, "") if ascending else (-1, "")
    return (0, str(value))
