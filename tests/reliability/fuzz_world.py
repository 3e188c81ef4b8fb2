"""Valid inputs for the API fuzzing: what the fuzzed hub really holds.

Schemathesis draws requests from the OpenAPI schema alone, so nearly every one names a
dataset, servable, user or field that does not exist, and is refused (814 of 13,139 cases
reached a 2xx path).  :meth:`World.make_valid` turns three cases in four into requests
that can succeed: real dataset names and ids, files, records, servables, users, tokens,
submissions and tasks in the path; valid queries, filters, fields and pages in the query;
bodies a route accepts; no generated credentials (the caller's token goes in).  The
fourth case stays as generated.  The choice is drawn from a hash of the case, so a run
is repeatable.  :func:`caller_for` picks who sends a case: the
admin for admin operations, the owner for owner operations (with a refused caller now
and then), anyone otherwise.

Operations that destroy name their own victims (users, tokens and servable versions made
for them), never what the other cases need.
"""

from __future__ import annotations

import hashlib
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Queries in the hub's language that parse and match (HUB_QUERIES of the fuzz test, and simpler ones).
QUERIES = [
    "*",
    "copper",
    "material.elements:Cu",
    "material.elements:Cu AND crystal_structure.number_of_atoms:[1 TO 4]",
    'mdf.source_name:"dataset_0" OR NOT material.elements:(Fe OR Co)',
    "crystal_structure.volume:>=10.5 AND _exists_:material.composition",
    "files.filename:*.cif",
    "dc.titles.title:Datset~1",
]
SERVABLE_QUERIES = ["*", "triple", "servable.type:python", "dlhub.name:triple"]
OPTIMADE_FILTERS = ['elements HAS "Cu"', "nelements>=1", 'chemical_formula_reduced="Cu" OR nsites<5', ""]
STATUSES = ["complete", "failed", "queued", "running", "pending_curation"]

ADMIN = ["root", "root", "root", None]
OWNER = ["alice", "alice", "alice", "bob"]
ANYONE = [None, "bob", "alice", "root"]
#: Who sends each operation (method and path template), when not anyone.
CALLERS: dict[tuple[str, str], list[str | None]] = {
    **{
        op: ADMIN
        for op in [
            ("POST", "/api/users"),
            ("GET", "/api/users"),
            ("GET", "/api/users/{name}"),
            ("DELETE", "/api/users/{name}"),
            ("PUT", "/api/users/{name}/groups"),
            ("GET", "/api/groups"),
            ("POST", "/api/index/rebuild"),
            ("GET", "/api/curation"),
            ("POST", "/api/tokens"),
            ("GET", "/api/tokens"),
            ("DELETE", "/api/tokens/{token_id}"),
            ("POST", "/api/submissions/{submission_id}/curate"),
        ]
    },
    **{
        op: OWNER
        for op in [
            ("PATCH", "/api/datasets/{ident}"),
            ("DELETE", "/api/servables/{owner}/{name}"),
            ("POST", "/api/servables/{owner}/{name}/deprecate"),
            ("GET", "/api/tasks/{task_id}"),
            ("GET", "/api/submissions"),
            ("GET", "/api/submissions/{submission_id}"),
            ("POST", "/api/submissions/{submission_id}/retry"),
            ("POST", "/api/submissions/upload"),
            ("GET", "/api/datasets/{ident}/verify"),
            ("GET", "/api/whoami"),
        ]
    },
}


def caller_for(method: str, path: str, turn: int) -> str | None:
    """Who sends the ``turn``-th case of an operation (a user name, None: anonymous)."""
    callers = CALLERS.get((method.upper(), path), ANYONE)
    return callers[turn % len(callers)]


@dataclass
class World:
    """The names and ids a fuzzed hub holds, which valid requests use."""

    datasets: list[str]
    source_names: list[str]
    files: list[str]
    records: list[str]
    servable: tuple[str, str]
    #: a servable whose versions deletions take, and one whose versions deprecations take
    doomed: tuple[str, str]
    doomed_versions: list[int]
    worn: tuple[str, str]
    users: list[str]
    #: users deletions take, and users group changes take (never a caller)
    victims: list[str]
    members: list[str]
    #: the members' tokens, which revocations take
    tokens: list[str]
    submissions: list[str]
    #: submissions waiting for a curator, which curation cases may decide
    pending: list[str]
    tasks: list[str]
    fields: list[str]
    #: how many cases of each operation were made valid, and left as generated
    made: dict[str, int] = field(default_factory=dict)

    def make_valid(self, case: Any) -> Any:
        """``case`` with valid values, three times in four (its own hash decides which)."""
        op = case.operation
        digest = hashlib.sha256(
            f"{op.label}|{case.path_parameters!r}|{case.query!r}|{case.body!r}"[:20_000].encode()
        ).digest()
        rnd = random.Random(digest)
        if rnd.random() < 0.25:
            self.made["as generated"] = self.made.get("as generated", 0) + 1
            return case
        self.made["valid"] = self.made.get("valid", 0) + 1
        method, path = op.method.upper(), op.path
        for name in ("Authorization", "Content-Type"):  # the caller's token, the body's own type
            if case.headers:
                case.headers.pop(name, None)
        if case.path_parameters:
            case.path_parameters = {
                k: self._path_value(method, path, k, v, rnd) for k, v in case.path_parameters.items()
            }
        case.query = self._query(method, path, dict(case.query or {}), rnd)
        body = self._body(method, path, rnd)
        if body is not None:
            case.body, case.media_type = body
        return case

    # -- path ---------------------------------------------------------------------------------

    def _path_value(self, method: str, path: str, name: str, value: Any, rnd: random.Random) -> Any:
        servable = (
            self.doomed if method == "DELETE" else self.worn if path.endswith("/deprecate") else self.servable
        )
        users = {"DELETE": self.victims, "PUT": self.members}.get(method, self.users)
        choices: dict[str, Callable[[], Any]] = {
            "ident": lambda: rnd.choice(self.datasets),
            "path": lambda: rnd.choice(self.files),
            "record_id": lambda: rnd.choice(self.records),
            "entry_id": lambda: rnd.choice(self.records),
            "owner": lambda: servable[0],
            "submission_id": lambda: rnd.choice(self.submissions),
            "task_id": lambda: rnd.choice(self.tasks),
            "token_id": lambda: rnd.choice(self.tokens),
            "index_id": lambda: rnd.choice(["mdf", "dlhub"]),
            "field_name": lambda: rnd.choice(self.fields),
            "entry": lambda: "structures",
        }
        if name == "submission_id" and path.endswith("/curate"):
            return rnd.choice(self.pending)
        if name == "name":
            if path.startswith("/api/users"):
                return rnd.choice(users)
            return servable[1]
        return choices[name]() if name in choices else value

    # -- query --------------------------------------------------------------------------------

    def _query(self, method: str, path: str, query: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
        servables = path.startswith("/api/servables")
        values: dict[str, Callable[[], Any]] = {
            "q": lambda: rnd.choice(SERVABLE_QUERIES if servables else QUERIES),
            "limit": lambda: rnd.randint(0, 20),
            "offset": lambda: rnd.randint(0, 5),
            "sort": lambda: rnd.choice(["", "-"]) + rnd.choice(self.fields),
            "facets": lambda: rnd.sample(self.fields, k=min(2, len(self.fields))),
            "filter": lambda: rnd.choice(OPTIMADE_FILTERS),
            "page_limit": lambda: rnd.randint(1, 20),
            "page_offset": lambda: rnd.randint(0, 5),
            "page_number": lambda: rnd.randint(1, 3),
            "subject": lambda: rnd.choice(self.source_names),
            "source_name": lambda: rnd.choice(self.source_names),
            "user": lambda: rnd.choice(self.users),
            "status": lambda: rnd.choice(STATUSES),
            "version": lambda: rnd.choice(self.doomed_versions if method == "DELETE" else [1, 2, 3]),
            "bypass_visible_to": lambda: False,
        }
        out = {k: (values[k]() if k in values else v) for k, v in query.items()}
        for drop in ("response_fields", "response_format", "include", "page_number"):
            out.pop(drop, None)
        if "{index_id}/subject" in path:
            out["subject"] = rnd.choice(self.source_names)
        if method == "DELETE" and path.startswith("/api/servables"):
            out["version"] = rnd.choice(self.doomed_versions)
        if path.endswith("/deprecate"):
            out["version"] = rnd.choice([1, 2, 3])
        return out

    # -- body ---------------------------------------------------------------------------------

    def _body(self, method: str, path: str, rnd: random.Random) -> tuple[Any, str] | None:
        json_bodies: dict[tuple[str, str], Callable[[], Any]] = {
            ("POST", "/api/search"): lambda: {
                "q": rnd.choice(QUERIES),
                "facets": rnd.sample(self.fields, k=min(2, len(self.fields))),
                "limit": rnd.randint(0, 10),
                "kinds": rnd.choice([None, ["record"], ["dataset"]]),
            },
            ("POST", "/api/search/scroll"): lambda: {"q": rnd.choice(QUERIES), "size": rnd.randint(1, 20)},
            ("POST", "/api/servables/search"): lambda: {"q": rnd.choice(SERVABLE_QUERIES), "limit": 5},
            ("POST", "/api/servables/{owner}/{name}/run"): lambda: {
                "inputs": round(rnd.uniform(-100, 100), 3),
                "cache": rnd.random() < 0.5,
                "asynchronous": rnd.random() < 0.2,
            },
            ("PATCH", "/api/datasets/{ident}"): lambda: {"description": "fuzzed " + _word(rnd)},
            ("POST", "/api/users"): lambda: {
                "name": "fuzz" + _word(rnd),
                "groups": rnd.choice([[], ["lab"]]),
            },
            ("PUT", "/api/users/{name}/groups"): lambda: {"groups": rnd.choice([[], ["lab"], ["curators"]])},
            ("POST", "/api/tokens"): lambda: {"user": rnd.choice(self.members), "label": "fuzz"},
            ("POST", "/api/submissions/{submission_id}/curate"): lambda: {"accept": rnd.random() < 0.5},
            ("POST", "/globus-search/v1/index/{index_id}/search"): lambda: {
                "q": rnd.choice(QUERIES),
                "limit": rnd.randint(0, 10),
                "facets": [{"field_name": rnd.choice(self.fields)}],
            },
            ("POST", "/globus-search/v1/index/{index_id}/scroll"): lambda: {
                "q": rnd.choice(QUERIES),
                "limit": rnd.randint(1, 10),
            },
        }
        key = (method, path)
        if key in json_bodies:
            return json_bodies[key](), "application/json"
        if key == ("POST", "/api/submissions/upload"):
            meta = {"title": "Fuzzed " + _word(rnd), "authors": ["Ward, Logan"]}
            return {"file": b"fuzzed notes\n", "metadata": json.dumps(meta)}, "multipart/form-data"
        return None


def _word(rnd: random.Random) -> str:
    return "".join(rnd.choices(string.ascii_lowercase, k=8))
