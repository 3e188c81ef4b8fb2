"""The field registry: which paths, of which value types, each source's documents hold.

The registry is a JSON file beside the index (``fields.json``):
``{source: {acl: {"path|type": documents}}}``, where ``acl`` is the documents' ACL tokens
joined by spaces (:func:`hub.access.index.document_acl`).  It answers two questions:

- which fields a set of sources holds (:meth:`FieldRegistry.fields`: ``hub.fields()``
  over the datasets a principal may see);
- which value types a field holds *for one principal* (:meth:`FieldRegistry.types`):
  only documents that principal may see count, so a hidden document can change
  neither how a field is sorted (numbers or words) nor how a query on it is compiled
  for anyone who may not see it.  The types a principal is given are what their own
  visible documents say, exactly as if the hidden ones did not exist.

Several processes share the file; each keeps it in memory until it changes on disk.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

#: ``{source: {acl: {"path|type": documents}}}``
Registry = dict[str, dict[str, dict[str, int]]]
#: ``{path: {type: documents}}``
FieldTypes = dict[str, dict[str, int]]
#: How many principals' type views are kept between two changes of the registry.
MAX_VIEWS = 256


def acl_key(acl: Sequence[str]) -> str:
    """The registry's key of a document ACL (its tokens, sorted, joined by spaces)."""
    return " ".join(sorted(acl))


class FieldRegistry:
    """The field registry in the file ``path``.

    Parameters
    ----------
    path
        The registry's JSON file (``fields.json`` in the index folder).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._data: Registry = {}
        self._by_acl: dict[str, FieldTypes] | None = None
        self._views: dict[tuple[str, ...] | None, FieldTypes] = {}

    # -- reading -------------------------------------------------------------------

    def read(self) -> Registry:
        """The registry (read again only when the file changed)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._reset((-1, -1), {})
            return self._data
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            self._reset(stamp, json.loads(self.path.read_text()))
        return self._data

    def _reset(self, stamp: tuple[int, int], data: Registry) -> None:
        if stamp != self._stamp:
            self._stamp, self._data, self._by_acl, self._views = stamp, data, None, {}

    def sources(self) -> set[str]:
        """Every source the registry holds."""
        return set(self.read())

    def fields(self, sources: Iterable[str] | None = None) -> FieldTypes:
        """``{path: {type: documents}}`` over ``sources`` (all when None), sorted by path."""
        data = self.read()
        wanted = set(data) if sources is None else set(sources) & set(data)
        out: FieldTypes = {}
        for source in wanted:
            for counts in data[source].values():
                _add(out, counts)
        return dict(sorted(out.items()))

    def types(self, tokens: tuple[str, ...] | None) -> FieldTypes:
        """``{path: {type: documents}}`` over the documents a principal holding ``tokens`` may see.

        ``tokens`` are the principal's ACL tokens (:func:`hub.access.index.principal_filter`);
        None for an admin, who sees every document.  Cached until the registry changes.
        """
        self.read()
        view = self._views.get(tokens)
        if view is None:
            if self._by_acl is None:
                self._by_acl = {}
                for by_acl in self._data.values():
                    for key, counts in by_acl.items():
                        _add(self._by_acl.setdefault(key, {}), counts)
            view = {}
            wanted = None if tokens is None else set(tokens)
            for key, paths in self._by_acl.items():
                if wanted is None or wanted & set(key.split()):
                    for path, typed in paths.items():
                        into = view.setdefault(path, {})
                        for typ, n in typed.items():
                            into[typ] = into.get(typ, 0) + n
            if len(self._views) >= MAX_VIEWS:
                self._views.clear()
            self._views[tokens] = view
        return view

    # -- writing -------------------------------------------------------------------

    def update(
        self, remove: Sequence[str], added: Mapping[str, Mapping[str, Counter[tuple[str, str]]]]
    ) -> None:
        """Drop the ``remove`` sources, then count ``added`` (``{source: {acl: Counter((path, type))}}``)."""
        data = {source: {k: dict(v) for k, v in by_acl.items()} for source, by_acl in self.read().items()}
        for source in remove:
            data.pop(source, None)
        for source, by_acl in added.items():
            into = data.setdefault(source, {})
            for key, counter in by_acl.items():
                merged = Counter(into.get(key, {}))
                merged.update({f"{p}|{t}": n for (p, t), n in counter.items()})
                into[key] = dict(merged)
        self.write(data)

    def write(self, data: Registry) -> None:
        """Replace the registry with ``data`` (atomically: readers see the old or the new one)."""
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, sort_keys=True))
        os.replace(tmp, self.path)


def _add(into: FieldTypes, counts: Mapping[str, int]) -> None:
    """Add ``{"path|type": n}`` counts to ``{path: {type: n}}``."""
    for key, n in counts.items():
        path, typ = key.split("|", 1)
        typed = into.setdefault(path, {})
        typed[typ] = typed.get(typ, 0) + n
