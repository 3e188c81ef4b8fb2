"""A published servable as a folder that ``docker build`` or ``repo2docker`` makes an image of.

``matterhub servable export NAME --to DIR`` (:func:`export`) writes everything an image
serving that one servable needs, read through :class:`~hub.api.HubAPI` (so it works from a
remote hub as well as a hub folder)::

    DIR/
      artifact/<sha256>/   the servable's artifact, unpacked (servable.json, model/, code/, files/)
      servable.json        its published document (id, version, files, DataCite)
      hub/                 the MatterHub package that loads and runs it (this hub's own code)
      requirements.txt     MatterHub's core requirements pinned to this hub's versions, the
                           servable's own pins winning where both name a distribution
      runtime.txt          the Python the servable was described with (repo2docker reads it)
      serve.py             the entry point: python serve.py [--port 8080]
                           (GET /, GET /health, POST /run; see hub.servables.standalone)
      Dockerfile           python:<version>-slim, pip install -r requirements.txt, serve.py
      .dockerignore
      kubernetes.yaml      a Deployment (readiness on /health) and a Service
      README.md            how to build, run, call and deploy it

``repo2docker`` builds a folder holding a ``Dockerfile`` from that ``Dockerfile``, so both
tools give the same image.  Nothing is built here: this machine has no container runtime.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import io
import json
import re
import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import Requirement

from hub.exceptions import NotRunnableError, ValidationError
from hub.servables.containment import hub_package_root
from hub.servables.standalone import ARTIFACT_DIR, DOCUMENT

if TYPE_CHECKING:
    from hub.api import HubAPI

#: The port the image serves on.
PORT = 8080

_SERVE_PY = '''"""Serve the MatterHub servable {key} over HTTP (written by `matterhub servable export`)."""

from pathlib import Path

from hub.servables.standalone import main

if __name__ == "__main__":
    main(folder=Path(__file__).resolve().parent)
'''

_DOCKERFILE = """# The MatterHub servable {key}, served over HTTP on port {port}.
# docker build -t {image} . && docker run --rm -p {port}:{port} {image}
FROM python:{python}-slim
WORKDIR /srv/servable
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY . ./
RUN useradd --system --no-create-home servable && chmod -R a+rX /srv/servable
USER servable
ENV PYTHONDONTWRITEBYTECODE=1 KERAS_BACKEND=jax PORT={port}
EXPOSE {port}
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}/health')"
CMD ["python", "serve.py"]
"""

_DOCKERIGNORE = "**/__pycache__\n**/*.pyc\nREADME.md\nkubernetes.yaml\n"

_KUBERNETES = """# The MatterHub servable {key}: kubectl apply -f kubernetes.yaml
# (push the image first: docker tag {image} REGISTRY/{image} && docker push REGISTRY/{image},
# and set spec.template.spec.containers[0].image to it)
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {image}
  labels: {{app: {image}}}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: {image}}}
  template:
    metadata:
      labels: {{app: {image}}}
    spec:
      containers:
        - name: servable
          image: {image}
          ports: [{{containerPort: {port}}}]
          readinessProbe:
            httpGet: {{path: /health, port: {port}}}
          resources:
            limits: {{memory: {memory}, cpu: "1"}}
---
apiVersion: v1
kind: Service
metadata:
  name: {image}
spec:
  selector: {{app: {image}}}
  ports: [{{port: 80, targetPort: {port}}}]
"""

_README = """# {key}: an exported MatterHub servable

{title}

Written by `matterhub servable export {key}`: the servable's artifact (sha256 `{sha}`),
the MatterHub code that loads it, and an HTTP entry point. Build and run it with either

    docker build -t {image} . && docker run --rm -p {port}:{port} {image}
    jupyter-repo2docker --no-run --image-name {image} . && docker run --rm -p {port}:{port} {image}

(repo2docker builds from the `Dockerfile`), or without a container, in a Python {python} environment:

    pip install -r requirements.txt && python serve.py --port {port}

Then

    curl http://localhost:{port}/            # the document and the JSON Schemas of its input and output
    curl http://localhost:{port}/health
    curl -X POST http://localhost:{port}/run -H 'Content-Type: application/json' \\
         -d '{{"inputs": ..., "parameters": {{}}}}'

Input: {input}. Output: {output}.

On Kubernetes, push the image to a registry and `kubectl apply -f kubernetes.yaml` (a Deployment
whose readiness probe is `/health`, and a Service on port 80). The container serves one run at a
time: scale with `replicas`; its memory limit is the servable's ({memory}).
"""


@dataclass
class Export:
    """What :func:`export` wrote.

    Attributes
    ----------
    folder : Path
        The export folder.
    key : str
        ``owner/name@version``.
    artifact_sha256 : str
        The artifact it holds.
    requirements : list of str
        The lines of ``requirements.txt``.
    files : list of str
        Every file written, relative to ``folder``.
    """

    folder: Path
    key: str
    artifact_sha256: str
    requirements: list[str]
    files: list[str] = field(default_factory=list)


def image_name(key: str) -> str:
    """A Docker image and Kubernetes name for ``owner/name@version`` (``owner-name-v3``)."""
    ident, _, version = key.partition("@")
    text = re.sub(r"[^a-z0-9]+", "-", ident.lower()).strip("-")
    return f"{text[:50].strip('-')}-v{version}" if version else text[:53]


def requirement_lines(pins: list[str]) -> list[str]:
    """``requirements.txt`` of an export: MatterHub's core requirements pinned as installed, then ``pins``.

    A distribution the servable pins (``six==1.16.0``) keeps the servable's version; the
    optional extras of MatterHub are not included (a servable's type pins what it needs).
    """
    own = {Requirement(line).name.lower().replace("_", "-"): line for line in pins}
    lines: dict[str, str] = {}
    for text in md.requires("matterhub") or []:
        req = Requirement(text)
        if req.marker is not None and "extra" in str(req.marker):
            continue
        name = req.name.lower().replace("_", "-")
        if name in own:
            continue
        try:
            version = md.version(req.name)
        except md.PackageNotFoundError:
            lines[name] = str(req)
            continue
        extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
        lines[name] = f"{req.name}{extras}=={version}"
    lines.update(own)
    return [lines[k] for k in sorted(lines)]


def export(hub: HubAPI, name: str, dest: str | Path, *, overwrite: bool = False) -> Export:
    """Write the container folder of servable ``name`` (a version you may see) into ``dest``.

    Parameters
    ----------
    hub
        The hub it is published on.
    name
        ``owner/name@version``, ``owner/name`` (latest) or ``name``.
    dest
        The folder to write (created; it must be empty or absent unless ``overwrite``).
    overwrite
        Replace what ``dest`` holds.

    Raises
    ------
    NotRunnableError
        When the servable has nothing to run (a metadata-only entry, a pipeline: export its steps).
    ValidationError
        When ``dest`` is a non-empty folder and ``overwrite`` is not set.
    """
    sv = hub.servable(name)
    key = f"{sv.id}@{sv.version}"
    meta = sv.metadata
    if not meta.servable.runnable or not sv.document.get("dlhub", {}).get("artifact"):
        raise NotRunnableError(f"{key} has nothing to run: there is no servable to export")
    if sv.type == "pipeline":
        steps = [s.get("id") or s.get("kind") for s in sv.document.get("pipeline", {}).get("steps", [])]
        raise NotRunnableError(
            f"{key} is a pipeline: its steps run on a hub; export each servable step instead ({', '.join(map(str, steps))})"
        )
    out = Path(dest)
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise ValidationError(f"{out} is not empty (use --overwrite to replace it)")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    sha = _unpack_artifact(hub, key, out / ARTIFACT_DIR)
    # the published document (id, version, files), which the artifact's own copy predates
    (out / DOCUMENT).write_text(json.dumps(sv.document, indent=2, sort_keys=True) + "\n")
    _copy_hub(out / "hub")
    reqs = requirement_lines(list(meta.dlhub.requirements))
    python = ".".join((meta.dlhub.python_version or "3.11").split(".")[:2])
    image = image_name(key)
    memory = f"{meta.dlhub.limits.memory_mb}Mi" if meta.dlhub.limits.memory_mb else "4Gi"
    fields = {
        "key": key,
        "image": image,
        "port": PORT,
        "python": python,
        "memory": memory,
        "sha": sha,
        "title": meta.datacite.titles[0].title,
        "input": meta.servable.run.input.describe(),
        "output": meta.servable.run.output.describe(),
    }
    texts = {
        "requirements.txt": "\n".join(reqs) + "\n",
        "runtime.txt": f"python-{python}\n",
        "serve.py": _SERVE_PY.format(**fields),
        "Dockerfile": _DOCKERFILE.format(**fields),
        ".dockerignore": _DOCKERIGNORE,
        "kubernetes.yaml": _KUBERNETES.format(**fields),
        "README.md": _README.format(**fields),
    }
    for rel, text in texts.items():
        (out / rel).write_text(text)
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    return Export(out, key, sha, reqs, files)


def _unpack_artifact(hub: HubAPI, key: str, dest: Path) -> str:
    """Read the artifact of ``key`` through ``hub`` (sha256-checked) and unpack it as ``dest/<sha256>``."""
    with hub.servable_artifact(key) as f:
        data = f.read()  # a full read checks the sha256
    sha = hashlib.sha256(data).hexdigest()
    target = dest / sha
    target.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        tar.extractall(target, filter="data")
    return sha


def _copy_hub(dest: Path) -> None:
    """Copy the running hub's own ``hub`` package (sources only) into ``dest``."""
    shutil.copytree(
        Path(hub_package_root()) / "hub", dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )


__all__ = ["PORT", "Export", "export", "image_name", "requirement_lines"]
