"""Limits before work, and no 5xx from any input (issue 26, items 4 and 5), against a live
``matterhub serve``.

The attacks of the outside test: a 20 MB one-word ``q`` (it took 12 s, held every other
request and came back whole), a 40,000-term OR query (15 s of CPU), a facet whose field is
a list (500), run inputs with malformed tags or nested 600 deep (500, a RecursionError),
decoded before the servable was looked up.  Each is refused with a 4xx that quotes at
most an excerpt of what was sent, before the work it would have cost; and a search at
the limits does not hold other requests.
"""

from __future__ import annotations

import json
import random
import socket
import string
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from reliability_server import ServerProcess, record

from hub import Hub
from hub.access import Principal

#: The service's defaults (hub/service/settings.py), which these checks run against.
MAX_BODY = 1024**2
MAX_PATTERNS = 16
MAX_ERROR_BODY = 3_000
#: Distinct words in the description of a public dataset: a term dictionary large enough for
#: a query at the pattern limit to take seconds.
WORDS = 400_000
CASES: dict[str, int] = {}
FIGURES: dict[str, float] = {}


def triple(x: float) -> float:
    return 3 * x


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("limits")
    home = root / "hub"
    hub = Hub(home, progress=False)
    try:
        hub.users.ensure_user("alice", ["lab"])
        alice = hub.acting_as(Principal("alice", frozenset({"lab"})))
        rnd = random.Random(26)
        words = " ".join("".join(rnd.choices(string.ascii_lowercase, k=9)) for _ in range(WORDS))
        for name in ("copper", "vocabulary"):
            (root / name).mkdir()
            (root / name / "notes.txt").write_text(f"{name} notes\n")
        sub = alice.submit(root / "copper", "Copper notes", ["Ward, Logan"], visible_to=["public"])
        assert sub.ok, sub.message
        vocabulary = alice.submit(
            root / "vocabulary", "Vocabulary", ["Ward, Logan"], visible_to=["public"], description=words
        )
        assert vocabulary.ok, vocabulary.message
        alice.publish_servable(alice.describe(triple, name="triple"))
        alice.publish_servable(alice.describe(triple, name="secret", visible_to=["group:lab"]))
    finally:
        hub.close()
    server = ServerProcess(home, root / "server")
    try:
        server.start()
        yield {"server": server, "source_id": sub.source_id}
    finally:
        server.stop()
        record(
            "limits: oversized, deep and malformed requests refused (items 4-5)",
            cases=sum(CASES.values()),
            unhandled=0,
            **{k.replace(" ", "_"): v for k, v in sorted(CASES.items())},
            **FIGURES,
        )


def _count(kind: str, n: int = 1) -> None:
    CASES[kind] = CASES.get(kind, 0) + n


def _refused(r: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    """``r`` is a short JSON error of ``status`` whose text holds ``words``."""
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert len(r.content) < MAX_ERROR_BODY, f"the error body echoes the request: {len(r.content):,} bytes"
    body: dict[str, Any] = r.json()
    text = json.dumps(body)
    for word in words:
        assert word in text, (word, text[:500])
    return body


# -- bodies ---------------------------------------------------------------------------------------


def _status_line(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, "the server closed the connection without answering"
        data += chunk
    return int(data.split(b" ", 2)[1])


def test_a_body_past_its_limit_is_refused_before_it_is_read(service: dict[str, Any]) -> None:
    server: ServerProcess = service["server"]
    big = json.dumps({"q": "a" * (20 * 1024 * 1024)})
    r = httpx.post(f"{server.url}/api/search", content=big, headers={"Content-Type": "application/json"})
    _refused(r, 413, "1,048,576 bytes")
    # the declared length is enough: the answer comes while the client still holds the body
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        head = (
            "POST /api/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(big)}\r\n\r\n"
        )
        sock.sendall(head.encode() + big[:65536].encode())
        assert _status_line(sock) == 413
    # without a length, reading stops once the limit is passed: the answer comes while the
    # client still holds the rest
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        head = (
            "POST /api/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        )
        sock.sendall(head.encode())
        piece = b"a" * 65536
        sock.sendall(b'7\r\n{"q": "\r\n')
        for _ in range(MAX_BODY // len(piece) + 2):
            sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
        assert _status_line(sock) == 413
    # a run's body has its own, larger limit, and an upload keeps the upload limit
    r = httpx.post(f"{server.url}/api/servables/alice/triple/run", json={"inputs": 1.5, "cache": False})
    assert r.status_code == 200 and r.json()["output"] == 4.5, r.text
    _count("bodies", 4)


# -- queries --------------------------------------------------------------------------------------


def test_queries_past_the_limits_are_refused_before_they_are_parsed(service: dict[str, Any]) -> None:
    server: ServerProcess = service["server"]
    many = " OR ".join(f"w{i}" for i in range(40_000))  # 389 KB: past the length limit
    clauses = " OR ".join(f"w{i}" for i in range(1_100))  # 10 KB, 1,100 words
    patterns = " ".join(f"co{c}*" for c in string.ascii_lowercase * 3)
    deep = "(" * 40 + "copper" + ")" * 40
    with server.client() as http:
        for q, words in [
            (many, ["388,886 characters", "32,768"]),
            (clauses, ["1,024 words"]),
            (patterns, ["16 wildcards"]),
            (deep, ["32 levels"]),
            ("NOT " * 40 + "copper", ["32 levels"]),
        ]:
            _refused(http.post("/api/search", json={"q": q}), 400, *words)
            _refused(http.post("/api/search/scroll", json={"q": q}), 400, *words)
            _refused(http.post("/api/servables/search", json={"q": q}), 400, *words)
            _refused(http.post("/globus-search/v1/index/mdf/search", json={"q": q, "advanced": True}), 400)
            _refused(http.post("/globus-search/v1/index/mdf/scroll", json={"q": q}), 400)
            _count("queries", 5)
            if len(q) < 60_000:  # what a URL holds (httpx's limit)
                _refused(http.get("/api/search", params={"q": q}), 400, *words)
                _refused(http.get("/api/servables", params={"q": q}), 400, *words)
                _refused(http.get("/globus-search/v1/index/dlhub/search", params={"q": q}), 400)
                _count("queries", 3)
        filters = {"material.elements": [f"E{i}" for i in range(2_000)]}
        _refused(http.post("/api/search", json={"q": "*", "filters": filters}), 400, "2,000 filter values")
        values = [f"E{i}" for i in range(2_000)]
        globus = {
            "q": "*",
            "filters": [{"type": "match_any", "field_name": "material.elements", "values": values}],
        }
        _refused(http.post("/globus-search/v1/index/mdf/search", json=globus), 400, "1,024")
        r = http.get("/optimade/v1/structures", params={"filter": " OR ".join(["nsites=1"] * 3_000)})
        assert r.status_code == 400 and len(r.content) < MAX_ERROR_BODY, (r.status_code, r.text[:300])
        r = http.get("/optimade/v1/structures", params={"filter": " OR ".join(["nsites=1"] * 1_500)})
        assert r.status_code == 400 and "1,024" in r.text, r.text[:300]
        _count("queries", 4)


def test_error_bodies_quote_only_an_excerpt(service: dict[str, Any]) -> None:
    server: ServerProcess = service["server"]
    with server.client() as http:
        body = _refused(
            http.post("/api/search", json={"q": "a" * 30_000 + " )"}), 400, "...", "position 30001"
        )
        assert len(body["query"]) <= 203
        _refused(http.get("/api/datasets/" + "x" * 5_000), 404, "...")
        _refused(http.get("/api/servables/" + "o" * 3_000 + "/" + "n" * 3_000), 404, "...")
        _refused(
            http.post("/api/search", json={"q": "*", "facets": [{"field": "f" * 5_000 + "%"}]}), 400, "..."
        )
        _refused(http.post("/api/search", json={"q": "*", "sort": "-" + "%" * 5_000}), 400)
        _refused(http.post("/api/search", json={"q": "*", "filters": {"x" * 5_000 + "%": "y"}}), 400, "...")
        _refused(http.post("/api/search", json={"q": "*", "x" * 5_000: 1}), 400)
        r = http.get("/optimade/v1/structures", params={"filter": "nsites=" + "1" * 20_000 + " AND )"})
        assert r.status_code == 400 and len(r.content) < MAX_ERROR_BODY, (r.status_code, len(r.content))
        r = http.get("/globus-search/v1/index/mdf/subject", params={"subject": "s" * 5_000})
        assert r.status_code == 404 and len(r.content) < MAX_ERROR_BODY, (r.status_code, len(r.content))
    _count("excerpts", 9)


# -- facets ---------------------------------------------------------------------------------------


def test_facets_are_checked_before_they_are_counted(service: dict[str, Any]) -> None:
    server: ServerProcess = service["server"]
    with server.client() as http:
        for facets, words in [
            ([{"field": [1]}], ["field path"]),
            ([{"field": {"a": 1}}], ["field path"]),
            ([{"field": "x", "size": "big"}], ["whole number"]),
            ([{"field": "x", "size": 20_000}], ["10,000"]),
            ([{"field": "x", "type": "histogram", "interval": -1}], ["positive number"]),
            ([{"field": "x", "type": "histogram", "interval": "1d"}], ["positive number"]),
            ([{"field": "x", "type": "date_histogram", "interval": 3}], ["duration"]),
            ([{"field": "x", "type": "histogram", "buckets": 600}] * 2, ["1,200 histogram buckets"]),
            ([f"f{i}" for i in range(17)], ["17 facets"]),
            ([{"field": "x", "type": "pie"}], ["not one of"]),
            ([[1, 2]], ["facets"]),
        ]:
            _refused(http.post("/api/search", json={"q": "*", "facets": facets}), 400, *words)
            _refused(http.post("/api/servables/search", json={"q": "*", "facets": facets}), 400, *words)
            _count("facets", 2)
        _refused(http.get("/api/search", params={"q": "*", "facets": [f"f{i}" for i in range(17)]}), 400)
        histograms = [
            {
                "field_name": f"x{i}",
                "type": "numeric_histogram",
                "size": 100,
                "histogram_range": {"low": 0, "high": 1},
            }
            for i in range(11)
        ]
        body = {"q": "*", "facets": histograms}
        _refused(http.post("/globus-search/v1/index/mdf/search", json=body), 400, "1,100 histogram buckets")
        _refused(
            http.post(
                "/globus-search/v1/index/mdf/search", json={"q": "*", "facets": [{"field_name": "x"}] * 17}
            ),
            400,
        )
        _count("facets", 3)
        # within the limits they are counted as before
        ok = http.post(
            "/api/search", json={"q": "*", "facets": ["mdf.resource_type", {"field": "x", "size": 5}]}
        )
        assert ok.status_code == 200 and set(ok.json()["facets"]) == {"mdf.resource_type", "x"}, ok.text[:300]


# -- servable runs --------------------------------------------------------------------------------

BAD_INPUTS: list[tuple[str, Any]] = [
    ("object dtype", {"__ndarray__": {"dtype": "O", "shape": [1], "data": "AAAAAAAAAAA="}}),
    ("no data", {"__ndarray__": {"dtype": "<f8"}}),
    ("not an object", {"__ndarray__": [1, 2]}),
    ("bytes short of the shape", {"__ndarray__": {"dtype": "<f8", "shape": [10**12], "data": ""}}),
    ("a record dtype", {"__ndarray__": {"dtype": "i4,f8", "shape": [1], "data": "AAAAAAAAAAAAAAAA"}}),
    ("a float tag holding a list", {"__float__": [1]}),
    ("a complex tag holding text", {"__complex__": "x"}),
    ("a bytes tag holding no base64", {"__bytes__": "%%%"}),
    ("inside a list", [1.0, {"x": {"__float__": "one"}}]),
]


def test_run_inputs_are_decoded_after_the_lookup_and_never_fail(service: dict[str, Any]) -> None:
    server: ServerProcess = service["server"]
    url = server.url
    for label, inputs in BAD_INPUTS:
        r = httpx.post(f"{url}/api/servables/alice/triple/run", json={"inputs": inputs}, timeout=120)
        assert r.status_code == 400, (label, r.text[:300])
        _refused(r, 400, "__")
        # a servable the caller may not see is not found, whatever the inputs hold: nothing is decoded
        for name in ("alice/secret", "nobody/nothing"):
            r = httpx.post(f"{url}/api/servables/{name}/run", json={"inputs": inputs}, timeout=120)
            _refused(r, 404, name)
        _count("run inputs", 3)
    deep: Any = 1.0
    for _ in range(600):
        deep = [deep]
    for name in ("alice/triple", "alice/secret", "nobody/nothing"):
        r = httpx.post(f"{url}/api/servables/{name}/run", json={"inputs": deep}, timeout=120)
        _refused(r, 400, "64 levels")
    tags = [{"__float__": "nan"}] * 10_001
    r = httpx.post(f"{url}/api/servables/alice/triple/run", json={"inputs": tags}, timeout=120)
    _refused(r, 400, "10,000 tagged values")
    _count("run inputs", 4)


def test_deep_json_is_refused_wherever_it_is_sent(service: dict[str, Any]) -> None:
    server: ServerProcess = service["server"]
    deep = "[" * 5_000 + "]" * 5_000
    token = server.admin_token
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with server.client() as http:
        for method, path, body in [
            ("POST", "/api/search", '{"q": "*", "filters": {"x": ' + deep + "}}"),
            ("POST", "/api/search/scroll", '{"q": "*", "filters": {"x": ' + deep + "}}"),
            ("POST", "/globus-search/v1/index/mdf/search", '{"q": "*", "q_settings": {"x": ' + deep + "}}"),
            ("PATCH", f"/api/datasets/{service['source_id']}", '{"custom": ' + deep + "}"),
            ("POST", "/api/users", '{"name": ' + deep + "}"),
        ]:
            r = http.request(method, path, content=body, headers=headers)
            _refused(r, 400, "levels deep")
        for path, field in [("/api/servables", "metadata"), ("/api/submissions/upload", "metadata")]:
            files = {"file": ("a.txt", b"x", "text/plain")} if "submissions" in path else None
            r = http.post(path, data={field: deep}, files=files, headers={"Authorization": f"Bearer {token}"})
            _refused(r, 400, "levels deep")
    _count("deep JSON", 7)


def test_metadata_that_is_not_datacite_is_refused(service: dict[str, Any]) -> None:
    """An author object without a name was pydantic's own error: a 500."""
    server: ServerProcess = service["server"]
    with server.client(server.admin_token) as http:
        meta = {"title": "Bad authors", "authors": [{"x": 1}]}
        files = {"file": ("a.txt", b"x", "text/plain")}
        r = http.post("/api/submissions/upload", data={"metadata": json.dumps(meta)}, files=files)
        _refused(r, 400, "authors.0.name")
        r = http.patch(f"/api/datasets/{service['source_id']}", json={"authors": [{"x": 1}]})
        _refused(r, 400, "authors.0.name")
    _count("metadata", 2)


# -- a search at the limits -----------------------------------------------------------------------


def _at_the_limits() -> str:
    """As many regular expressions as a query may hold, each reading the whole term dictionary."""
    letters = string.ascii_lowercase
    return " OR ".join(
        f"/.*{letters[i % 26]}.*{letters[(i * 7 + 3) % 26]}.*{letters[(i * 11 + 5) % 26]}.*/"
        for i in range(MAX_PATTERNS)
    )


def test_a_search_at_the_limits_does_not_hold_other_requests(service: dict[str, Any]) -> None:
    """While a search at the limits runs (seconds, in its lane; the engine lets go of the GIL)
    and a 20 MB query is sent, small requests, searches included, answer before the search
    ends and the 20 MB query is refused: the order of completion is asserted, not a time."""
    server: ServerProcess = service["server"]
    q = _at_the_limits()
    with server.client() as http:
        for _ in range(2):  # the second time, as the search below finds the index: read before
            started = time.monotonic()
            assert http.post("/api/search", json={"q": q, "limit": 0}).status_code == 200
            alone = time.monotonic() - started
    ended: dict[str, float] = {}
    status: dict[str, int] = {}

    def send(name: str, body: dict[str, Any]) -> None:
        with server.client() as http:
            r = http.post("/api/search", json=body)
            ended[name] = time.monotonic()
            status[name] = r.status_code

    loads = [
        threading.Thread(target=send, args=("big", {"q": q, "limit": 0})),
        threading.Thread(target=send, args=("attack", {"q": "a" * (20 * 1024 * 1024)})),
    ]
    for thread in loads:
        thread.start()
    time.sleep(alone / 4)  # the search at the limits is running now
    small = {
        "info": ("/api/info", None),
        "search": ("/api/search", {"q": "copper"}),
        "globus": ("/globus-search/v1/index/mdf/search", {"q": "copper"}),
        "optimade": ("/optimade/v1/structures", {"filter": "nsites=1"}),
    }
    with server.client() as http:
        for name, (path, params) in small.items():
            r = http.get(path, params=params)
            ended[name] = time.monotonic()
            assert r.status_code == 200, (name, r.text[:300])
    for thread in loads:
        thread.join(600)
    assert status == {"big": 200, "attack": 413}, status
    FIGURES["search_at_the_limits_s"] = round(alone, 2)
    late = [name for name in small if ended[name] > ended["big"]]
    assert not late, f"answered after the search at the limits ({alone:.1f} s alone): {late}"
    _count("concurrent small requests", len(small))


def test_the_server_logged_no_unhandled_error(service: dict[str, Any]) -> None:
    server: ServerProcess = service["server"]
    log = Path(server.log).read_text(errors="replace")
    assert "Traceback" not in log and "RecursionError" not in log, log[-3000:]
