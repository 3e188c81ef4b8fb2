"""Harvesting OPTIMADE providers: ``hub.submit("optimade+http://...")``.

The provider is the ``optimade`` package's own reference server (``create_app`` over its
bundled test structures, in-memory mongomock backend) served by uvicorn on a loopback
port, behind a wrapper that can fail its pages; and, hub to hub, another MatterHub's
``/optimade`` (the session's hub of real structures from ../shared/data).  What the hub
holds is compared with what the provider itself answers, read with plain httpx.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

pytest.importorskip(
    "mongomock", reason="the OPTIMADE reference server's backend (mongomock) is not installed"
)

from hub import Hub
from hub.service.testing import LiveServer

#: The reference server's models use a pydantic API deprecated since 2.11.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:optimade.models.jsonapi")
_DATABASES = itertools.count()
#: The reference server's field names for the standard properties of its test structures.
ALIASES = {
    "id": "task_id",
    "chemical_formula_descriptive": "pretty_formula",
    "chemical_formula_reduced": "pretty_formula",
    "chemical_formula_anonymous": "formula_anonymous",
}
PAGE = 5


class Flaky:
    """An ASGI wrapper of a provider: records each ``structures`` request, and while
    ``broken`` answers 503 (``Retry-After: 0``) to the pages past the first two."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.broken = False
        self.served: list[dict[str, list[str]]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].rstrip("/").endswith("/structures"):
            query = parse_qs(scope["query_string"].decode())
            if self.broken and int(query.get("page_offset", ["0"])[0]) >= 2 * PAGE:
                await send(
                    {"type": "http.response.start", "status": 503, "headers": [(b"retry-after", b"0")]}
                )
                await send({"type": "http.response.body", "body": b""})
                return
            self.served.append(query)
        await self.app(scope, receive, send)


class Provider:
    """The reference server on a loopback port, and its database (to change entries)."""

    def __init__(self) -> None:
        from optimade.server import data
        from optimade.server.config import ServerConfig
        from optimade.server.create_app import create_app

        config = ServerConfig(
            page_limit=PAGE,
            page_limit_max=PAGE,
            mongo_database=f"matterhub_harvest_{next(_DATABASES)}",
            aliases={"structures": ALIASES},
            provider_fields={"structures": ["chemsys"]},
            log_level="warning",
            insert_test_data=False,  # it would also fetch the providers list from optimade.org
        )
        self.app = create_app(config)
        structures = self.app.state.entry_collections["structures"]
        structures.insert(data.structures)  # the bundled test structures, as insert_test_data does
        self.collection = structures.collection
        self.flaky = Flaky(self.app)
        self.server = LiveServer(self.flaky).start()
        self.url = self.server.url

    @property
    def source(self) -> str:
        return f"optimade+{self.url}/"


@pytest.fixture()
def provider() -> Iterator[Provider]:
    p = Provider()
    try:
        yield p
    finally:
        p.server.stop()


def answer(base: str, filter: str | None = None) -> dict[str, Any]:
    """Every entry of ``filter`` and the first page's meta, read with plain httpx (following links.next)."""
    params: dict[str, Any] = {"page_limit": PAGE} | ({"filter": filter} if filter else {})
    url: str | None = f"{base}/v1/structures"
    entries: list[dict[str, Any]] = []
    meta: dict[str, Any] = {}
    while url:
        body = httpx.get(url, params=params, timeout=30).json()
        meta = meta or body["meta"]
        entries += body["data"]
        url, params = body["links"].get("next"), None
    return {"meta": meta, "entries": {e["id"]: e for e in entries}}


def records_by_entry(hub: Any, source_id: str) -> dict[str, dict[str, Any]]:
    return {r["origin"]["entry_id"]: r for r in hub.dataset(source_id).records()}


def served_attributes(hub: Any, source_id: str) -> dict[str, dict[str, Any]]:
    """What the hub serves over OPTIMADE for each harvested record, by the provider's entry id."""
    ids = {r["mdf"]["record_id"]: e for e, r in records_by_entry(hub, source_id).items()}
    out = {}
    for page in range(0, len(ids), 100):
        for s in hub.optimade_search(f'_matterhub_dataset="{source_id}"', limit=100, offset=page).structures:
            out[ids[s["id"]]] = s["attributes"]
    return out


def test_full_harvest_holds_every_entry_as_the_provider_answers(provider: Provider, tmp_path: Any) -> None:
    truth = answer(provider.url)
    hub = Hub(tmp_path / "hub", progress=False)
    sub = hub.submit(provider.source, title="Example provider", authors=["Doe, Jane"])
    assert sub.status == "complete", sub.report()
    assert not sub.errors
    # the provider caps page_limit at 5: the harvest paged with links.next
    assert sub.step("collect")["detail"].startswith(f"{len(truth['entries'])} entries in 4 pages")

    available = truth["meta"]["data_available"]
    assert available == len(truth["entries"]) == 17
    ds = hub.dataset(sub.source_id)
    assert ds.metadata["data"]["records"] == available
    assert hub.search("*", kinds=["record"], limit=0).total == available

    # per element, the hub finds what the provider's own `elements HAS` finds
    elements = sorted({e for entry in truth["entries"].values() for e in entry["attributes"]["elements"]})
    assert len(elements) > 20
    for element in elements:
        theirs = answer(provider.url, f'elements HAS "{element}"')["meta"]["data_returned"]
        assert hub.optimade_search(f'elements HAS "{element}"', limit=0).total == theirs, element

    # the hub serves each entry back with the provider's values
    served = served_attributes(hub, sub.source_id)
    assert set(served) == set(truth["entries"])
    for entry_id, entry in truth["entries"].items():
        a, mine = entry["attributes"], served[entry_id]
        for name in ("elements", "nelements", "nsites", "chemical_formula_reduced", "dimension_types",
                     "nperiodic_dimensions"):  # fmt: skip
            assert mine[name] == a[name], (entry_id, name)
        # the hub names each site's species by its element (the provider's Ac1, Ac2 are Ac)
        element = {sp["name"]: sp["chemical_symbols"][0] for sp in a["species"]}
        assert mine["species_at_sites"] == [element[n] for n in a["species_at_sites"]]
        # floats as the provider wrote them (JSON both ways, no arithmetic)
        for name in ("cartesian_site_positions", "lattice_vectors"):
            assert mine[name] == a[name], (entry_id, name)
        assert mine["elements_ratios"] == pytest.approx(a["elements_ratios"])

    # provenance, the provider's own fields and the raw entry in every record
    records = records_by_entry(hub, sub.source_id)
    for entry_id, record in records.items():
        entry = truth["entries"][entry_id]
        origin = record["origin"]
        assert origin["provider"] == provider.url
        assert "query" not in origin  # no filter: every structure
        assert origin["url"] == f"{provider.url}/v1/structures/{entry_id}"
        stamp = _dt.datetime.fromisoformat(origin["last_modified"])
        assert stamp == _dt.datetime.fromisoformat(entry["attributes"]["last_modified"])
        assert record["custom"]["_exmpl_chemsys"] == entry["attributes"]["_exmpl_chemsys"]
        (file,) = record["files"]
        with ds.open(file["path"]) as f:
            assert json.loads(f.read()) == entry
    # a facet narrows the search to one provider
    facet = hub.search("*", kinds=["record"], facets=["origin.provider"], limit=0).facets["origin.provider"]
    assert [(b["value"], b["count"]) for b in facet["buckets"]] == [(provider.url, available)]
    assert hub.search(f'origin.provider:"{provider.url}"', kinds=["record"], limit=0).total == available
    hub.close()


def test_filtered_harvest_takes_the_slice(provider: Provider, tmp_path: Any) -> None:
    query = 'elements HAS "Ag" AND nelements >= 4'
    truth = answer(provider.url, query)
    assert 0 < truth["meta"]["data_returned"] < truth["meta"]["data_available"]
    hub = Hub(tmp_path / "hub", progress=False)
    sub = hub.submit(provider.source, title="Silver", authors=["Doe, Jane"], filter=query)
    assert sub.status == "complete", sub.report()
    records = records_by_entry(hub, sub.source_id)
    assert set(records) == set(truth["entries"])
    assert {r["origin"]["query"] for r in records.values()} == {query}
    hub.close()


def test_interrupted_harvest_resumes_where_it_stopped(provider: Provider, tmp_path: Any) -> None:
    hub = Hub(tmp_path / "hub", progress=False)
    provider.flaky.broken = True
    sub = hub.submit(provider.source, title="Example provider", authors=["Doe, Jane"])
    assert sub.status == "failed"
    assert "503" in sub.message and "hub.retry" in sub.message
    resume = sub.step("collect")["resume"]
    assert len(resume["entries"]) == 2 and "page_offset=10" in resume["next"]
    assert hub.datasets() == []

    provider.flaky.broken = False
    provider.flaky.served.clear()
    done = hub.retry(sub.id)
    assert done.status == "complete", done.report()
    # the retry asked for the pages from the third on, never the first two again
    offsets = [int(q.get("page_offset", ["0"])[0]) for q in provider.flaky.served]
    assert offsets == [10, 15]
    assert hub.dataset(done.source_id).n_records == 17
    hub.close()


def test_reharvest_is_incremental_and_makes_a_version_only_on_change(
    provider: Provider, tmp_path: Any
) -> None:
    hub = Hub(tmp_path / "hub", progress=False)
    first = hub.submit(provider.source, title="Example provider", authors=["Doe, Jane"])
    assert first.source_id == "example_provider_v1"

    same = hub.submit(provider.source, title="Example provider", authors=["Doe, Jane"])
    assert same.status == "complete" and same.source_id == "example_provider_v1"
    assert "no new version" in same.message
    assert [d.source_id for d in hub.datasets(all_versions=True)] == ["example_provider_v1"]
    # only the entries changed since the newest last_modified were asked for
    assert "changed since 2019-06-08T05:13:37Z" in same.step("collect")["detail"]

    provider.collection.update_one(
        {"task_id": "mpf_1"},
        {"$set": {"chemsys": "Ac-changed", "last_modified": _dt.datetime(2025, 1, 2, 3, 4, 5)}},
    )
    changed = hub.submit(provider.source, title="Example provider", authors=["Doe, Jane"])
    assert changed.status == "complete" and changed.source_id == "example_provider_v2", changed.report()
    records = records_by_entry(hub, "example_provider_v2")
    assert len(records) == 17
    assert records["mpf_1"]["custom"]["_exmpl_chemsys"] == "Ac-changed"
    assert records_by_entry(hub, "example_provider_v1")["mpf_1"]["custom"]["_exmpl_chemsys"] == "Ac"

    again = hub.submit(provider.source, title="Example provider", authors=["Doe, Jane"])
    assert again.source_id == "example_provider_v2" and "no new version" in again.message
    assert again.step("collect")["detail"].startswith("1 entries in 1 pages")
    assert "changed since 2025-01-02T03:04:05Z" in again.step("collect")["detail"]
    hub.close()


def test_hub_to_hub(live_optimade: str, structure_hub: Any, tmp_path: Any) -> None:
    """Another MatterHub's /optimade as the provider: its public structures, as it serves them."""
    truth = answer(live_optimade)
    assert truth["meta"]["data_available"] == len(structure_hub.public_ids())
    hub = Hub(tmp_path / "hub", progress=False)
    sub = hub.submit(f"optimade+{live_optimade}", title="Hub to hub", authors=["Doe, Jane"])
    assert sub.status == "complete", sub.report()
    assert not sub.errors
    assert hub.dataset(sub.source_id).n_records == len(truth["entries"])
    elements = sorted({e for entry in truth["entries"].values() for e in entry["attributes"]["elements"]})
    for element in elements:
        theirs = answer(live_optimade, f'elements HAS "{element}"')["meta"]["data_returned"]
        assert hub.optimade_search(f'elements HAS "{element}"', limit=0).total == theirs, element
    served = served_attributes(hub, sub.source_id)
    for entry_id, entry in truth["entries"].items():
        a, mine = entry["attributes"], served[entry_id]
        for name in ("elements", "nsites", "chemical_formula_reduced", "chemical_formula_descriptive",
                     "space_group_it_number", "dimension_types", "species_at_sites"):  # fmt: skip
            assert mine[name] == a[name], (entry_id, name)
    # the provider's own fields: the source dataset of each structure
    records = records_by_entry(hub, sub.source_id)
    assert {r["custom"]["_matterhub_dataset"] for r in records.values()} == {
        e["attributes"]["_matterhub_dataset"] for e in truth["entries"].values()
    }
    hub.close()


# -- the service: private addresses, harvests through the REST API, schedules ---------------------


class Served:
    """A hub service over a fresh hub on a loopback port, and a token of its user alice."""

    def __init__(self, home: Any, settings: Any, harvests: Any = ()) -> None:
        from hub.service import create_app

        self.hub = Hub(home, progress=False)
        self.hub.users.ensure_user("alice", [])
        self.token, _ = self.hub.users.create_token(self.hub.principal, "alice", label="harvest tests")
        self.app = create_app(self.hub, settings, harvests=harvests)
        self.server = LiveServer(self.app).start()

    def remote(self) -> Any:
        return Hub(self.server.url, token=self.token, progress=False)

    def close(self) -> None:
        self.server.stop()
        self.hub.close()


def test_service_refuses_a_private_provider(provider: Provider, tmp_path: Any, monkeypatch: Any) -> None:
    from hub.exceptions import AccessDeniedError
    from hub.service.settings import ServiceSettings

    monkeypatch.delenv("MATTERHUB_SERVICE_ALLOW_PRIVATE_URLS", raising=False)
    served = Served(tmp_path / "hub", ServiceSettings())
    try:
        with pytest.raises(AccessDeniedError, match="loopback/private"):
            served.remote().submit(provider.source, title="Example provider", authors=["Doe, Jane"])
        answer = httpx.post(
            f"{served.server.url}/api/submissions",
            json={"source": provider.source, "title": "Example provider", "authors": ["Doe, Jane"]},
            headers={"Authorization": f"Bearer {served.token}"},
        )
        assert answer.status_code == 403, answer.text
        assert served.hub.submissions() == []
        assert provider.flaky.served == []  # the provider was never asked
    finally:
        served.close()


def test_worker_refuses_a_private_provider_when_it_connects(provider: Provider, tmp_path: Any) -> None:
    """The guard the service's worker runs under refuses the address at connection time too
    (a name that resolved to a public address when submitted may resolve to a private one later)."""
    from hub.connect.urlguard import ADDRESS_GUARD
    from hub.service.settings import ServiceSettings

    hub = Hub(tmp_path / "hub", progress=False)
    token = ADDRESS_GUARD.set(ServiceSettings(allow_private_urls=False).check_address)
    try:
        sub = hub.submit(provider.source, title="Example provider", authors=["Doe, Jane"])
    finally:
        ADDRESS_GUARD.reset(token)
    assert sub.status == "failed"
    assert "was not read" in sub.message and "loopback/private" in sub.message
    assert provider.flaky.served == []
    hub.close()


def test_service_harvests_through_the_api_when_allowed(provider: Provider, tmp_path: Any) -> None:
    from hub.service.settings import ServiceSettings

    served = Served(tmp_path / "hub", ServiceSettings(allow_private_urls=True))
    try:
        remote = served.remote()
        query = 'elements HAS "Ac"'
        sub = remote.submit(provider.source, title="Actinium", authors=["Doe, Jane"], filter=query)
        assert sub.status == "complete", sub.report()
        truth = answer(provider.url, query)
        records = remote.dataset(sub.source_id).records()
        assert {r["origin"]["entry_id"] for r in records} == set(truth["entries"])
        assert {r["origin"]["query"] for r in records} == {query}
        remote.close()
    finally:
        served.close()


def test_service_schedules_harvests(provider: Provider, tmp_path: Any) -> None:
    import time

    from hub.service.harvests import ScheduledHarvest
    from hub.service.settings import ServiceSettings

    schedule = [ScheduledHarvest(provider.source, "Example provider", ("Doe, Jane",), every=0.2)]
    served = Served(tmp_path / "hub", ServiceSettings(allow_private_urls=True), harvests=schedule)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            done = [s for s in served.hub.submissions() if s.done]
            if len(done) >= 2:
                break
            time.sleep(0.1)
        first, second = sorted(done, key=lambda s: s.created_at)[:2]
        assert first.status == "complete" and first.source_id == "example_provider_v1", first.report()
        assert second.status == "complete" and second.source_id == "example_provider_v1"
        assert "no new version" in (second.message or "")
        assert [d.source_id for d in served.hub.datasets(all_versions=True)] == ["example_provider_v1"]
    finally:
        served.close()


def test_schedule_periods_and_files(tmp_path: Any) -> None:
    from hub.service.harvests import load_schedule, parse_every

    assert [parse_every(t) for t in ("30s", "15m", "6h", "1d", "2.5")] == [30, 900, 21600, 86400, 2.5]
    with pytest.raises(ValueError, match="not a period"):
        parse_every("daily")
    path = tmp_path / "harvests.yaml"
    path.write_text("- {source: 'https://optimade.example.org/', every: 12h, filter: 'nelements=2'}\n")
    (h,) = load_schedule(path)
    assert (h.source, h.every, h.filter, h.authors) == (
        "optimade+https://optimade.example.org/",
        43200,
        "nelements=2",
        ({"name": "optimade.example.org", "nameType": "Organizational"},),
    )
    assert h.title == "OPTIMADE structures of optimade.example.org"


def test_every_page_passes_the_address_guard(provider: Provider, tmp_path: Any) -> None:
    """The pages fetched ahead on the client's thread pass the guard too (it is a context
    variable: a thread that did not copy the caller's context would fetch them unchecked)."""
    from hub.connect.urlguard import ADDRESS_GUARD

    checked: list[str] = []
    hub = Hub(tmp_path / "hub", progress=False)
    token = ADDRESS_GUARD.set(lambda host, address: checked.append(address))
    try:
        sub = hub.submit(provider.source, title="Example provider", authors=["Doe, Jane"])
    finally:
        ADDRESS_GUARD.reset(token)
    assert sub.status == "complete", sub.report()
    assert len(provider.flaky.served) == 5  # a refused page_limit asked again, then four pages
    assert len(checked) >= len(provider.flaky.served)
    hub.close()
