"""Result pages of subjects, as Globus Search pages them.

A page holds ``limit`` subjects from ``offset`` on; ``total`` counts subjects; each
subject comes with every entry of it that matches and the caller may see (see
:mod:`hub.service.globus.documents` for what a subject is here).

Most callers can see at most one entry per subject: everyone but the owner of a
dataset with a version waiting for curation, and the curators.  For them a page is
one ``hub.search``.  When the caller may see two indexed versions of a dataset,
the entries of that dataset matching the query are grouped by subject first (one
scroll over that dataset's matches), then the result is read in order, each
subject taking its place at its best-ranked entry.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from hub.access import PENDING_CURATION, Action, Kind, possible
from hub.forge import quote
from hub.hubs.embedded import EmbeddedHub
from hub.index.results import Hit
from hub.service.globus.documents import Subject, single_subjects, subject_of

#: Hits read per ``hub.search`` while walking a result for subjects.
CHUNK = 2_000


@dataclass
class Page:
    """One page of subjects and the number of subjects in all (``total``)."""

    subjects: list[Subject]
    total: int


def shared_sources(hub: EmbeddedHub) -> list[str]:
    """The dataset names of which the caller may see more than one indexed version."""
    if not possible(hub.principal, Action.SEE, Kind.DATASET, PENDING_CURATION):
        return []  # who sees no version waiting for curation sees one version per name
    pending = hub.search("mdf.status:pending_curation", kinds=["dataset"], limit=10_000).hits
    names = sorted({str(h.document["mdf"]["source_name"]) for h in pending})
    if not names:
        return []
    either = " OR ".join(f"mdf.source_name:{quote(n, wildcard=False)}" for n in names)
    datasets = hub.search(f"({either})", kinds=["dataset"], limit=10_000).hits
    seen: dict[str, int] = {}
    for h in datasets:
        name = str(h.document["mdf"]["source_name"])
        seen[name] = seen.get(name, 0) + 1
    return [n for n, versions in sorted(seen.items()) if versions > 1]


def page(
    hub: EmbeddedHub,
    query: str,
    *,
    kinds: list[str],
    limit: int,
    offset: int,
    sort: Sequence[str] | None,
    grouped: bool,
) -> Page:
    """Subjects ``offset`` to ``offset + limit`` of ``query`` and the number of subjects.

    ``grouped``: the index groups versions of a dataset under one subject (the MDF index).
    """
    shared = shared_sources(hub) if grouped else []
    if shared:
        multi = _multi_entry_subjects(hub, query, kinds, shared)
        if multi:
            return _grouped_page(hub, query, kinds, limit, offset, sort, multi)
    res = hub.search(query, limit=limit, offset=offset, sort=list(sort) if sort else None, kinds=kinds)
    return Page(single_subjects(res.hits), res.total)


def _multi_entry_subjects(
    hub: EmbeddedHub, query: str, kinds: list[str], names: list[str]
) -> dict[str, list[Hit]]:
    """The subjects of ``names`` with more than one matching entry.

    Each with those entries, newest version first.
    """
    either = " OR ".join(f"mdf.source_name:{quote(n, wildcard=False)}" for n in names)
    groups: dict[str, list[Hit]] = {}
    for hit in hub.scroll(f"({query}) AND ({either})", kinds=kinds):
        groups.setdefault(subject_of(hit), []).append(hit)
    return {
        s: sorted(hits, key=lambda h: -int(h.document["mdf"].get("version", 0)))
        for s, hits in groups.items()
        if len(hits) > 1
    }


def _hits_in_order(
    hub: EmbeddedHub, query: str, kinds: list[str], sort: Sequence[str] | None
) -> Iterator[Hit]:
    start = 0
    while True:
        res = hub.search(query, limit=CHUNK, offset=start, sort=list(sort) if sort else None, kinds=kinds)
        yield from res.hits
        start += len(res.hits)
        if len(res.hits) < CHUNK or start >= res.total:
            return


def _grouped_page(
    hub: EmbeddedHub,
    query: str,
    kinds: list[str],
    limit: int,
    offset: int,
    sort: Sequence[str] | None,
    multi: dict[str, list[Hit]],
) -> Page:
    entries = hub.search(query, limit=0, kinds=kinds).total
    total = entries - sum(len(hits) - 1 for hits in multi.values())
    wanted = offset + limit
    taken: dict[str, Subject] = {}
    if limit:
        for hit in _hits_in_order(hub, query, kinds, sort):
            subject = subject_of(hit)
            if subject not in taken:
                taken[subject] = Subject(subject, multi.get(subject, [hit]))
                if len(taken) >= wanted:
                    break
    return Page(list(taken.values())[offset:wanted], total)
