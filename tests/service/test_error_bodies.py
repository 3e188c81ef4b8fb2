"""Error bodies of the REST API (hub/service/errors.py): a failure of the hub itself (HTTP 500)
names no folder of the hub; the caller reads its title, the log the whole message; the
outcomes of a servable run (5xx statuses too) keep their message."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.exceptions import ConfigurationError, ServableTimeoutError
from hub.service.errors import install_error_handlers


@pytest.fixture()
def client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/broken")
    def broken() -> None:
        raise ConfigurationError("the search index at /srv/secret-hub/index cannot be written")

    @app.get("/slow")
    def slow() -> None:
        raise ServableTimeoutError("the run took longer than its timeout of 5 s", kind="timeout")

    return TestClient(app, raise_server_exceptions=False)


def test_a_hub_failure_names_no_folder(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        r = client.get("/broken")
    assert r.status_code == 500
    assert "/srv/secret-hub" not in r.text and "Configuration error" in r.json()["detail"]
    assert "/srv/secret-hub/index" in caplog.text  # the admin still reads it


def test_a_servable_outcome_keeps_its_message(client: TestClient) -> None:
    r = client.get("/slow")
    assert r.status_code == 504 and "timeout of 5 s" in r.json()["detail"]
