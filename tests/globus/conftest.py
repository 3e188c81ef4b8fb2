"""Fixtures of the Globus Search API tests: one live hub service for the whole session
(publishing its datasets takes a while), Globus SDK search clients and MDF Forges on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import globus_sdk
import pytest
from globus_testdata import GlobusService, search_url_env


@pytest.fixture(scope="session")
def globus_service(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GlobusService]:
    svc = GlobusService(
        tmp_path_factory.mktemp("globus-hub") / "hub", shared_data, tmp_path_factory.mktemp("globus-data")
    )
    try:
        with search_url_env(svc.base_url):
            yield svc
    finally:
        svc.close()


@pytest.fixture()
def search_client(globus_service: GlobusService) -> Callable[[str | None], globus_sdk.SearchClient]:
    """``search_client(user)``: a Globus SDK SearchClient on the hub, with that user's token
    (``None``: anonymous)."""

    def make(user: str | None) -> globus_sdk.SearchClient:
        token = globus_service.tokens[user] if user else None
        authorizer = globus_sdk.AccessTokenAuthorizer(token) if token else None
        return globus_sdk.SearchClient(base_url=globus_service.base_url, authorizer=authorizer)

    return make
