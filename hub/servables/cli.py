"""The servable commands of ``matterhub``.

``servable publish|show|deprecate|delete|export|types``, ``servables [QUERY]``,
``run NAME --input FILE`` and ``task ID``; each with ``--json``.

Register them on the main group::

    from hub.servables.cli import servable, servables_command, run_command, task_command
    for command in (servable, servables_command, run_command, task_command):
        main.add_command(command)
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np

from hub.cli.context import emit, open_hub, warn
from hub.cli.errors import json_value, read_text
from hub.exceptions import ValidationError

if TYPE_CHECKING:
    from hub.servables.published import PublishedServable


def _show_value(value: Any) -> str:
    if isinstance(value, np.ndarray):
        body = np.array2string(value, threshold=40, edgeitems=3, precision=5)
        return f"ndarray {value.shape} {value.dtype}\n{body}"
    if isinstance(value, list) and value and all(isinstance(v, np.ndarray) for v in value):
        return "\n".join(f"[{i}] {_show_value(v)}" for i, v in enumerate(value))
    return repr(value)


# -- servable publish / show / deprecate / delete / types ---------------------------------


@click.group("servable")
def servable() -> None:
    """Publish and manage servables (models and functions that run on the hub)."""


def _load_callable(spec: str) -> Any:
    """``path/to/file.py:function`` or ``package.module:function``."""
    target, _, attr = spec.rpartition(":")
    try:
        module = _import_target(target)
    except Exception as exc:  # the user's module: missing, or failing as it is imported
        raise click.BadParameter(
            f"cannot import {target}: {type(exc).__name__}: {exc}", param_hint="PATH"
        ) from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise click.BadParameter(f"{target} has no {attr!r}") from None


def _import_target(target: str) -> Any:
    """The module ``target`` names: a ``.py`` file (imported under a name of its own) or a module."""
    if not target.endswith(".py"):
        return importlib.import_module(target)
    path = Path(target).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no file {path}")
    taken = path.stem in sys.modules or importlib.util.find_spec(path.stem) is not None
    mod_name = f"_matterhub_publish_{path.stem}" if taken else path.stem
    loader_spec = importlib.util.spec_from_file_location(mod_name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise ImportError(f"{path} is not a Python module")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[mod_name] = module
    loader_spec.loader.exec_module(module)
    return module


def _folder_spec(folder: Path) -> tuple[Any, dict[str, Any]]:
    for name in ("servable.yaml", "servable.yml", "servable.json"):
        f = folder / name
        if f.exists():
            if f.suffix == ".json":
                meta = json_value(f.read_text(), str(f))
            else:
                import yaml

                try:
                    meta = yaml.safe_load(f.read_text())
                except yaml.YAMLError as exc:
                    raise click.BadParameter(f"{f} is not YAML: {exc}", param_hint="PATH") from None
            if not isinstance(meta, dict):
                raise click.BadParameter(f"{f} must hold a mapping (model: FILE, ...)", param_hint="PATH")
            break
    else:
        raise click.BadParameter(f"{folder} has no servable.yaml or servable.json naming its model")
    model = meta.pop("model", None)
    if not model:
        raise click.BadParameter(
            f"{f} must say which file is the model: model: FILE or model: file.py:function"
        )
    for key in ("code", "files"):
        meta[key] = [str(folder / p) for p in meta.get(key, [])]
    if ":" in model and not (folder / model).exists():
        file_part, _, attr = model.rpartition(":")
        spec = f"{folder / file_part}:{attr}" if file_part.endswith(".py") else model
        return _load_callable(spec), meta
    return str(folder / model), meta


@servable.command("publish")
@click.argument("path")
@click.option("--name", default=None, help="Short name (default: from the model or file).")
@click.option("--title", default=None)
@click.option("--author", "authors", multiple=True, help='An author, "Family, Given" (repeatable).')
@click.option("--affiliation", "affiliations", multiple=True)
@click.option("--description", default=None)
@click.option("--domain", "domains", multiple=True, help="A scientific domain (repeatable).")
@click.option("--paper-doi", default=None, help="DOI of the paper describing the model.")
@click.option("--training-data", multiple=True, help="Hub id or DOI of a training dataset (repeatable).")
@click.option(
    "--visible-to", multiple=True, help="Who may see it: public, user:NAME, group:NAME (repeatable)."
)
@click.option("--runnable-by", multiple=True, help="Who may run it (default: who may see it).")
@click.option("--group", default=None, help="Publish it for a group of yours, as GROUP/NAME.")
@click.option("--method", default=None, help="Method to call (scikit-learn: predict, predict_proba, ...).")
@click.option("--type", "type_", default=None, help="Force a servable type (see `servable types`).")
@click.option("--code", multiple=True, help="A source file to package with it (repeatable).")
@click.option("--file", "files", multiple=True, help="A data file to package with it (repeatable).")
@click.option("--metadata", "metadata_file", default=None, help="JSON/YAML file of more describe() fields.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def servable_publish(
    ctx: click.Context,
    path: str,
    name: str | None,
    title: str | None,
    authors: tuple[str, ...],
    affiliations: tuple[str, ...],
    description: str | None,
    domains: tuple[str, ...],
    paper_doi: str | None,
    training_data: tuple[str, ...],
    visible_to: tuple[str, ...],
    runnable_by: tuple[str, ...],
    group: str | None,
    method: str | None,
    type_: str | None,
    code: tuple[str, ...],
    files: tuple[str, ...],
    metadata_file: str | None,
    as_json: bool,
) -> None:
    """Publish PATH as a new version of a servable.

    PATH is a model file (.keras, .h5, .joblib, .pkl), a DLHub document (.json),
    FILE.py:FUNCTION, or a folder with a servable.yaml naming its model.
    """
    meta: dict[str, Any] = {}
    p = Path(path)
    target: Any = path
    if p.is_dir():
        target, meta = _folder_spec(p)
    elif ":" in path and not p.exists():
        target = _load_callable(path)
    if metadata_file:
        text = read_text(metadata_file, "--metadata")
        if metadata_file.endswith(".json"):
            extra = json_value(text, f"--metadata {metadata_file}")
        else:
            import yaml

            try:
                extra = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise click.BadParameter(
                    f"{metadata_file} is not YAML: {exc}", param_hint="--metadata"
                ) from None
        if not isinstance(extra, dict):
            raise ValidationError(f"{metadata_file} must hold a mapping of describe() fields")
        meta.update(extra)
    given = {
        "name": name,
        "title": title,
        "authors": list(authors) or None,
        "affiliations": list(affiliations) or None,
        "description": description,
        "domains": list(domains) or None,
        "paper_doi": paper_doi,
        "training_data": list(training_data) or None,
        "visible_to": list(visible_to) or None,
        "runnable_by": list(runnable_by) or None,
        "method": method,
        "type": type_,
        "code": [*meta.get("code", []), *code] or None,
        "files": [*meta.get("files", []), *files] or None,
    }
    meta.update({k: v for k, v in given.items() if v is not None})
    hub = open_hub(ctx)
    sv = hub.describe(target, **meta)
    servable_id = hub.publish_servable(sv, group=group)
    info = hub.servable(servable_id)
    emit(
        {"id": info.id, "version": info.version, "type": info.type, "schema": info.json_schema()},
        as_json,
        f"published {info.id}@{info.version} ({info.type}: {info.document['servable'].get('model_type', '')})",
    )


@servable.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def servable_show(ctx: click.Context, name: str, as_json: bool) -> None:
    """Show a servable's metadata and schema (NAME, owner/NAME or owner/NAME@VERSION)."""
    info = open_hub(ctx).servable(name)
    emit(info.to_dict(), as_json, servable_text(info))


def servable_text(info: PublishedServable) -> str:
    """What ``matterhub servable show`` prints of a servable: id, version, type, authors, schema."""
    m = info.method
    dc = info.document.get("datacite", {})
    return "\n".join(
        [
            f"{info.id}@{info.version} ({info.type}, {info.status}); versions {info.versions}",
            f"  title:   {dc.get('titles', [{}])[0].get('title', '')}",
            f"  authors: {'; '.join(c.get('name', '') for c in dc.get('creators', []))}",
            f"  model:   {info.document['servable'].get('model_type', '')}",
            f"  input:   {m.input.describe()}",
            f"  output:  {m.output.describe()}",
            f"  params:  {', '.join(m.parameters) or 'none'}",
            f"  needs:   {' '.join(info.document['dlhub'].get('requirements', []))}",
        ]
    )


@servable.command("deprecate")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def servable_deprecate(ctx: click.Context, name: str, as_json: bool) -> None:
    """Deprecate a version (NAME@VERSION)."""
    info = open_hub(ctx).deprecate_servable(name)
    emit(info.to_dict(), as_json, f"deprecated {info.id}@{info.version}")


@servable.command("delete")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def servable_delete(ctx: click.Context, name: str, as_json: bool) -> None:
    """Delete a version (NAME@VERSION)."""
    open_hub(ctx).delete_servable(name)
    emit({"deleted": name}, as_json, f"deleted {name}")


@servable.command("export")
@click.argument("name")
@click.option("--to", "dest", required=True, type=click.Path(file_okay=False), help="The folder to write.")
@click.option("--overwrite", is_flag=True, help="Replace what the folder holds.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def servable_export(ctx: click.Context, name: str, dest: str, overwrite: bool, as_json: bool) -> None:
    """Write a folder that `docker build` or repo2docker makes an image serving NAME of (nothing is built here)."""
    from hub.servables.export import export, image_name

    done = export(open_hub(ctx), name, dest, overwrite=overwrite)
    image = image_name(done.key)
    text = (
        f"exported {done.key} (artifact {done.artifact_sha256[:12]}) to {done.folder}: "
        f"{len(done.files)} files, {len(done.requirements)} pinned requirements\n"
        f"build:  docker build -t {image} {done.folder}   (or jupyter-repo2docker --no-run --image-name {image} {done.folder})\n"
        f"run:    docker run --rm -p 8080:8080 {image}   then POST http://localhost:8080/run\n"
        f"deploy: kubectl apply -f {done.folder}/kubernetes.yaml (after pushing the image to a registry)"
    )
    payload = {
        "folder": str(done.folder),
        "servable": done.key,
        "artifact_sha256": done.artifact_sha256,
        "image": image,
        "requirements": done.requirements,
        "files": done.files,
    }
    emit(payload, as_json, text)


@servable.command("types")
@click.option("--json", "as_json", is_flag=True)
def servable_types_command(as_json: bool) -> None:
    """The installed servable types (plugins)."""
    from hub.servables.registry import servable_types

    infos = [cls.info() for cls in servable_types().values()]
    text = "\n".join(
        f"{i['name']:<14} {'ok' if i['available'] else 'missing ' + ','.join(i['imports']):<10} {i['description']}"
        for i in infos
    )
    emit(infos, as_json, text)


# -- servables / run / task -----------------------------------------------------------------


@click.command("servables")
@click.argument("query", required=False, default="*")
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def servables_command(ctx: click.Context, query: str, limit: int, as_json: bool) -> None:
    """Search servables (e.g. 'servable.type:keras AND dlhub.domains:materials')."""
    res = open_hub(ctx).servables(query, limit=limit)
    lines = [f"{res.total} servable(s)"]
    for h in res.hits:
        d = h.document
        lines.append(
            f"  {h.id}@{d['dlhub'].get('version')}  [{d['servable'].get('type')}]  "
            f"{d['datacite']['titles'][0]['title']}"
        )
    emit(res.to_dict(), as_json, "\n".join(lines))
    warn(res.warnings)


def _read_input(path: str | None, value: str | None, positional: str | None) -> Any:
    """The run's input: VALUE or ``--value`` (JSON), or ``--input`` (a .json or .npy file, - for stdin)."""
    given = [
        name for name, v in (("VALUE", positional), ("--value", value), ("--input", path)) if v is not None
    ]
    if len(given) > 1:
        raise click.UsageError(f"give the input once, not as {' and '.join(given)}")
    if positional is not None:
        return json_value(positional, "VALUE")
    if value is not None:
        return json_value(value, "--value")
    if path is None:
        raise click.UsageError(
            "give the input as VALUE (JSON, e.g. '[[0.1, 0.2, 0.3]]'), --value JSON or --input FILE.json|FILE.npy"
        )
    if path == "-":
        return json_value(sys.stdin.read(), "--input -")
    p = Path(path)
    if p.suffix.lower() == ".npy":
        try:
            return np.load(p, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise click.BadParameter(
                f"cannot read {path} as a .npy array: {exc}", param_hint="--input"
            ) from None
    if p.suffix.lower() == ".json":
        return json_value(read_text(path, "--input"), f"--input {path}")
    raise click.BadParameter(
        f"{path}: give a .json or .npy file (or - for JSON on stdin)", param_hint="--input"
    )


def _parse_params(items: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: write NAME=VALUE", param_hint="--param")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


@click.command("run")
@click.argument("name")
@click.argument("positional", metavar="[VALUE]", required=False)
@click.option(
    "--input", "input_path", default=None, help="Input as a .json or .npy file (- for JSON on stdin)."
)
@click.option("--value", default=None, help="Input as a JSON value.")
@click.option("--param", "params", multiple=True, help="A parameter NAME=VALUE (JSON value; repeatable).")
@click.option("--batch", is_flag=True, help="The input is a list of inputs.")
@click.option("--async", "asynchronous", is_flag=True, help="Return a task id at once.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def run_command(
    ctx: click.Context,
    name: str,
    positional: str | None,
    input_path: str | None,
    value: str | None,
    params: tuple[str, ...],
    batch: bool,
    asynchronous: bool,
    as_json: bool,
) -> None:
    """Run servable NAME on an input: VALUE (JSON), --value JSON or --input FILE.

    ``matterhub run alice/scale '[[0.1, 0.2, 0.3]]'``
    """
    from hub.servables.codec import to_json

    inputs = _read_input(input_path, value, positional)
    hub = open_hub(ctx)
    out = hub.run(name, inputs, _parse_params(params) or None, asynchronous, batch=True if batch else None)
    if asynchronous:
        emit(out.to_dict(), as_json, f"task {out.id} {out.status}")
        return
    emit({"servable": name, "outputs": to_json(out, arrays="lists")}, as_json, _show_value(out))


@click.command("task")
@click.argument("task_id")
@click.option(
    "--wait", "wait_s", type=float, default=None, help="Wait up to this many seconds for it to finish."
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def task_command(ctx: click.Context, task_id: str, wait_s: float | None, as_json: bool) -> None:
    """Show a task's status, result, timings, output and error."""
    task = open_hub(ctx).task(task_id)
    if wait_s:
        try:
            task.wait(wait_s)
        except Exception:
            pass
    lines = [f"task {task.id}: {task.servable}@{task.version} {task.status}"]
    t = task.timings
    if t.get("total_ms") is not None:
        lines.append(
            f"  queued {t.get('queue_ms', 0):.1f} ms, load {t.get('load_ms') or 0:.1f} ms, "
            f"run {t.get('run_ms') or 0:.1f} ms, total {t['total_ms']:.1f} ms"
        )
    if task.status == "completed":
        lines.append("  result: " + _show_value(task.result).replace("\n", "\n  "))
    if task.error:
        lines.append(f"  error: {task.error.get('message')}")
    for stream in ("stdout", "stderr"):
        text = getattr(task, stream)
        if text:
            lines.append(f"  {stream}:\n    " + text.rstrip().replace("\n", "\n    "))
    emit(task.to_dict(), as_json, "\n".join(lines))


COMMANDS = (servable, servables_command, run_command, task_command)
