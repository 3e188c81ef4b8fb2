"""Fixtures of the JupyterLab panel's tests: a small hub built from real files, and
``jupyter lab`` servers on loopback ports with the panel's server extension.

The hub (``lab_hub``) holds MaterialsIO's four crystal-structure CIF files twice: as the
public dataset ``crystals`` (published by the hub's owner) and as ``lab_crystals``, which
alice published for her group ``lab`` only; plus a public servable and a lab-only one.
Every server started here is stopped at the end; each runs with its own Jupyter config,
data and runtime folders, so nothing of the machine's Jupyter setup leaks in or out.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hub.widgets.jupyterlab.demo import LabServer

from hub import Hub

USERS = {"alice": ["lab"], "bob": []}
PUBLIC = "crystals"
LAB_ONLY = "lab_crystals"


def scale(x: list[float], factor: float = 2.0) -> list[float]:
    """Multiply every number by ``factor``."""
    return [v * factor for v in x]


def shift(x: list[float], by: float = 1.0) -> list[float]:
    """Add ``by`` to every number (the lab's own servable)."""
    return [v + by for v in x]


@dataclass
class LabHub:
    """The test hub: its folder, the source_ids of its datasets, its servables, tokens."""

    home: Path
    public: str
    lab_only: str
    servable: str
    lab_servable: str
    tokens: dict[str, str] = field(default_factory=dict)

    def open(self, user: str | None = None) -> Hub:
        """The hub as ``user`` (with that user's groups), or as its owner."""
        if user is None:
            return Hub(self.home, progress=False)
        return Hub(self.home, user=user, groups=USERS[user] or None, progress=False)


@pytest.fixture(scope="session")
def lab_hub(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> LabHub:
    cifs = shared_data / "materialsio" / "crystal_structure"
    if not any(cifs.glob("*.cif")):
        pytest.skip(f"no CIF files in {cifs}")
    work = tmp_path_factory.mktemp("lab-hub")
    for name in (PUBLIC, LAB_ONLY):
        shutil.copytree(cifs, work / "sources" / name)
    home = work / "hub"
    with Hub(home, progress=False) as owner:
        tokens = {}
        for user, groups in USERS.items():
            owner.users.ensure_user(user, groups)
            tokens[user], _ = owner.users.create_token(owner.principal, user, label="lab tests")
        public = owner.submit(
            work / "sources" / PUBLIC,
            title="Crystal structures (MaterialsIO test files)",
            authors=["Ward, Logan"],
            source_name=PUBLIC,
            description="Four CIF files: Al2O3, C13H22O3, Ce3VO16 and diamond.",
        )
        assert public.ok, public.message
        servable = owner.publish_servable(
            owner.describe(scale, name="scale", title="Scale", authors=["Doe, Jane"])
        )
    with Hub(home, user="alice", groups=["lab"], progress=False) as alice:
        lab = alice.submit(
            work / "sources" / LAB_ONLY,
            title="The lab's crystal structures",
            authors=["Alice, A."],
            source_name=LAB_ONLY,
            visible_to=["group:lab"],
        )
        assert lab.ok, lab.message
        lab_servable = alice.publish_servable(
            alice.describe(
                shift, name="shift", title="Shift", authors=["Alice, A."], visible_to=["group:lab"]
            )
        )
    assert public.source_id and lab.source_id
    return LabHub(home, public.source_id, lab.source_id, servable, lab_servable, tokens)


@pytest.fixture(scope="session")
def jupyter_env(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., dict[str, str]]:
    """``jupyter_env(**extra)``: environment variables of an isolated Jupyter server."""

    def make(**extra: str) -> dict[str, str]:
        root = tmp_path_factory.mktemp("jupyter")
        env = {
            "JUPYTER_CONFIG_DIR": str(root / "config"),
            "JUPYTER_DATA_DIR": str(root / "data"),
            "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
            "IPYTHONDIR": str(root / "ipython"),
            "MATTERHUB_URL": "",
            "MATTERHUB_TOKEN": "",
            "MATTERHUB_USER": "",
            "MATTERHUB_GROUPS": "",
        }
        env.update(extra)
        return env

    return make


@pytest.fixture(scope="session")
def lab_servers() -> Iterator[Callable[..., LabServer]]:
    """``lab_servers(root, env=..., ...)`` spawns a LabServer (not waited for); all are stopped
    at the end of the session."""
    started: list[LabServer] = []

    def spawn(root: Path, **kw: object) -> LabServer:
        server = LabServer(root, extra_args=_isolated_lab_args(root), **kw)
        started.append(server)
        return server.spawn()

    try:
        yield spawn
    finally:
        for server in reversed(started):
            server.stop()


def _isolated_lab_args(root: Path) -> list[str]:
    """JupyterLab's settings and workspaces in the test's folders; no news or update prompts."""
    state = root.parent / f"{root.name}-lab-state"
    notification = (
        state / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    )
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    return [
        f"--LabApp.user_settings_dir={state / 'settings'}",
        f"--LabApp.workspaces_dir={state / 'workspaces'}",
    ]
