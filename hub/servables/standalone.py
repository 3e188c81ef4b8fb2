"""One exported servable served over HTTP, without a hub: the entry point of a container image.

:mod:`hub.servables.export` writes a folder whose ``serve.py`` calls :func:`main`.  The
servable is loaded once, by the same code a hub's worker uses
(:class:`hub.servables.worker.Loaded` and :func:`hub.servables.worker.execute`), from the
unpacked artifact ``artifact/<sha256>/`` beside ``serve.py``; nothing else of a hub
(catalog, store, index, other servables) exists in the image.

The HTTP interface is the hub's, for one servable:

- ``GET /``: the servable's document and its input, output and parameters as JSON Schema;
- ``GET /health``: ``{"status": "ok"}`` once the servable is loaded (a readiness probe);
- ``POST /run``: ``{"inputs": ..., "parameters": {...}, "batch": false, "arrays": "base64"}``
  (arrays as the hub's tagged JSON) answers ``{"output": ...}`` (arrays exact, or as lists with
  ``"arrays": "lists"``); bad input is a 400 naming it, a servable that
  raises a 422, a body past ``$MATTERHUB_STANDALONE_MAX_BODY`` bytes a 413.

Runs are served one at a time (scale out with replicas); the container's own limits (memory,
CPU) bound them, and a crash takes the container down for its orchestrator to restart.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hub.exceptions import HubError, InputValidationError
from hub.servables import codec
from hub.servables.metadata import ServableMetadata
from hub.servables.request import RunResult, error_from
from hub.servables.runs import check_inputs
from hub.servables.schema import check_parameters
from hub.servables.worker import Loaded, LoadSpec, execute

#: The largest request body served (bytes).
MAX_BODY = int(os.environ.get("MATTERHUB_STANDALONE_MAX_BODY", str(64 << 20)))
#: Where :mod:`hub.servables.export` puts the unpacked artifact, below the export folder.
ARTIFACT_DIR = "artifact"
#: The published document, beside it (the artifact's own copy predates publication).
DOCUMENT = "servable.json"


@dataclass
class Standalone:
    """A servable loaded from an export folder, ready to run.

    Parameters
    ----------
    metadata
        Its document.
    spec
        What the worker code loads (the artifact is already unpacked: no store).
    """

    metadata: ServableMetadata
    spec: LoadSpec

    @classmethod
    def open(cls, folder: str | os.PathLike[str]) -> Standalone:
        """The servable exported into ``folder`` (its ``artifact/<sha256>/``), loaded once.

        Raises
        ------
        FileNotFoundError
            When ``folder`` holds no unpacked artifact.
        """
        root = Path(folder) / ARTIFACT_DIR
        unpacked = (
            [p for p in sorted(root.iterdir()) if (p / "servable.json").is_file()] if root.is_dir() else []
        )
        if len(unpacked) != 1:
            raise FileNotFoundError(
                f"{root} must hold one unpacked servable artifact (<sha256>/servable.json)"
            )
        sha = unpacked[0].name
        document = Path(folder) / DOCUMENT
        if not document.is_file():
            document = unpacked[0] / "servable.json"
        md = ServableMetadata.model_validate(json.loads(document.read_text()))
        spec = LoadSpec(
            key=f"{md.dlhub.id or md.dlhub.name}@{md.dlhub.version or 0}:{sha[:12]}",
            type=md.servable.type,
            artifact_sha=sha,
            store_url="",
            cache_dir=str(root.resolve()),
            files=dict(md.dlhub.files),
            options=dict(md.servable.options),
            requirements=tuple(md.dlhub.requirements),
        )
        return cls(md, spec)

    def describe(self) -> dict[str, Any]:
        """``GET /``: the document and the JSON Schemas of its input, output and parameters."""
        return {"document": self.metadata.to_document(), "schema": self.metadata.json_schema()}

    def run(self, loaded: Loaded, body: Any) -> RunResult:
        """Check a ``POST /run`` body and run it (raises :class:`InputValidationError` when it does not fit)."""
        if not isinstance(body, dict):
            raise InputValidationError('the body must be a JSON object: {"inputs": ..., "parameters": {...}}')
        method = self.metadata.servable.run
        inputs = codec.from_json(body.get("inputs"), codec.DecodeLimits(), "inputs")
        values, batch = check_inputs(method, inputs, body.get("batch"))
        params = check_parameters(method.parameters, body.get("parameters"))
        return RunResult.from_reply(execute(loaded, self.spec, values, params, batch, None))


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path in ("/", ""):
            self._send(200, self.server.servable.describe())
        elif self.path == "/health":
            self._send(200, {"status": "ok", "servable": self.server.servable.spec.key})
        else:
            self._send(
                404, {"title": "Not found", "detail": f"no {self.path}; try GET /, GET /health, POST /run"}
            )

    def do_POST(self) -> None:
        if self.path != "/run":
            self._send(404, {"title": "Not found", "detail": f"no {self.path}; runs are POST /run"})
            return
        try:
            length = int(self.headers.get("Content-Length") or -1)
        except ValueError:
            length = -1
        if length < 0:
            self._send(411, {"title": "Length required", "detail": "send a Content-Length"})
            return
        if length > MAX_BODY:
            self._send(413, {"title": "Payload too large", "detail": f"at most {MAX_BODY} bytes"})
            return
        try:
            body = json.loads(self.rfile.read(length) or b"null")
            arrays = body.get("arrays", "base64") if isinstance(body, dict) else "base64"
            if arrays not in ("base64", "lists"):
                raise InputValidationError(f"arrays: 'base64' or 'lists', not {str(arrays)[:40]!r}")
            with self.server.lock:
                result = self.server.servable.run(self.server.loaded, body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            self._send(400, {"title": "Bad request", "detail": f"the body is not JSON: {exc}"})
            return
        except HubError as exc:
            self._send(exc.status_code, exc.to_dict())
            return
        if result.ok:
            self._send(200, {"output": codec.to_json(result.value, arrays=arrays)})
            return
        error = error_from(result.error_record(self.server.servable.spec.key), result.stdout, result.stderr)
        self._send(error.status_code, {**error.to_dict(), "run_status": result.status.value})

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], servable: Standalone, verbose: bool) -> None:
        super().__init__(address, _Handler)
        self.servable = servable
        self.loaded = Loaded(1)
        self.lock = threading.Lock()
        self.verbose = verbose
        self.loaded.get(servable.spec, io.StringIO())  # load before the first request: /health means ready


def serve(
    folder: str | os.PathLike[str], host: str = "0.0.0.0", port: int = 8080, verbose: bool = True
) -> None:
    """Load the servable exported in ``folder`` and serve it on ``host:port`` until interrupted."""
    server = _Server((host, port), Standalone.open(folder), verbose)
    print(
        f"serving {server.servable.spec.key} on http://{host}:{server.server_address[1]} "
        "(GET /, GET /health, POST /run)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None, folder: str | os.PathLike[str] | None = None) -> None:
    """``python serve.py [--host H] [--port P] [--quiet]`` (the export's entry point)."""
    parser = argparse.ArgumentParser(description="Serve one exported MatterHub servable over HTTP.")
    parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)
    serve(folder or os.getcwd(), args.host, args.port, verbose=not args.quiet)


__all__ = ["ARTIFACT_DIR", "DOCUMENT", "MAX_BODY", "Standalone", "main", "serve"]
