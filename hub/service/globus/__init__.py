"""A Globus Search-compatible API, so MDF's Forge and DLHub's clients search a MatterHub.

Mounted by the hub service at ``/globus-search``: point a Globus SDK
``SearchClient`` at it and MDF Forge works unchanged::

    import globus_sdk
    from mdf_forge import Forge

    client = globus_sdk.SearchClient(
        base_url="http://127.0.0.1:8750/globus-search/",
        authorizer=globus_sdk.AccessTokenAuthorizer(token),  # or None: public data only
    )
    mdf = Forge(services=[], search_client=client)
    mdf.match_elements(["Co", "O"]).search()

(or set ``GLOBUS_SDK_SERVICE_URL_SEARCH`` to that URL: every Globus SDK client in
the process, ``Forge(anonymous=True)`` included, then talks to the hub).

Routes: ``POST``/``GET /v1/index/{index_id}/search`` (GSearchRequest ->
GSearchResult), ``POST /v1/index/{index_id}/scroll``, ``GET
/v1/index/{index_id}/subject``, ``GET /v1/index/{index_id}``, and ``GET
/beta/index/{index_id}/mapping[/{field}]``.  Which hub index an id names:
:mod:`~hub.service.globus.indexes`; subjects, entries and file URLs:
:mod:`~hub.service.globus.documents`; errors: :mod:`~hub.service.globus.errors`.
"""

from hub.service.globus.routes import router

__all__ = ["router"]
