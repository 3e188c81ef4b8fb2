"""A dataset version as the user sees it: metadata, files, records, DataCite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from hub.records.datacite import to_datacite_json

if TYPE_CHECKING:
    from hub.client import Hub
    from hub.db.models import DatasetRow


class Dataset:
    def __init__(self, hub: Hub, row: DatasetRow) -> None:
        self._hub = hub
        self.source_id: str = row.source_id
        self.source_name: str = row.source_name
        self.version: int = row.version
        self.status: str = row.status
        self.owner: str = row.owner
        self.title: str = row.title
        self.metadata: dict[str, Any] = row.document
        self.n_files: int = row.n_files
        self.n_records: int = row.n_records
        self.total_size: int = row.total_size
        self.root_hash: str = row.root_hash

    def files(self) -> list[dict[str, Any]]:
        """Every file: path, filename, sha256, length, mime_type, data_type."""
        return [
            {k: getattr(f, k) for k in ("path", "filename", "sha256", "length", "mime_type", "data_type")}
            for f in self._hub._catalog.files(self._hub.principal, self.source_id)
        ]

    def records(self, offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        return self._hub._catalog.records(self._hub.principal, self.source_id, offset=offset, limit=limit)

    def open(self, path: str) -> IO[bytes]:
        return self._hub.open(self.source_id, path)

    def download(self, dest: str | Path, paths: list[str] | None = None) -> list[Path]:
        return self._hub.download(self.source_id, dest, paths=paths)

    def manifest(self) -> dict[str, Any]:
        sha = (self.metadata.get("data") or {}).get("manifest")
        if not sha:
            return {}
        return json.loads(self._hub._store.get_bytes(sha))

    def datacite(self) -> dict[str, Any]:
        """The DataCite JSON of this version, ready for DOI registration."""
        body = to_datacite_json(self.metadata["dc"])
        body.setdefault("version", str(self.version))
        body.setdefault("identifiers", []).append(
            {"identifier": self.source_id, "identifierType": "MatterHub"}
        )
        return body

    def versions(self) -> list[Dataset]:
        return self._hub.datasets(all_versions=True, source_name=self.source_name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "source_name": self.source_name,
            "version": self.version,
            "status": self.status,
            "owner": self.owner,
            "title": self.title,
            "files": self.n_files,
            "records": self.n_records,
            "total_size": self.total_size,
            "root_hash": self.root_hash,
        }

    def __repr__(self) -> str:
        return f"<Dataset {self.source_id} {self.title!r} files={self.n_files} records={self.n_records} {self.status}>"
