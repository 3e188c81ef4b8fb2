"""Which extra brings a missing package: read from the installed package's own metadata."""

from __future__ import annotations

import pytest

from hub.exceptions import MissingDependencyError
from hub.plugins import extra_providing, missing_dependency


@pytest.mark.parametrize(
    ("module", "extra"),
    [
        ("fastapi", "service"),
        ("uvicorn", "service"),  # named with an extra of its own: uvicorn[standard]
        ("sklearn", "models"),  # import name and distribution differ
        ("keras.saving", "models"),
        ("voila", "widgets"),
        ("rsciio", "microscopy"),
        ("psycopg", "postgres"),
        ("mlflow", "bench"),
        ("numpy", None),  # the core's: no extra
        ("no_such_module_anywhere", None),
    ],
)
def test_extra_providing(module: str, extra: str | None) -> None:
    assert extra_providing(module) == extra


def test_missing_dependency_names_the_extra() -> None:
    err = missing_dependency(
        ModuleNotFoundError("No module named 'fastapi'", name="fastapi"), "matterhub serve"
    )
    assert isinstance(err, MissingDependencyError)
    assert err.message == (
        "matterhub serve needs fastapi, which is not installed. "
        "Please run pip install 'matterhub[service]' to install it."
    )
    assert err.details == {"module": "fastapi", "extra": "service"}


def test_a_missing_module_of_matterhub_itself_is_not_an_extra() -> None:
    assert missing_dependency(ModuleNotFoundError("No module named 'hub.x'", name="hub.x"), "x") is None
