"""The OPTIMADE endpoint: the hub's structures through the materials community's standard API.

:mod:`hub.service.optimade.router` (its ``router``, mounted by
:func:`hub.service.create_app` at ``/optimade``) serves ``/optimade/versions`` and
``/optimade/v1/{info,links,structures}``; :mod:`.responses` shapes the JSON:API
documents it answers with.  The search itself, the filter translation and the
structure resources are the core's (:mod:`hub.optimade`), shared with
``Hub.optimade_search``.

(The router is not re-exported here: importing the submodule ``router`` makes the
package attribute of that name the submodule.)
"""
