"""The index's tantivy schema: one shape for datasets, records and servables.

Every document is stored once (``src``) and indexed several ways, so any dotted
path of any document is searchable without declaring it:

========  ===========================================================
``id``     the document's id (record_id, source_id, servable name); raw, fast
``kind``   ``record`` | ``dataset`` | ``servable``
``source`` the dataset version (source_id) a document belongs to; raw
``acl``    the principals that may see it (``public``, ``user:<id>``, ``group:y``)
``seq``    a stable 63-bit number from the id: scroll order and tie-break
``kw``     the document as JSON, raw tokenizer, fast: exact values, ranges,
           facets, sorting, ``_exists_``
``nm``     strings that are numbers (``"2019"``) as numbers: numeric ranges on them
``tx``     the document's strings as JSON, default analyzer: words in a field
``all``    every string of the document, analyzed: bare words
``pv``     ``path=value`` for every string: wildcards and regexes on a field
``pt``     ``path=token`` for every analyzed word: wildcards within text
``src``    the document as JSON bytes, stored (compressed by tantivy), not indexed
========  ===========================================================
"""

from __future__ import annotations

import tantivy

FIELDS = ("id", "kind", "source", "acl", "seq", "kw", "nm", "tx", "all", "pv", "pt", "src")
#: Changing it rebuilds every index from its catalog on the next open (6: users in ``acl`` by
#: id, not by name; the field registry counts types per ACL; the documents name no server
#: path since catalog migration 0005; 7: ``src`` stored as bytes and no longer indexed, as
#: nothing searches it and a whole document as one raw term was the costliest part of indexing).
SCHEMA_VERSION = 7


def build_schema() -> tantivy.Schema:
    """The tantivy schema of the index: the fields of the table above (:data:`FIELDS`)."""
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw", fast=True, index_option="basic")
    sb.add_text_field("kind", stored=True, tokenizer_name="raw", fast=True, index_option="basic")
    sb.add_text_field("source", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("acl", tokenizer_name="raw", index_option="basic")
    sb.add_integer_field("seq", fast=True, indexed=True, stored=True)
    sb.add_json_field("kw", stored=False, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_json_field("nm", stored=False, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_json_field("tx", stored=False, tokenizer_name="default", index_option="position")
    sb.add_text_field("all", tokenizer_name="default", index_option="position")
    sb.add_text_field("pv", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("pt", tokenizer_name="raw", index_option="basic")
    sb.add_bytes_field("src", stored=True, indexed=False, fast=False)
    return sb.build()
