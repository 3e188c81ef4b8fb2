"""``matterhub db ...`` (hub/db/cli.py) on SQLite and PostgreSQL catalogs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from hub.db import migrate
from hub.db.cli import db


def run(*args: str, obj: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(db, list(args), obj=obj or {})
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_current_upgrade_check_and_downgrade(catalog_url: str) -> None:
    run("--url", catalog_url, "upgrade")
    state = json.loads(run("--url", catalog_url, "current", "--json"))
    assert state["revision"] == state["head"] == migrate.head() and state["up_to_date"]
    assert "already at" in run("--url", catalog_url, "upgrade")
    assert "matches the models" in run("--url", catalog_url, "check")

    engine = sa.create_engine(catalog_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_datasets_status"))
    engine.dispose()
    result = CliRunner().invoke(db, ["--url", catalog_url, "check", "--json"], obj={})
    assert result.exit_code == 1
    assert json.loads(result.output)["differences"] == ["add_index datasets.ix_datasets_status"]

    assert "base (empty)" in run("--url", catalog_url, "downgrade", "base", "--yes")
    assert json.loads(run("--url", catalog_url, "current", "--json"))["revision"] is None
    assert "(new) -> " in run("--url", catalog_url, "upgrade")
    assert "matches the models" in run("--url", catalog_url, "check")


def test_the_hub_folder_is_the_default(tmp_path: Path) -> None:
    out = run("current", obj={"location": str(tmp_path / "hub")})
    assert str(tmp_path / "hub" / "catalog.sqlite") in out and "(none)" in out
    run("upgrade", obj={"location": str(tmp_path / "hub")})
    assert "up to date" in run("current", obj={"location": str(tmp_path / "hub")})


def test_passwords_are_not_shown() -> None:
    out = run("--url", "postgresql+psycopg://ann:s3cret@db.example:5432/hub", "upgrade", "--sql")
    assert "CREATE TABLE records" in out and "s3cret" not in out


def test_history_lists_the_shipped_revisions() -> None:
    revs = json.loads(run("history", "--json"))
    assert revs[0]["revision"] == "0001" and revs[0]["down_revision"] is None
    assert revs[-1]["revision"] == migrate.head()
    assert [r["down_revision"] for r in revs[1:]] == [r["revision"] for r in revs[:-1]]


def test_revision_writes_a_script_that_changes_nothing_when_models_match(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = sorted(p.name for p in (migrate.MIGRATIONS / "versions").glob("*.py"))
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "MIGRATIONS", copy)
    script = Path(run("revision", "-m", "nothing yet").split()[-1])
    assert script.parent == copy / "versions"
    assert script.name == f"{int(migrate.head()) + 1:04d}_nothing_yet.py"
    text = script.read_text()
    assert f"down_revision: str | Sequence[str] | None = {migrate.head()!r}" in text
    assert f"Revision ID: {int(migrate.head()) + 1:04d}" in text
    body = text.split("def upgrade() -> None:")[1].split("def downgrade")[0]
    assert "pass" in body and "op." not in body, "the models match head: nothing to do"
    assert sorted(p.name for p in (copy / "versions").glob("*.py")) == sorted([*shipped, script.name])
    monkeypatch.undo()
    assert sorted(p.name for p in (migrate.MIGRATIONS / "versions").glob("*.py")) == shipped
