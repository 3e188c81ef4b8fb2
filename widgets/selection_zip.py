"""A search selection's files as one zip for the browser, with a sha256 manifest inside.

A dashboard served by Voila has no notebook and its kernel's folder is not the viewer's:
"Download selection" there hands the page a zip (a ``data:`` link the browser saves)
instead of writing files on the server.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from hub.api import HubAPI

#: The manifest inside the zip: ``<sha256>  <path>`` per file, as ``sha256sum -c`` reads it.
MANIFEST = "SHA256SUMS"
#: Largest zip handed to the page (it travels base64-encoded through the kernel's socket).
MAX_ZIP_BYTES = 50 * 1024 * 1024


def in_voila(environ: os._Environ[str] | dict[str, str] | None = None) -> bool:
    """Whether this kernel serves a Voila page (Voila sets ``SERVER_SOFTWARE=voila/...``)."""
    env = os.environ if environ is None else environ
    return env.get("SERVER_SOFTWARE", "").startswith("voila")


def selection_zip(hub: HubAPI, result: Any) -> tuple[bytes, int]:
    """(the zip of the files of ``result``'s hits, as ``<source_id>/<path>``, and how many files).

    Every file is read through the hub (sha256-checked) and listed in :data:`MANIFEST`.

    Raises
    ------
    ValueError
        When the zip would be larger than :data:`MAX_ZIP_BYTES`.
    """
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="matterhub-selection-") as tmp:
        paths = hub.download(result, tmp)
        lines = []
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(paths):
                name = Path(path).relative_to(tmp).as_posix()
                data = Path(path).read_bytes()
                lines.append(f"{hashlib.sha256(data).hexdigest()}  {name}")
                zf.writestr(name, data)
                if buffer.tell() > MAX_ZIP_BYTES:
                    raise ValueError(
                        f"the selection's files pass {MAX_ZIP_BYTES // 2**20} MB zipped: narrow the search, "
                        "or download it in a notebook with hub.download(results, folder)"
                    )
            zf.writestr(MANIFEST, "\n".join(lines) + "\n")
    return buffer.getvalue(), len(lines)
