"""Every ``matterhub`` command given bad input: one line on stderr, exit status 2, no traceback.

The table below names a bad invocation for every command of the group (a test fails when a
command is added without one), run in-process through click's runner against one small hub
holding a dataset and a servable; a few run again as real subprocesses.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import joblib
import pytest
from click.testing import CliRunner
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from hub.cli import main

MISSING = "/nonexistent/missing"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> set[str]:
    out: set[str] = set()
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            out |= _commands(command, (*prefix, name))
        else:
            out.add(" ".join((*prefix, name)))
    return out


#: command -> (a bad invocation, words its one line must hold).  ``{data}`` is a folder of the
#: test's, ``{bad_json}`` a file holding broken JSON.
BAD = {
    "batch": (["batch", f"{MISSING}.ipynb"], "does not exist"),
    "curate": (["curate", "accept", "nope"], "nope"),
    "dashboards": (["dashboards", "--port", "eighty"], "eighty"),
    "datasets": (["datasets", "--all"], "no such option"),
    "db check": (["db", "check", "--bogus"], "no such option"),
    "db current": (["db", "current", "--bogus"], "no such option"),
    "db downgrade": (["db", "downgrade"], "missing argument"),
    "db history": (["db", "history", "--bogus"], "no such option"),
    "db revision": (["db", "revision", "--bogus"], "no such option"),
    "db upgrade": (["db", "upgrade", "a", "b"], "unexpected extra argument"),
    "demo": (["demo", "--bogus"], "no such option"),
    "download": (["download", "nope_v1", "{data}/out"], "nope_v1"),
    "env gc": (["env", "gc", "--bogus"], "no such option"),
    "env list": (["env", "list", "--bogus"], "no such option"),
    "extractors": (["extractors", "--bogus"], "no such option"),
    "fields": (["fields", "--bogus"], "no such option"),
    "harvest": (
        ["harvest", "https://provider.example/", "--title", "T", "--author", "Curie"],
        "Family, Given",
    ),
    "index rebuild": (["index", "rebuild", "--bogus"], "no such option"),
    "init": (["init", "extra"], "unexpected extra argument"),
    "notebook inspect": (["notebook", "inspect", f"{MISSING}.ipynb"], "does not exist"),
    "notebook provenance": (["notebook", "provenance", "0" * 64], "0000"),
    "notebook run": (["notebook", "run", f"{MISSING}.ipynb"], "does not exist"),
    "openapi": (["openapi", "-o", f"{MISSING}/openapi.json"], MISSING),
    "run": (["run", "cli/iris", "[[0.1,0.2"], "not JSON"),
    "search": (["search", "material.elements:(Co"], "error:"),
    "servable delete": (["servable", "delete", "cli/nope@1"], "nope"),
    "servable deprecate": (["servable", "deprecate", "cli/nope@1"], "nope"),
    "servable export": (["servable", "export", "cli/nope", "--to", "{data}/export"], "nope"),
    "servable publish": (["servable", "publish", f"{MISSING}.py:model"], "cannot import"),
    "servable show": (["servable", "show", "cli/nope"], "nope"),
    "servable types": (["servable", "types", "--bogus"], "no such option"),
    "servables": (["servables", "dlhub.name:(x"], "error:"),
    "serve": (["serve", "--port", "eighty"], "eighty"),
    "show": (["show", "nope_v1"], "no dataset, record or servable 'nope_v1'"),
    "status": (["status", "nope"], "nope"),
    "submit": (["submit", MISSING, "--title", "T", "--author", "Curie, Marie"], "does not exist"),
    "task": (["task", "nope"], "nope"),
    "token create": (["token", "create", "nobody"], "nobody"),
    "token list": (["token", "list", "nobody"], "nobody"),
    "token revoke": (["token", "revoke", "nope"], "nope"),
    "update": (["update", "nope", "--title", "T"], "nope"),
    "user add": (["user", "add"], "missing argument"),
    "user delete": (["user", "delete", "nobody"], "nobody"),
    "user groups": (["user", "groups", "nobody", "g"], "nobody"),
    "user list": (["user", "list", "--bogus"], "no such option"),
    "verify": (["verify", "nope_v1"], "nope_v1"),
}

#: More mistakes the issue names, on the commands that take data.
MORE = [
    (["run", "cli/iris", "--value", "[[0.1,0.2"], "not JSON"),
    (["run", "cli/iris", "--input", "missing.json"], "missing.json"),
    (["run", "cli/iris", "--input", "{bad_json}"], "not JSON"),
    (["run", "cli/iris", "[[1, 2]]"], "expected an ndarray of shape (None, 4)"),
    (["run", "cli/iris", "[[1, 2, 3, 4]]", "--value", "[[1, 2, 3, 4]]"], "give the input once"),
    (["run", "cli/nope", "[[1, 2, 3, 4]]"], "nope"),
    (["run", "cli/iris", "[[1, 2, 3, 4]]", "--param", "oops"], "NAME=VALUE"),
    (["run", "cli/iris"], "give the input as VALUE"),
    (["submit", "{data}", "--title", "T", "--author", "Marie"], "Family, Given"),
    (["submit", "{data}", "--title", "T", "--author", "Curie, Marie", "--mapping", "{bad"], "--mapping"),
    (["submit", "{data}", "--title", "T", "--author", "Curie, Marie", "--mapping", "[1]"], "--mapping"),
    (["search", "*", "--filter", "novalue"], "FIELD=VALUE"),
    (["servable", "publish", "{data}"], "servable.yaml"),
    (["servable", "publish", "no_such_module_here:model"], "cannot import"),
    (["servable", "publish", "{model}", "--metadata", "{bad_json}"], "not JSON"),
    (["servable", "publish", "{model}", "--metadata", "missing.yaml"], "missing.yaml"),
]


@pytest.fixture(scope="module")
def cli_hub(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A hub holding the servable ``cli/iris``, a data folder and a file of broken JSON."""
    root = tmp_path_factory.mktemp("cli-errors")
    data = root / "data"
    data.mkdir()
    (data / "t.csv").write_text("formula,gap\nNaF,11.5\n")
    x, y = load_iris(return_X_y=True)
    model = root / "iris.joblib"
    joblib.dump(LogisticRegression(max_iter=500).fit(x, y), model)
    (root / "bad.json").write_text('{"x": [1, 2')
    places = {
        "home": str(root / "hub"),
        "data": str(data),
        "bad_json": str(root / "bad.json"),
        "model": str(model),
    }
    done = _invoke(places, ["servable", "publish", str(model), "--name", "iris"])
    assert done.exit_code == 0, done.output
    return places


#: Commands for curators and admins: run as the hub's local owner (an admin), so the mistake is
#: the id, not who asks (a refusal exits with 1).
AS_ADMIN = ("curate", "token", "user")


def _invoke(places: dict[str, str], args: list[str]) -> click.testing.Result:
    filled = [a.format(**places) if "{" in a and not a.startswith("{bad") else a for a in args]
    filled = [places["bad_json"] if a == "{bad_json}" else a for a in filled]
    user = [] if args[0] in AS_ADMIN else ["--user", "cli"]
    return CliRunner().invoke(main, ["--hub", places["home"], *user, "-q", *filled])


def test_a_refusal_exits_with_1(cli_hub: dict[str, str]) -> None:
    done = CliRunner().invoke(main, ["--hub", cli_hub["home"], "--user", "cli", "-q", "user", "list"])
    assert done.exit_code == 1 and done.stderr.startswith("error: cli is not an admin"), done.output


def _assert_one_clear_line(result: click.testing.Result, words: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert lines and lines[0].startswith("error: "), result.stderr
    if "query" not in result.stderr:  # a query's error shows it with a caret under the place
        assert len(lines) == 1, result.stderr
    assert words.lower() in result.stderr.lower(), result.stderr


def test_every_command_has_a_bad_invocation_here() -> None:
    assert _commands(main) == set(BAD), "add the new command's bad input to BAD"


@pytest.mark.parametrize("command", sorted(BAD))
def test_a_bad_invocation_is_one_line_and_status_2(cli_hub: dict[str, str], command: str) -> None:
    args, words = BAD[command]
    _assert_one_clear_line(_invoke(cli_hub, args), words)


@pytest.mark.parametrize("args, words", MORE, ids=[" ".join(a[:3]) for a, _ in MORE])
def test_mistakes_in_data_are_one_line_and_status_2(
    cli_hub: dict[str, str], args: list[str], words: str
) -> None:
    _assert_one_clear_line(_invoke(cli_hub, args), words)


def test_run_takes_its_value_as_an_argument(cli_hub: dict[str, str]) -> None:
    done = _invoke(cli_hub, ["run", "cli/iris", "[[5.1, 3.5, 1.4, 0.2]]", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["outputs"] == [0]


def test_show_finds_servables_and_records(cli_hub: dict[str, str]) -> None:
    shown = _invoke(cli_hub, ["show", "cli/iris"])
    assert shown.exit_code == 0 and shown.stdout.startswith("cli/iris@1 (sklearn"), shown.output
    sub = _invoke(
        cli_hub, ["submit", cli_hub["data"], "--title", "Gaps", "--author", "Curie, Marie", "--json"]
    )
    assert sub.exit_code == 0, sub.output
    source_id = json.loads(sub.stdout)["source_id"]
    record_id = json.loads(_invoke(cli_hub, ["show", source_id, "--records", "--json"]).stdout)["records"][0]
    shown = _invoke(cli_hub, ["show", record_id["mdf"]["record_id"]])
    assert shown.exit_code == 0 and json.loads(shown.stdout)["mdf"]["source_id"] == source_id


@pytest.mark.parametrize(
    "args",
    [
        ["run", "cli/iris", "[[0.1,0.2"],
        ["run", "cli/iris", "--input", "missing.json"],
        ["show", "nope_v1"],
    ],
)
def test_the_console_script_prints_no_traceback(cli_hub: dict[str, str], args: list[str]) -> None:
    exe = Path(sys.executable).with_name("matterhub")
    done = subprocess.run(
        [str(exe), "--hub", cli_hub["home"], "--user", "cli", "-q", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("error: "), done.stderr
