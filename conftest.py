"""What every test folder shares: under ``MATTERHUB_REQUIRE_FULL=1`` (set by ``.ci/run``) a test
that would skip fails instead, naming what is missing, so CI cannot pass by skipping because
PostgreSQL, chromium, the JupyterLab panel's build, an extra or ``../shared/data`` is absent.

A few skips say something true of the machine rather than of a missing part (root reads a
chmod 000 file; xlrd happens to be installed): :data:`MACHINE_SKIPS` lists them, and only
they still skip.
"""

from __future__ import annotations

import os
import re
from collections.abc import Generator
from typing import Any

import pytest

ENV_REQUIRE_FULL = "MATTERHUB_REQUIRE_FULL"
#: Skip reasons that are facts of the machine, not components it lacks.
MACHINE_SKIPS = (
    re.compile(r"root can read a chmod 000 file"),
    re.compile(r"xlrd is installed"),
    re.compile(r"is not in the CI mirror; it reads from its public home"),
)


def require_full() -> bool:
    return os.environ.get(ENV_REQUIRE_FULL, "") not in ("", "0")


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr: Any = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not (report.skipped and require_full()) or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report)
    if any(p.search(reason) for p in MACHINE_SKIPS):
        return
    report.outcome = "failed"
    report.longrepr = (
        f"{ENV_REQUIRE_FULL}=1 (CI) forbids skipping, and this test would skip: {reason}\n"
        "Install what it names (every install step is in the Makefile: make test), or unset "
        f"{ENV_REQUIRE_FULL} on a machine that lacks it."
    )
