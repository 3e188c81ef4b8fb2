"""Access control as a property, through the Python API and over REST.

Hypothesis draws a world: users with random groups, datasets (random owners and
``visible_to``, some waiting for curation, some updated to a second ``visible_to``; each
with mapped rows and a crystal structure) and servables (random ``visible_to`` and
``runnable_by``), served by a live service.  For every user and for anonymous callers,
nothing they may not see shows up and everything they may see does, in: search hits,
totals, facet counts, scroll pages, dataset/record/version/manifest reads, file reads
(whole and by Range), the searchable fields, servable listings, metadata and runs
(a visible servable one may not run says 403, an invisible one 404), asynchronous tasks
(only their owner reads them), submissions, OPTIMADE (``/optimade/v1/structures``) and
Globus Search (``/globus-search``).  Both the embedded hub (``Hub.acting_as``, what every
request uses) and the remote client must agree.

Who may see what is written below from the rules in hub/access/policy.py's docstring,
not taken from the code.  The default suite draws 2 worlds;
``make reliability`` draws many more.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from ase.build import bulk
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from reliability_server import record, scale

from hub import Hub
from hub.access import Principal
from hub.exceptions import AccessDeniedError, AuthenticationError, NotFoundError
from hub.service import create_app
from hub.service.testing import LiveServer

USERS = ["alice", "bob", "carol", "dave"]
GROUPS = ["lab", "ext", "curators"]
COLORS = ["red", "green", "blue"]
ENTRIES = [
    "public",
    "user:alice",
    "user:bob",
    "bob",
    "user:carol",
    "group:lab",
    "group:ext",
    "group:curators",
]
METALS = [("Cu", "fcc", 3.61), ("Al", "fcc", 4.05), ("Fe", "bcc", 2.87), ("Ni", "fcc", 3.52)]
MAPPING = {"custom.key": "key", "custom.color": "color"}
FIGURES = Counter[str]()


def echo(x: float) -> float:
    return x + 1.0


# -- the world and the rules ---------------------------------------------------------------


def _named(entries: tuple[str, ...]) -> set[str]:
    return {e if e == "public" or ":" in e else f"user:{e}" for e in entries}


def _tokens(user: str | None, groups: frozenset[str]) -> set[str]:
    return {"public"} | ({f"user:{user}"} if user else set()) | {f"group:{g}" for g in groups}


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    owner: str
    visible_to: tuple[str, ...]
    pending: bool
    colors: tuple[str, ...]
    then: tuple[str, ...] | None = None  # visible_to of a second version (a metadata update)

    @property
    def versions(self) -> list[tuple[str, ...]]:
        return [self.visible_to] + ([self.then] if self.then else [])

    def visible_for(self, user: str | None, groups: frozenset[str], version: int = 0) -> bool:
        """Admins and the owner always; a version waiting for curation: curators only;
        otherwise whoever ``visible_to`` names (a bare name is a user)."""
        if "admin" in groups or (user is not None and user == self.owner):
            return True
        if self.pending:
            return "curators" in groups or "admin" in groups
        return bool(_tokens(user, groups) & _named(self.versions[version]))

    def searchable_for(self, user: str | None, groups: frozenset[str]) -> bool:
        """Search holds the latest version only."""
        return self.visible_for(user, groups, len(self.versions) - 1)


@dataclass(frozen=True)
class ServableSpec:
    name: str
    owner: str
    visible_to: tuple[str, ...]
    runnable_by: tuple[str, ...] | None

    def visible_for(self, user: str | None, groups: frozenset[str]) -> bool:
        if "admin" in groups or (user is not None and user == self.owner):
            return True
        return bool(_tokens(user, groups) & _named(self.visible_to))

    def runnable_for(self, user: str | None, groups: frozenset[str]) -> bool:
        """Who may see it and is named by ``runnable_by`` (default: ``visible_to``)."""
        if "admin" in groups or (user is not None and user == self.owner):
            return True
        may = self.runnable_by if self.runnable_by is not None else self.visible_to
        return self.visible_for(user, groups) and bool(_tokens(user, groups) & _named(may))


@dataclass(frozen=True)
class World:
    groups: dict[str, frozenset[str]]
    datasets: list[DatasetSpec]
    servables: list[ServableSpec]


acl = st.lists(st.sampled_from(ENTRIES), min_size=1, max_size=3, unique=True).map(tuple)
group_sets = st.frozensets(st.sampled_from(GROUPS), max_size=2)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    groups = {u: draw(group_sets) for u in USERS}
    if draw(st.booleans()):
        groups[draw(st.sampled_from(USERS))] = frozenset({"admin"})
    datasets = []
    for i in range(draw(st.integers(2, 4))):
        pending = draw(st.integers(0, 3)) == 0
        datasets.append(
            DatasetSpec(
                name=f"ds{i}",
                owner=draw(st.sampled_from(USERS)),
                visible_to=draw(acl),
                pending=pending,
                colors=tuple(draw(st.lists(st.sampled_from(COLORS), min_size=1, max_size=3))),
                then=None if pending or draw(st.booleans()) else draw(acl),
            )
        )
    servables = [
        ServableSpec(
            name=f"sv{i}",
            owner=draw(st.sampled_from(USERS)),
            visible_to=draw(acl),
            runnable_by=draw(st.one_of(st.none(), acl)),
        )
        for i in range(draw(st.integers(1, 3)))
    ]
    return World(groups, datasets, servables)


# -- building a world -------------------------------------------------------------------------


@dataclass
class Built:
    root: Hub
    url: str
    tokens: dict[str, str]
    #: dataset name -> per version: (source_id, record ids, structure record ids)
    versions: dict[str, list[tuple[str, list[str], list[str]]]] = field(default_factory=dict)
    files: dict[str, dict[str, bytes]] = field(default_factory=dict)


def build(world: World, home: Path, src: Path) -> tuple[Hub, dict[str, str], dict[str, Any]]:
    root = Hub(home, progress=False)
    tokens: dict[str, str] = {}
    for user, groups in world.groups.items():
        root.users.ensure_user(user, sorted(groups))
        tokens[user], _ = root.users.create_token(root.principal, user, label="acl")
    versions: dict[str, list[tuple[str, list[str], list[str]]]] = {}
    files: dict[str, dict[str, bytes]] = {}
    for i, spec in enumerate(world.datasets):
        folder = src / spec.name
        folder.mkdir(parents=True)
        rows = [{"key": f"{spec.name}-{j}", "color": c, "only": 1} for j, c in enumerate(spec.colors)]
        (folder / "rows.json").write_text(json.dumps(rows))
        el, kind, a = METALS[i % len(METALS)]
        bulk(el, kind, a=a).write(folder / f"{el}.cif")
        files[spec.name] = {p.name: p.read_bytes() for p in folder.iterdir()}
        owner = root.acting_as(root.users.authenticate(tokens[spec.owner]))
        mapping = {**MAPPING, f"custom.only_{spec.name}": "only"}
        sub = owner.submit(
            folder, f"Dataset {spec.name}", [f"{spec.owner.title()}, A."], mapping=mapping,
            visible_to=list(spec.visible_to), curate=spec.pending, source_name=spec.name,
        )  # fmt: skip
        assert sub.ok and not sub.errors, sub.report()
        sids = [sub.source_id]
        if spec.then:
            sids.append(owner.update_metadata(spec.name, visible_to=list(spec.then)).source_id)
        versions[spec.name] = []
        for sid in sids:
            recs = root.dataset(sid).records()
            structures = [r["mdf"]["record_id"] for r in recs if "crystal_structure" in r]
            versions[spec.name].append((sid, [r["mdf"]["record_id"] for r in recs], structures))
            assert len(recs) == len(spec.colors) + 1 and len(structures) == 1
    for sspec in world.servables:
        owner = root.acting_as(root.users.authenticate(tokens[sspec.owner]))
        runnable = list(sspec.runnable_by) if sspec.runnable_by is not None else None
        sv = owner.describe(echo, name=sspec.name, visible_to=list(sspec.visible_to), runnable_by=runnable)
        assert owner.publish_servable(sv) == f"{sspec.owner}/{sspec.name}"
    return root, tokens, {"versions": versions, "files": files}


# -- the checks ---------------------------------------------------------------------------------


def expected_ids(world: World, info: dict[str, Any], user: str | None, groups: frozenset[str]) -> set[str]:
    out: set[str] = set()
    for s in world.datasets:
        if s.searchable_for(user, groups):
            sid, recs, _ = info["versions"][s.name][-1]
            out |= {sid, *recs}
    return out


def check_python_api(
    hub: Any, world: World, info: dict[str, Any], user: str | None, groups: frozenset[str]
) -> None:
    """The same checks for the embedded view and the remote client (the public surface)."""
    who = f"{user} {sorted(groups)} via {type(hub).__name__}"
    seen = [s for s in world.datasets if s.searchable_for(user, groups)]
    expected = expected_ids(world, info, user, groups)
    res = hub.search("*", limit=1000)
    assert {h.id for h in res.hits} == expected, who
    assert res.total == len(expected), who
    colors = Counter(c for s in seen for c in s.colors)
    facets = hub.search("*", limit=0, facets=["custom.color", "mdf.source_name"]).facets
    assert {b["value"]: b["count"] for b in facets["custom.color"]["buckets"]} == dict(colors), who
    assert {b["value"]: b["count"] for b in facets["mdf.source_name"]["buckets"]} == {
        s.name: len(s.colors) + 2 for s in seen
    }, who
    red = hub.search("*", limit=0, filters={"custom.color": ["red"]})
    assert red.total == colors["red"], who
    assert sorted(h.id for h in hub.scroll("*")) == sorted(expected), who
    visible_versions = set()
    for s in world.datasets:
        for v, (sid, recs, _) in enumerate(info["versions"][s.name]):
            if s.visible_for(user, groups, v):
                visible_versions.add(sid)
                assert hub.dataset(sid).source_id == sid, who
                assert hub.record(recs[0])["mdf"]["record_id"] == recs[0], who
                with hub.open(sid, "rows.json") as f:
                    assert f.read() == info["files"][s.name]["rows.json"], who
            else:
                with pytest.raises(NotFoundError):
                    hub.dataset(sid)
                for rid in recs:
                    with pytest.raises(NotFoundError):
                        hub.record(rid)
                with pytest.raises(NotFoundError):
                    hub.open(sid, "rows.json").read()
                FIGURES["hidden reads refused"] += 2 + len(recs)
        if not any(s.visible_for(user, groups, v) for v in range(len(s.versions))):
            with pytest.raises(NotFoundError):
                hub.dataset(s.name)
    assert {d.source_id for d in hub.datasets(all_versions=True)} == visible_versions, who
    only = {p.removeprefix("custom.only_") for p in hub.fields() if p.startswith("custom.only_")}
    assert only == {s.name for s in seen}, who
    for s in world.datasets:
        if s not in seen:
            assert hub.search(f"custom.key:{s.name}-0 OR mdf.source_name:{s.name}").total == 0, who
    # servables
    visible = {f"{sv.owner}/{sv.name}" for sv in world.servables if sv.visible_for(user, groups)}
    assert {h.id for h in hub.servables("*", limit=100).hits} == visible, who
    for sv in world.servables:
        name = f"{sv.owner}/{sv.name}"
        if not sv.visible_for(user, groups):
            with pytest.raises(NotFoundError):
                hub.servable(name)
            with pytest.raises(NotFoundError):
                hub.run(name, 1.0)
            FIGURES["hidden servables refused"] += 2
        elif sv.runnable_for(user, groups):
            assert hub.servable(name).id == name
            assert hub.run(name, 1.0) == 2.0, who
        else:
            assert hub.servable(name).id == name
            with pytest.raises((AccessDeniedError, AuthenticationError)):
                hub.run(name, 1.0)
            FIGURES["runs refused"] += 1
    FIGURES["python checks"] += 1


def check_rest(url: str, token: str | None, world: World, info: dict[str, Any], user: str | None,
               groups: frozenset[str]) -> None:  # fmt: skip
    """What only the REST API (and the other APIs the service speaks) expose."""
    who = f"{user} {sorted(groups)} over REST"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    expected = expected_ids(world, info, user, groups)
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        # scroll in small pages
        got, after = [], None
        while True:
            page = http.post("/api/search/scroll", json={"q": "*", "size": 2, "after": after}).json()
            got += [h["id"] for h in page["hits"]]
            after = page["next"]
            if after is None:
                break
        assert sorted(got) == sorted(expected), who
        body = http.get("/api/search", params={"q": "*", "limit": 1000, "facets": ["custom.color"]}).json()
        assert {h["id"] for h in body["hits"]} == expected and body["total"] == len(expected), who
        assert http.get("/api/info").json()["datasets"] == len(
            {
                s.name
                for s in world.datasets
                if any(s.visible_for(user, groups, v) for v in range(len(s.versions)))
            }
        ), who
        # every read of a version: 200 when visible, 404 (never 403: no existence leak) otherwise
        for s in world.datasets:
            for v, (sid, recs, _) in enumerate(info["versions"][s.name]):
                ok = s.visible_for(user, groups, v)
                for path in ("", "/files", "/records", "/manifest", "/datacite", "/versions", "/verify"):
                    r = http.get(f"/api/datasets/{sid}{path}")
                    assert r.status_code == (200 if ok else 404), (who, sid, path, r.status_code)
                cif = next(n for n in info["files"][s.name] if n.endswith(".cif"))
                whole = http.get(f"/api/datasets/{sid}/files/{cif}")
                part = http.get(f"/api/datasets/{sid}/files/rows.json", headers={"Range": "bytes=0-3"})
                if ok:
                    assert whole.content == info["files"][s.name][cif]
                    assert part.status_code == 206 and part.content == info["files"][s.name]["rows.json"][:4]
                else:
                    assert whole.status_code == part.status_code == 404, who
                    assert b"_cell_length" not in whole.content and b"color" not in part.content
                    FIGURES["hidden REST reads refused"] += 9
                for rid in recs:
                    assert http.get(f"/api/records/{rid}").status_code == (200 if ok else 404), who
        # submissions: one's own (curators and admins: everyone's)
        subs = http.get("/api/submissions")
        if user is None:
            assert subs.status_code in (200, 401) and (subs.status_code == 401 or subs.json() == [])
        else:
            owners = {s["owner"] for s in subs.json()}
            if not ({"curators", "admin"} & groups):
                assert owners <= {user}, who
        # OPTIMADE: structures of the datasets one may search, and nothing else
        structures = {
            info["versions"][s.name][-1][2][0] for s in world.datasets if s.searchable_for(user, groups)
        }
        opt = http.get("/optimade/v1/structures", params={"page_limit": 1000})
        if opt.status_code != 404:  # the endpoint is served (the `optimade` API is on)
            body = opt.json()
            assert {d["id"] for d in body["data"]} == structures, who
            assert body["meta"]["data_returned"] == body["meta"]["data_available"] == len(structures), who
            for s in world.datasets:
                rid = info["versions"][s.name][-1][2][0]
                if rid not in structures:
                    single = http.get(f"/optimade/v1/structures/{rid}").json()
                    assert single["data"] is None, who
                    probe = http.get("/optimade/v1/structures", params={"filter": f'id="{rid}"'}).json()
                    assert probe["data"] == [] and probe["meta"]["data_returned"] == 0, who
                    FIGURES["hidden OPTIMADE probes"] += 2
            FIGURES["OPTIMADE checks"] += 1
        # Globus Search (what MDF Forge talks to)
        gs = http.get("/globus-search/v1/index/mdf/search", params={"q": "*", "limit": 1000})
        if gs.status_code != 404:
            gmeta = gs.json()["gmeta"]
            sources = {
                e["content"]["mdf"]["source_id"] for m in gmeta for e in m["entries"] if e.get("content")
            }
            assert sources == {
                info["versions"][s.name][-1][0] for s in world.datasets if s.searchable_for(user, groups)
            }, who
            assert gs.json()["total"] == len(expected), who
            FIGURES["Globus checks"] += 1
    FIGURES["REST checks"] += 1


def check_tasks(url: str, tokens: dict[str, str], world: World) -> None:
    """An asynchronous run's task is read by its owner (and admins) only."""
    for s in world.servables:
        name = f"{s.owner}/{s.name}"
        runner = next((u for u in USERS if s.runnable_for(u, world.groups[u])), None)
        if runner is None:
            continue
        with httpx.Client(base_url=url, timeout=60) as http:
            auth = {"Authorization": f"Bearer {tokens[runner]}"}
            r = http.post(
                f"/api/servables/{name}/run", json={"inputs": 1.0, "asynchronous": True}, headers=auth
            )
            assert r.status_code == 200, r.text
            task_id = r.json()["task"]["id"]
            for other in [*USERS, None]:
                h = {"Authorization": f"Bearer {tokens[other]}"} if other else {}
                status = http.get(f"/api/tasks/{task_id}", headers=h).status_code
                allowed = other == runner or (other is not None and "admin" in world.groups[other])
                assert status == (200 if allowed else 404), (runner, other, status)
                FIGURES["task reads"] += 1


def check_world(world: World) -> None:
    with tempfile.TemporaryDirectory(prefix="acl-") as tmp:
        root, tokens, info = build(world, Path(tmp) / "hub", Path(tmp) / "src")
        try:
            with LiveServer(create_app(root)) as live:
                callers: list[tuple[str | None, frozenset[str]]] = [(u, world.groups[u]) for u in USERS]
                callers.append((None, frozenset()))
                for user, groups in callers:
                    view = root.acting_as(root.users.authenticate(tokens[user]) if user else Principal(None))
                    check_python_api(view, world, info, user, groups)
                    remote = Hub(live.url, token=tokens[user] if user else None, progress=False)
                    try:
                        check_python_api(remote, world, info, user, groups)
                    finally:
                        remote.close()
                    check_rest(live.url, tokens[user] if user else None, world, info, user, groups)
                check_tasks(live.url, tokens, world)
        finally:
            root.close()
    FIGURES["worlds"] += 1
    FIGURES["principals"] += len(USERS) + 1
    FIGURES["datasets"] += len(world.datasets)
    FIGURES["servables"] += len(world.servables)


def run_property(examples: int) -> None:
    FIGURES.clear()

    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.reuse, Phase.generate),  # a failure names the principal
        suppress_health_check=list(HealthCheck),
    )
    @given(worlds())
    def prop(world: World) -> None:
        check_world(world)

    prop()
    record("access control (Python API + REST + OPTIMADE + Globus)", cases=FIGURES["worlds"], leaks=0,
           **{k.replace(" ", "_"): v for k, v in FIGURES.items() if k != "worlds"})  # fmt: skip


def test_acl_property_short() -> None:
    run_property(2)


@pytest.mark.reliability
def test_acl_property_long() -> None:
    run_property(scale(2, 15))


def test_the_rules_themselves() -> None:
    """Fixed points of the rules the property checks against."""
    ds = DatasetSpec("d", "alice", ("group:lab", "bob"), False, ("red",))
    assert ds.visible_for("alice", frozenset()) and ds.visible_for("bob", frozenset())
    assert ds.visible_for("carol", frozenset({"lab"})) and not ds.visible_for("carol", frozenset({"ext"}))
    assert not ds.visible_for(None, frozenset()) and ds.visible_for("x", frozenset({"admin"}))
    pending = DatasetSpec("p", "alice", ("public",), True, ("red",))
    assert not pending.visible_for("bob", frozenset()) and pending.visible_for("bob", frozenset({"curators"}))
    sv = ServableSpec("s", "alice", ("public",), ("group:lab",))
    assert sv.visible_for(None, frozenset()) and not sv.runnable_for(None, frozenset())
    assert sv.runnable_for("bob", frozenset({"lab"})) and sv.runnable_for("alice", frozenset())
    hidden = ServableSpec("h", "alice", ("user:bob",), ("public",))
    assert not hidden.runnable_for("carol", frozenset())  # runnable by all, but not visible to carol
