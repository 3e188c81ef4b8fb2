"""The JupyterLab panel's server side: settings, the code it inserts, the backend's answers
for each principal (embedded and remote hubs), and the handlers in a real ``jupyter lab``:
Jupyter's login guards them, and a server configured as bob never shows alice's lab-only
dataset or servable.  Expected numbers come from the same hub, asked directly."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from hub.widgets.jupyterlab import snippets
from hub.widgets.jupyterlab.backend import DEFAULT_FACETS, HubBackend
from hub.widgets.jupyterlab.demo import LabServer
from hub.widgets.jupyterlab.settings import HubSettings

from hub.exceptions import HubError, NotFoundError, QueryError, ValidationError

KINDS = ["dataset", "record"]
ENDPOINTS = ["info", "search", "record", "dataset", "fields", "servables", "servable", "snippet"]


# -- settings and snippets (no hub) ------------------------------------------------------------


def test_settings_from_the_environment() -> None:
    s = HubSettings.from_env(
        {"MATTERHUB_HOME": "/data/hub", "MATTERHUB_USER": "bob", "MATTERHUB_GROUPS": "lab, ,x"}
    )
    assert (s.home, s.user, s.groups, s.remote) == ("/data/hub", "bob", ("lab", "x"), False)
    r = HubSettings.from_env({"MATTERHUB_URL": "http://127.0.0.1:8750", "MATTERHUB_TOKEN": "secret"})
    assert r.remote and r.token == "secret"
    assert "secret" not in repr(r) and "secret" not in json.dumps(r.describe())
    assert r.describe() == {"mode": "remote", "location": "http://127.0.0.1:8750", "token": True}


def test_settings_refuse_what_cannot_hold() -> None:
    with pytest.raises(ValueError, match="acts as the user of its token"):
        HubSettings(url="http://127.0.0.1:8750", user="bob")
    with pytest.raises(ValueError, match="without a user"):
        HubSettings(groups=("lab",))


def test_hub_expression_opens_the_same_hub_as_the_same_principal(tmp_path: Path) -> None:
    env = {"MATTERHUB_HOME": str(tmp_path)}
    assert HubSettings(home=str(tmp_path)).hub_expression(env) == "Hub()"
    assert HubSettings().hub_expression(env) == "Hub()"
    other = tmp_path / "other"
    assert HubSettings(home=str(other)).hub_expression(env) == f'Hub("{other}")'
    bob = HubSettings(home=str(tmp_path), user="bob", groups=("lab", "x"))
    assert bob.hub_expression(env) == 'Hub(user="bob", groups=["lab", "x"])'
    remote = HubSettings(url="http://127.0.0.1:8750", token="secret")
    assert remote.hub_expression(env) == 'Hub("http://127.0.0.1:8750")'  # the token stays in the env


def test_snippets_are_what_a_user_writes() -> None:
    code = snippets.dataset_snippet("Hub()", "crystals_v1", "structures")
    assert code == (
        "from hub import Hub\n\nhub = Hub()\n"
        'cat = hub.catalog()["crystals_v1"].read()\n'
        'df = cat["structures"].read()\ndf'
    )
    assert snippets.dataset_snippet("Hub()", "x_v1", "data/Al2O3.cif", group=False).endswith(
        'al2o3 = cat["data/Al2O3.cif"].read()\nal2o3'
    )
    assert snippets.dataset_snippet("Hub()", "x_v1", None).endswith("list(cat)")
    code = snippets.servable_snippet("Hub()", "alice/scale", [1, 2.5], {"factor": 3, "ok": True})
    assert 'inputs = [1, 2.5]\nparameters = {"factor": 3, "ok": True}\n' in code
    assert code.endswith('out = hub.run("alice/scale", inputs, parameters=parameters)\nout')
    code = snippets.search_snippet("Hub()", 'material.elements:"O"', {"mdf.source_name": ["crystals"]}, 20)
    assert (
        'res = hub.search("material.elements:\\"O\\"", filters={"mdf.source_name": ["crystals"]}, limit=20)'
        in code
    )
    for text in (code, snippets.record_snippet("Hub()", "a'b\"c\nd")):
        compile(text, "<snippet>", "exec")  # every quote and newline is escaped


def test_snippet_values_must_be_json() -> None:
    with pytest.raises(ValueError, match="not a JSON number"):
        snippets.servable_snippet("Hub()", "a/b", float("nan"))
    with pytest.raises(ValueError, match="cannot be written"):
        snippets.servable_snippet("Hub()", "a/b", {1, 2})


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": "array", "items": {"type": "number"}}, [0.0]),
        ({"type": "array", "items": {"type": "integer"}, "minItems": 3}, [0, 0, 0]),
        ({"type": "object", "properties": {"a": {"type": "string"}, "b": {"default": 2}}}, {"a": "", "b": 2}),
        ({"anyOf": [{"type": "null"}, {"type": "boolean"}]}, False),
        ({"enum": ["x", "y"]}, "x"),
        ({"type": ["null", "integer"]}, 0),
        (None, None),
    ],
)
def test_example_inputs_fit_their_schema(schema: dict[str, Any] | None, value: Any) -> None:
    assert snippets.example_value(schema) == value


# -- the backend on the embedded hub, per principal ---------------------------------------------


@pytest.fixture()
def backend_as(lab_hub: Any) -> Iterator[Callable[..., HubBackend]]:
    made: list[HubBackend] = []

    def make(user: str | None = None, groups: tuple[str, ...] = ()) -> HubBackend:
        backend = HubBackend(HubSettings(home=str(lab_hub.home), user=user, groups=groups), max_workers=2)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


def test_backend_answers_only_what_its_principal_may_see(lab_hub: Any, backend_as: Any) -> None:
    bob, alice = backend_as("bob"), backend_as("alice", ("lab",))
    with lab_hub.open("bob") as hub_bob, lab_hub.open("alice") as hub_alice:
        for backend, hub in ((bob, hub_bob), (alice, hub_alice)):
            res = backend.search("material.elements:O", kinds=KINDS)
            expected = hub.search("material.elements:O", facets=list(DEFAULT_FACETS), kinds=KINDS, limit=20)
            assert res["total"] == expected.total
            assert [h["id"] for h in res["hits"]] == [h.id for h in expected.hits]
            assert res["facets"] == json.loads(json.dumps(expected.facets))
    bob_res = bob.search("*", kinds=KINDS)
    names = {b["value"] for b in bob_res["facets"]["mdf.source_name"]["buckets"]}
    assert names == {"crystals"}
    assert all(h["document"]["mdf"]["source_id"] == lab_hub.public for h in bob_res["hits"])
    assert alice.search("*", kinds=KINDS)["total"] == 2 * bob_res["total"] == 10
    oxygen = {b["value"]: b["count"] for b in bob_res["facets"]["material.elements"]["buckets"]}["O"]
    assert oxygen == 3

    for call in (
        lambda: bob.dataset(lab_hub.lab_only),
        lambda: bob.record(f"{lab_hub.lab_only}.1"),
        lambda: bob.entries(lab_hub.lab_only),
        lambda: bob.snippet("dataset", {"id": lab_hub.lab_only}),
        lambda: bob.snippet("record", {"id": f"{lab_hub.lab_only}.1"}),
        lambda: bob.servable(lab_hub.lab_servable),
        lambda: bob.snippet("servable", {"name": lab_hub.lab_servable}),
    ):
        with pytest.raises(HubError) as err:
            call()
        assert err.value.status_code in (403, 404)
    assert [h["id"] for h in bob.servables()["hits"]] == [lab_hub.servable]
    assert {h["id"] for h in alice.servables()["hits"]} == {lab_hub.servable, lab_hub.lab_servable}
    assert alice.dataset(lab_hub.lab_only)["dataset"]["title"] == "The lab's crystal structures"
    assert bob.fields()["material.elements"] == {"keyword": 4}
    assert alice.fields()["material.elements"] == {"keyword": 8}


def test_dataset_details_list_the_catalog_entries(lab_hub: Any, backend_as: Any) -> None:
    details = backend_as().dataset(lab_hub.public)
    assert details["dataset"]["source_id"] == lab_hub.public
    assert details["n_files"] == 4 and len(details["files"]) == 4
    entries = details["entries"]
    assert entries[0] == {
        "name": "structures",
        "kind": "records",
        "output": "pandas:DataFrame",
        "records": 4,
        "length": None,
    }
    assert sorted(e["name"] for e in entries[1:]) == sorted(f["path"] for f in details["files"])
    assert details["metadata"]["dc"]["titles"][0]["title"].startswith("Crystal structures")


def test_inserted_dataset_code_runs_and_gives_the_dataframe(
    lab_hub: Any, backend_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MATTERHUB_HOME", str(lab_hub.home))
    answer = backend_as("bob").snippet("dataset", {"id": lab_hub.public})
    assert answer["entry"] == "structures"
    assert 'hub = Hub(user="bob")' in answer["code"]
    namespace: dict[str, Any] = {}
    exec(answer["code"], namespace)
    try:
        df = namespace["df"]
        assert isinstance(df, pd.DataFrame) and len(df) == 4
        with lab_hub.open("bob") as hub:
            formulas = [r["material"]["composition"] for r in hub.dataset(lab_hub.public).records()]
        assert sorted(df["formula"]) == sorted(formulas)
        assert {"Al2O3", "C"} <= set(formulas)
    finally:
        namespace["hub"].close()
    one_file = backend_as().snippet("dataset", {"id": lab_hub.public, "entry": "diamond.cif"})
    assert one_file["code"].endswith('diamond = cat["diamond.cif"].read()\ndiamond')
    with pytest.raises(NotFoundError, match="no catalog entry 'nope'"):
        backend_as().snippet("dataset", {"id": lab_hub.public, "entry": "nope"})


def test_inserted_servable_code_runs(lab_hub: Any, backend_as: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATTERHUB_HOME", str(lab_hub.home))
    backend = backend_as()
    details = backend.servable(lab_hub.servable)
    assert details["example"] == {"inputs": [0.0], "parameters": {"factor": 2.0}}
    answer = backend.snippet(
        "servable", {"name": lab_hub.servable, "inputs": "[1, 2.5]", "parameters": '{"factor": 3}'}
    )
    namespace: dict[str, Any] = {}
    exec(answer["code"], namespace)
    try:
        assert namespace["out"] == [3.0, 7.5]
    finally:
        namespace["hub"].close()


def test_backend_refuses_bad_requests_with_the_hub_errors(lab_hub: Any, backend_as: Any) -> None:
    backend = backend_as()
    with pytest.raises(QueryError) as err:
        backend.search("material.elements:(O")
    assert err.value.status_code == 400 and err.value.to_dict()["position"] == 20
    with pytest.raises(QueryError):
        backend.snippet("search", {"q": "material.elements:(O"})
    with pytest.raises(ValidationError, match="ask for 0 to 100"):
        backend.search("*", limit=1000)
    with pytest.raises(ValidationError, match="not valid JSON"):
        backend.snippet("servable", {"name": lab_hub.servable, "inputs": "[1,"})
    with pytest.raises(ValidationError, match="snippet kind 'shell'"):
        backend.snippet("shell", {})
    with pytest.raises(ValidationError, match="'id' parameter is required"):
        backend.snippet("dataset", {})


def test_a_hub_that_cannot_be_opened_is_a_503_not_a_dead_server(backend_as: Any) -> None:
    backend = HubBackend(HubSettings(url="http://127.0.0.1:9"), max_workers=1)
    try:
        with pytest.raises(HubError, match="could not be opened") as err:
            backend.info()
        assert err.value.status_code == 503
    finally:
        backend.close()


# -- the backend on a remote hub: the token's user ---------------------------------------------


@pytest.fixture(scope="module")
def hub_service(lab_hub: Any) -> Iterator[str]:
    from hub import Hub
    from hub.service import create_app
    from hub.service.testing import LiveServer

    hub = Hub(lab_hub.home, progress=False)
    server = LiveServer(create_app(hub, start_worker=False)).start()
    try:
        yield server.url
    finally:
        server.stop()
        hub.close()


def test_remote_hub_acts_as_the_tokens_user(
    lab_hub: Any, hub_service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bob = HubBackend(HubSettings(url=hub_service, token=lab_hub.tokens["bob"]), max_workers=1)
    alice = HubBackend(HubSettings(url=hub_service, token=lab_hub.tokens["alice"]), max_workers=1)
    try:
        assert bob.info()["principal"] == {"user": "bob", "groups": []}
        assert bob.info()["mode"] == "remote" and lab_hub.tokens["bob"] not in json.dumps(bob.info())
        assert bob.search("*", kinds=KINDS)["total"] == 5
        assert alice.search("*", kinds=KINDS)["total"] == 10
        with pytest.raises(NotFoundError):
            bob.dataset(lab_hub.lab_only)
        assert alice.dataset(lab_hub.lab_only)["entries"][0]["name"] == "structures"
        answer = bob.snippet("dataset", {"id": lab_hub.public})
        assert f'hub = Hub("{hub_service}")' in answer["code"]
        monkeypatch.setenv("MATTERHUB_TOKEN", lab_hub.tokens["bob"])
        namespace: dict[str, Any] = {}
        exec(answer["code"], namespace)
        try:
            assert len(namespace["df"]) == 4
        finally:
            namespace["hub"].close()
    finally:
        bob.close()
        alice.close()


# -- the handlers in a real Jupyter server ------------------------------------------------------


@pytest.fixture(scope="module")
def servers(
    lab_hub: Any, jupyter_env: Any, lab_servers: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, LabServer]:
    """Two ``jupyter lab`` servers on the hub: one as bob, one as alice (group lab) behind a
    JupyterHub-like base URL."""
    root = tmp_path_factory.mktemp("lab-handlers")
    home = str(lab_hub.home)
    bob = lab_servers(
        root / "bob", env=jupyter_env(MATTERHUB_HOME=home, MATTERHUB_USER="bob"), log=root / "bob.log"
    )
    alice = lab_servers(
        root / "alice",
        env=jupyter_env(MATTERHUB_HOME=home, MATTERHUB_USER="alice", MATTERHUB_GROUPS="lab"),
        base_url="/user/alice/",
        log=root / "alice.log",
    )
    for server in (bob, alice):
        server.wait_ready(120)
    return {"bob": bob, "alice": alice}


def _get(server: LabServer, endpoint: str, *, token: bool = True, **params: Any) -> httpx.Response:
    url = server.url(f"matterhub/{endpoint}", token=False)
    headers = {"Authorization": f"token {server.token}"} if token else {}
    return httpx.get(url, params=params, headers=headers, timeout=60)


def test_handlers_require_the_jupyter_login(servers: dict[str, LabServer], lab_hub: Any) -> None:
    server = servers["bob"]
    for endpoint in ENDPOINTS:
        record = f"{lab_hub.public}.1" if endpoint == "record" else lab_hub.public
        params = {"id": record, "name": lab_hub.servable, "kind": "dataset"}
        anonymous = _get(server, endpoint, token=False, **params)
        assert anonymous.status_code == 403, endpoint
        assert lab_hub.public not in anonymous.text and "Crystal" not in anonymous.text
        wrong = httpx.get(
            server.url(f"matterhub/{endpoint}", token=False),
            params=params,
            headers={"Authorization": "token not-the-token"},
            timeout=60,
        )
        assert wrong.status_code == 403, endpoint
        assert _get(server, endpoint, **params).status_code == 200, endpoint
    # the token as a query parameter (how the browser's first request logs in) works too
    assert httpx.get(server.url("matterhub/info"), timeout=60).status_code == 200


def test_handlers_as_bob_do_not_show_alices_lab_only_data(
    servers: dict[str, LabServer], lab_hub: Any
) -> None:
    server = servers["bob"]
    info = _get(server, "info").json()
    assert info["principal"] == {"user": "bob", "groups": []}
    assert info["mode"] == "embedded" and info["location"] == str(lab_hub.home)

    with lab_hub.open("bob") as hub:
        expected = hub.search("*", facets=["mdf.source_name", "material.elements"], kinds=KINDS, limit=20)
    res = _get(server, "search", q="*", kind=KINDS, facet=["mdf.source_name", "material.elements"]).json()
    assert res["total"] == expected.total == 5
    assert {h["id"] for h in res["hits"]} == {h.id for h in expected.hits}
    assert lab_hub.lab_only not in json.dumps(res)
    assert res["facets"]["mdf.source_name"]["buckets"] == [{"value": "crystals", "count": 5}]
    counts = {b["value"]: b["count"] for b in res["facets"]["material.elements"]["buckets"]}
    assert counts["O"] == 3 and counts["C"] == 2

    # filters drill down within what bob may see
    oxides = _get(
        server, "search", q="*", kind=KINDS, filters=json.dumps({"material.elements": ["O"]})
    ).json()
    assert oxides["total"] == 3

    for endpoint, params in (
        ("dataset", {"id": lab_hub.lab_only}),
        ("record", {"id": f"{lab_hub.lab_only}.1"}),
        ("snippet", {"kind": "dataset", "id": lab_hub.lab_only}),
        ("servable", {"name": lab_hub.lab_servable}),
    ):
        r = _get(server, endpoint, **params)
        assert r.status_code in (403, 404), (endpoint, r.text)
        assert "The lab's crystal structures" not in r.text
    servables = _get(server, "servables").json()
    assert [h["id"] for h in servables["hits"]] == [lab_hub.servable]

    snippet = _get(server, "snippet", kind="dataset", id=lab_hub.public).json()
    assert snippet["code"].splitlines()[2] == 'hub = Hub(user="bob")'
    assert f'hub.catalog()["{lab_hub.public}"].read()' in snippet["code"]


def test_handlers_live_under_the_servers_base_url(servers: dict[str, LabServer], lab_hub: Any) -> None:
    alice = servers["alice"]
    info = _get(alice, "info").json()
    assert info["principal"] == {"user": "alice", "groups": ["lab"]}
    assert _get(alice, "search", q="*", kind=KINDS).json()["total"] == 10
    details = _get(alice, "dataset", id=lab_hub.lab_only).json()
    assert details["dataset"]["title"] == "The lab's crystal structures"
    snippet = _get(alice, "snippet", kind="dataset", id=lab_hub.lab_only).json()
    assert 'hub = Hub(user="alice", groups=["lab"])' in snippet["code"]
    # nothing answers outside the base URL
    outside = httpx.get(
        f"http://127.0.0.1:{alice.port}/matterhub/info",
        headers={"Authorization": f"token {alice.token}"},
        timeout=60,
    )
    assert outside.status_code == 404


def test_handlers_answer_bad_requests_with_the_problem(servers: dict[str, LabServer]) -> None:
    server = servers["bob"]
    bad = _get(server, "search", q="material.elements:(O")
    assert bad.status_code == 400
    body = bad.json()
    assert body["title"] == "Bad query" and body["position"] == 20
    assert _get(server, "search", limit=1000).status_code == 400
    assert _get(server, "search", limit="many").json()["detail"] == "limit='many' is not an integer"
    r = _get(server, "search", filters="{not json")
    assert r.status_code == 400 and "filters is not valid JSON" in r.json()["detail"]
    assert _get(server, "record").status_code == 400
    assert _get(server, "record", id="no_such_v1.1").status_code == 404
    assert _get(server, "snippet", kind="shell").json()["status"] == 400
