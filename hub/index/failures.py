"""The search engine's own failures, as plain :class:`~hub.exceptions.QueryError` messages.

tantivy raises ``ValueError`` for a query it refuses and a Rust panic
(``PanicException``, a ``BaseException``) for one it cannot run.  Their text names the
engine's internals (its fields, its Rust source files, its memory accounting), so the
caller gets a plain message with a hint and the engine's text goes to the log.  The
query compiler and the engine check what they can before calling it (range bounds,
proximities, boosts, facet parameters); this is the net under those checks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from hub.exceptions import QueryError

log = logging.getLogger("matterhub.index")


def is_panic(exc: BaseException) -> bool:
    """Whether ``exc`` is a Rust panic raised through the engine's Python binding."""
    return type(exc).__name__ == "PanicException"


def engine_failure(exc: BaseException, query: str) -> None:
    """Log what the engine said about ``query`` (a panic as a warning: it is a bug to guard against)."""
    level = logging.WARNING if is_panic(exc) else logging.INFO
    log.log(level, "the search engine failed on %.200r: %s: %.500s", query, type(exc).__name__, exc)


@contextmanager
def engine_errors(query: str, what: str = "") -> Iterator[None]:
    """Turn the engine's errors inside the block into a plain :class:`QueryError` (400).

    ``what`` prefixes the message (``"facets: "``).  A refusal and a panic alike become
    a message naming neither the engine's fields nor its source; anything else passes.
    """
    try:
        yield
    except QueryError:
        raise
    except (ValueError, TypeError, ArithmeticError) as exc:
        engine_failure(exc, query)
        raise QueryError(
            f"{what}the search engine refused this query",
            query,
            hint="check the fields' types with hub.fields() and the values given",
        ) from None
    except BaseException as exc:
        if not is_panic(exc):
            raise
        engine_failure(exc, query)
        raise QueryError(
            f"{what}the search engine could not run this query",
            query,
            hint="simplify it (fewer or smaller values); if it looks right, report it to the hub's admins",
        ) from None
