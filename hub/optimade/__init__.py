"""OPTIMADE, the materials community's standard query API, over the hub's structures.

Everything here but the HTTP endpoint (:mod:`hub.service.optimade`, which serves it):

- :mod:`.fields`: the OPTIMADE properties of a structure record, which the index
  carries as an ``optimade`` block (:func:`~hub.optimade.fields.with_optimade_fields`);
- :mod:`.properties`: the table of the ``structures`` properties and the index field
  each lives in;
- :mod:`.translate`: an OPTIMADE filter as the hub's own query (the grammar and parser
  come from the ``optimade`` package, imported on first use: the ``service`` extra);
- :mod:`.search`: :func:`~hub.optimade.search.search_structures`, what
  ``Hub.optimade_search`` and the endpoint both run, with the hub's access rules;
- :mod:`.structures`: a record as an OPTIMADE ``structures`` resource, and back to ASE;
- :mod:`.results`: :class:`~hub.optimade.results.StructureResults`, one page of a
  search, embedded or remote;
- :mod:`.errors`: the filter errors, with the HTTP status the specification asks for.
"""
