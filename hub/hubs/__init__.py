"""The hub implementations of :class:`hub.api.HubAPI`.

:mod:`hub.hubs.embedded` (:class:`~hub.hubs.embedded.EmbeddedHub`) is the hub in this
process, composing the SQL database, the blob store, the search index, Connect and the
servable parts; :mod:`hub.hubs.remote` (:class:`~hub.hubs.remote.RemoteHub`) is the client of
a hub service.  ``Hub(...)`` (:func:`hub.api.Hub`) opens one of them by the location's scheme
(entry point group ``matterhub.hubs``).
"""
