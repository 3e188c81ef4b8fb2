"""JSON Schema exported from the pydantic models and committed under ``hub/records/schemas/``.

``python -m hub.records.schema`` rewrites them; a test checks the committed files
match the models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from hub.records.dataset import DatasetDocument
from hub.records.record import RecordDocument

SCHEMA_DIR = Path(__file__).with_name("schemas")
MODELS: dict[str, type[BaseModel]] = {"dataset": DatasetDocument, "record": RecordDocument}


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each document model (:data:`MODELS`), by name, with its ``$schema`` and ``$id``."""
    out = {}
    for name, model in MODELS.items():
        schema = model.model_json_schema(mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://matterhub.org/schemas/{name}.json"
        out[name] = schema
    return out


def render(schema: dict[str, Any]) -> str:
    """``schema`` as the committed files hold it: indented JSON, keys sorted, a final newline."""
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write each schema of :func:`json_schemas` to ``directory`` (``NAME.json``); return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in json_schemas().items():
        path = directory / f"{name}.json"
        path.write_text(render(schema))
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_schemas():
        print(f"wrote {p}")
