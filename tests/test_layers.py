"""The layers: the core (everything under hub/ but the web layer hub.service and the command
line) imports nothing of the web layer, and importing ``hub.service`` itself imports nothing
eagerly (no FastAPI, none of its submodules)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HUB = Path(__file__).resolve().parents[1] / "hub"
WEB = ("fastapi", "starlette", "hub.service.")


def _core_modules() -> list[str]:
    names = []
    for path in sorted(HUB.rglob("*.py")):
        parts = path.relative_to(HUB.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name.startswith(("hub.service", "hub.db.migrations", "hub.cli")) or name.split(".")[-1] == "cli":
            continue
        names.append(name)
    return names


def _loaded_after(imports: list[str]) -> list[str]:
    """The web modules a fresh interpreter has loaded after importing ``imports``."""
    script = (
        "import importlib, sys\n"
        f"for name in {imports!r}:\n"
        "    importlib.import_module(name)\n"
        f"print('\\n'.join(sorted(m for m in sys.modules if m.startswith({WEB!r}))))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_core_imports_nothing_of_the_web_layer() -> None:
    modules = _core_modules()
    assert "hub.optimade.search" in modules and "hub.formats.tables" in modules
    assert _loaded_after(modules) == []


def test_importing_the_service_package_imports_nothing_eagerly() -> None:
    assert _loaded_after(["hub.service"]) == []
