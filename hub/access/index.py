"""The access policy as the search index's filter.

Every indexed document carries ACL tokens (:func:`document_acl`): for each grant of
:data:`hub.access.policy.POLICY` that lets someone see it, the token a principal
admitted by that grant holds (``user:<owner id>`` for its owner, ``group:curators`` for
the curators, the entries its ACL lists as the catalog stores them: ``user:<id>``).  A search keeps the documents that share a
token with the asking principal's (:func:`principal_filter`); admins see every
document, so their searches carry no filter.  Grants are decided when a document is
indexed (a change of status re-indexes it), so hits, totals, facet counts, scroll
pages and fields give exactly what :func:`hub.access.policy.allowed` gives.
"""

from __future__ import annotations

import tantivy

from hub.access.policy import Action, Kind, Resource, Who, rule
from hub.access.principal import CURATOR_GROUP, Principal

#: The kinds the index holds; admins see each (so their searches are not filtered).
INDEXED = (Kind.DATASET, Kind.RECORD, Kind.SERVABLE)
#: The document field holding the ACL tokens.
FIELD = "acl"


def document_acl(resource: Resource) -> list[str]:
    """The ACL tokens of ``resource``'s document (admins are not listed: they bypass the filter).

    Raises
    ------
    ValueError
        When a grant that lets someone see it cannot be written as tokens.
    """
    out: set[str] = set()
    for grant in rule(resource.kind, Action.SEE):
        if grant.status is not None and resource.status != grant.status:
            continue
        match grant.who:
            case Who.ADMIN:
                pass
            case Who.OWNER:
                if resource.owner is not None:
                    out.add(f"user:{resource.owner}")
            case Who.CURATOR:
                out.add(f"group:{CURATOR_GROUP}")
            case Who.LISTED:
                assert grant.right is not None
                out.update(resource.acl.get(grant.right, frozenset()))
            case Who.SIGNED_IN | Who.ANONYMOUS:
                raise ValueError(f"{grant} cannot be indexed as tokens ({resource.kind} {Action.SEE})")
    return sorted(out)


def principal_filter(principal: Principal) -> tuple[str, ...] | None:
    """The tokens a document must share with ``principal`` to be found; None: no filter (admins)."""
    if principal.is_admin:
        return None
    return tuple(principal.tokens())


def index_filter(schema: tantivy.Schema, principal: Principal) -> tantivy.Query | None:
    """The query every search of ``principal`` is intersected with; None for admins."""
    tokens = principal_filter(principal)
    if tokens is None:
        return None
    return tantivy.Query.term_set_query(schema, FIELD, list(tokens))
