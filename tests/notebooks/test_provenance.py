"""``matterhub notebook provenance`` and hub/notebooks/provenance.py: a blob is read by sha256
only by those who may see what holds it (a dataset file, a servable), and a run's executed
notebook by those who may see the servable that ran it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub import Hub
from hub.access import Principal
from hub.cli import main
from hub.exceptions import NotFoundError, ValidationError
from hub.hubs.embedded import EmbeddedHub
from hub.notebooks.provenance import artifact_of, read_provenance
from hub.servables.containment import Containment
from hub.servables.executors import LocalExecutor
from hub.servables.landlock import abi as landlock_abi


def provenance(home: Path, sha: str, out: Path, user: str | None = None) -> tuple[int, str]:
    who = ["--user", user] if user else []
    result = CliRunner().invoke(
        main, ["--hub", str(home), "-q", *who, "notebook", "provenance", sha, "--out", str(out)]
    )
    return result.exit_code, result.output


def test_provenance_reads_only_blobs_one_may_see(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "secret.ipynb").write_text(
        json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    home = tmp_path / "hub"
    alice = Hub(home, user="alice", progress=False)
    sub = alice.submit(src, "Secret notebook", ["Doe, Alice"], visible_to=["user:alice"])
    assert sub.ok, sub.report()
    sha = alice.dataset(sub.source_id).files()[0]["sha256"]
    orphan = alice._store.put_bytes(b'{"a blob no dataset or servable holds": 1}')
    alice.close()

    code, output = provenance(home, sha, tmp_path / "bob.ipynb", user="bob")
    assert code == 2 and "no executed notebook" in output and not (tmp_path / "bob.ipynb").exists()
    code, _ = provenance(home, sha, tmp_path / "alice.ipynb", user="alice")
    assert code == 0 and (tmp_path / "alice.ipynb").read_bytes() == (src / "secret.ipynb").read_bytes()
    for user in ("alice", None):  # not even the hub's owner reads a blob by sha that nothing holds
        code, _ = provenance(home, orphan, tmp_path / "orphan", user=user)
        assert code == 2 and not (tmp_path / "orphan").exists()
    code, output = provenance(home, "../../etc/passwd", tmp_path / "x", user="alice")
    assert code == 2 and "is not a sha256" in output


@pytest.mark.parametrize("contained", [False, True], ids=["pool", "contained"])
def test_a_runs_notebook_is_read_by_those_who_may_see_its_servable(
    failing_nb: Path, tmp_path: Path, contained: bool
) -> None:
    """In a contained worker (``matterhub serve``) the worker cannot store the executed notebook:
    it sends it back and the hub stores it, stamped with the artifact that ran."""
    home = tmp_path / "hub"
    executor = None
    if contained:
        if landlock_abi() < 1:
            pytest.skip("containing servables needs Landlock (Linux 5.13+)")
        executor = LocalExecutor(size=1, containment=Containment().with_hidden([home]))
    alice = EmbeddedHub(home, user="alice", progress=False, executor=executor)
    name = alice.publish_servable(alice.describe(str(failing_nb), visible_to=["user:alice", "group:lab"]))
    out = alice.run(name, {"value": 4})
    sha = out["notebook_sha256"]
    executed = alice._store.get_bytes(sha)
    assert artifact_of(executed) == alice.servable(name).document["dlhub"]["artifact"]["sha256"]
    catalog, store = alice._catalog, alice._store
    assert read_provenance(catalog, store, alice.principal, sha) == executed
    assert read_provenance(catalog, store, Principal("dan", frozenset({"lab"})), sha) == executed
    with pytest.raises(NotFoundError):
        read_provenance(catalog, store, Principal("bob"), sha)
    with pytest.raises(NotFoundError):
        read_provenance(catalog, store, Principal(None), sha)
    alice.close()
    if executor is not None:
        assert executor.pool.reports()[0]["files"], executor.pool.reports()
        executor.close()


def test_what_a_notebook_names() -> None:
    assert artifact_of(b"\x89PNG not json") is None
    assert artifact_of(b'{"metadata": {"matterhub": {"servable_artifact": "../x"}}}') is None
    named = {"metadata": {"matterhub": {"servable_artifact": "a" * 64}}}
    assert artifact_of(json.dumps(named).encode()) == "a" * 64
    with pytest.raises(ValidationError):
        read_provenance(None, None, Principal(None), "A" * 64)  # type: ignore[arg-type]
