"""Where a hub lives and what it is configured with.

An embedded hub is a directory (``$MATTERHUB_HOME``, default ``~/.matterhub``)
holding ``config.json``, the SQLite catalog, the blob store and a staging area.
``config.json`` may point the catalog at PostgreSQL (``catalog``) and the blob
store at any fsspec URL (``store``), for a shared deployment.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hub.db.engine import catalog_url

ENV_HOME = "MATTERHUB_HOME"
ENV_MIRROR = "MATTERHUB_MIRROR"
CONFIG_NAME = "config.json"


def default_home() -> Path:
    """The folder of the default hub: ``$MATTERHUB_HOME`` when set, else ``~/.matterhub``."""
    return Path(os.environ.get(ENV_HOME) or Path.home() / ".matterhub").expanduser()


def saved_settings(home: str | os.PathLike[str]) -> dict[str, Any]:
    """What the hub at ``home`` has in its ``config.json`` (empty when there is none).

    Besides :class:`HubConfig`'s fields it may hold settings other parts read
    (``environments``, ``wheelhouse``, ``package_index``: :mod:`hub.servables.environments`).
    """
    path = Path(home) / CONFIG_NAME
    saved: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    return saved


@dataclass
class HubConfig:
    """The configuration of an embedded hub, as ``config.json`` in its folder stores it.

    Attributes
    ----------
    home
        The hub's folder (not stored: the file's location says it).
    catalog
        The catalog's SQLAlchemy URL (SQLite in ``home`` by default, or PostgreSQL).
    store
        The blob store's folder or fsspec URL (``home/blobs`` by default).
    index
        The search index's folder (``home/index`` by default).
    """

    home: Path
    catalog: str
    store: str
    index: str

    @property
    def staging(self) -> Path:
        """The folder where each running submission gets its own folder (downloads, unpacked archives)."""
        return self.home / "staging"

    def hidden_paths(self) -> list[str]:
        """The local folders of this hub that servable code must never read.

        Its folder, and its store, index and SQLite catalog where they lie elsewhere on
        this machine (remote stores and databases are out of a worker's reach anyway).
        """
        paths = [str(self.home), self.index]
        if "://" not in self.store or self.store.startswith("file://"):
            paths.append(self.store.removeprefix("file://"))
        if self.catalog.startswith("sqlite:///"):
            paths.append(self.catalog.removeprefix("sqlite:///"))
        return [os.path.realpath(p) for p in paths]

    @property
    def uploads(self) -> Path:
        """The folder where the hub service keeps uploaded submission sources (one folder each)."""
        return self.home / "uploads"

    @classmethod
    def load(
        cls,
        home: str | os.PathLike[str] | None = None,
        *,
        catalog: str | None = None,
        store: str | None = None,
    ) -> HubConfig:
        """Read (or create) the configuration of the hub at ``home``."""
        root = Path(home).expanduser() if home is not None else default_home()
        root.mkdir(parents=True, exist_ok=True)
        path = root / CONFIG_NAME
        saved = saved_settings(root)
        cfg = cls(
            home=root.absolute(),
            catalog=catalog or saved.get("catalog") or catalog_url(root.absolute()),
            store=store or saved.get("store") or str((root / "blobs").absolute()),
            index=saved.get("index") or str((root / "index").absolute()),
        )
        if not path.exists() or catalog or store or "index" not in saved:
            data = {**saved, **asdict(cfg)}  # other parts' settings stay
            data.pop("home")
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=2) + "\n")
            os.replace(tmp, path)
        return cfg


def mirror_root() -> Path | None:
    """The local mirror of public datasets (``$MATTERHUB_MIRROR``), if set and present."""
    value = os.environ.get(ENV_MIRROR)
    if value and Path(value).expanduser().is_dir():
        return Path(value).expanduser()
    return None


#: The real-data mirror of a source checkout: ``shared/data`` beside the repository.
CHECKOUT_MIRROR = Path(__file__).resolve().parents[2] / "shared" / "data"


def mirror_candidates(given: str | os.PathLike[str] | None = None) -> list[Path]:
    """Where to look for a copy of the real data, in order.

    ``given``, then ``$MATTERHUB_MIRROR`` when it is set, else the checkout's
    ``../shared/data``.  A set ``$MATTERHUB_MIRROR`` is final: set it to an empty string
    (or a missing folder) to say there is no mirror.
    """
    out = [Path(given).expanduser()] if given else []
    value = os.environ.get(ENV_MIRROR)
    if value is None:
        out.append(CHECKOUT_MIRROR)
    elif value:
        out.append(Path(value).expanduser())
    return out
