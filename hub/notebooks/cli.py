"""``matterhub batch`` and ``matterhub notebook ...`` (registered by :mod:`hub.cli` from ``COMMANDS``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from hub.cli.context import open_hub


@click.command("batch")
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--param-grid",
    "grid",
    type=click.Path(exists=True, dir_okay=False),
    help="YAML: name: [values] (the full grid) or a list of parameter mappings.",
)
@click.option("--over-search", "query", help="One run per hit of this hub search query.")
@click.option("--limit", default=100, show_default=True, help="Hits used with --over-search.")
@click.option("--workers", "-j", default=2, show_default=True, help="Runs at a time (one kernel each).")
@click.option("--out", "out_dir", default="batch-out", show_default=True, type=click.Path(file_okay=False))
@click.option("--preload", multiple=True, help="Modules every kernel imports beforehand (repeatable).")
@click.option("--timeout", type=float, default=None, help="Seconds a cell may run.")
@click.pass_context
def batch(
    ctx: click.Context,
    notebook: str,
    grid: str | None,
    query: str | None,
    limit: int,
    workers: int,
    out_dir: str,
    preload: tuple[str, ...],
    timeout: float | None,
) -> None:
    """Run NOTEBOOK once per parameter set, in parallel, into one table (Parquet and CSV)."""
    from hub.notebooks.batch import grid_from_yaml, params_from_search, run_batch

    if bool(grid) == bool(query):
        raise click.UsageError("give exactly one of --param-grid GRID.yaml or --over-search QUERY")
    sets = (
        grid_from_yaml(grid)
        if grid
        else params_from_search(open_hub(ctx), query or "*", notebook, limit=limit)
    )
    if not sets:
        raise click.UsageError("no parameter sets: the grid is empty or the search found nothing")
    result = run_batch(notebook, sets, workers=workers, out_dir=out_dir, preload=preload, timeout=timeout)
    ok = len(result.table) - len(result.failures)
    click.echo(
        f"{ok} of {len(result.table)} runs succeeded; table: {Path(out_dir) / 'results.parquet'} (and .csv)"
    )
    for f in result.failures:
        where = f"cell {f['source_cell_index']}" if "source_cell_index" in f else "start"
        click.echo(
            f"  run {f['run']} {f['parameters']} failed in {where}: "
            f"{f.get('ename', '')}: {f.get('evalue', f.get('error', ''))} -> {f['notebook']}",
            err=True,
        )
    if result.failures:
        sys.exit(1)


@click.group("notebook")
def notebook() -> None:
    """Parameterized notebooks: inspect, run, and read executed notebooks from the store."""


@notebook.command("inspect")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def inspect_cmd(path: str) -> None:
    """Show the notebook's parameters (name, type, default) as JSON."""
    from hub.notebooks.runner import inspect_parameters

    click.echo(json.dumps(inspect_parameters(path), indent=2))


@notebook.command("run")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.argument("output", required=False, type=click.Path(dir_okay=False))
@click.option("-p", "--parameter", "params", nargs=2, multiple=True, help="NAME VALUE (YAML-parsed).")
def run_cmd(path: str, output: str | None, params: tuple[tuple[str, str], ...]) -> None:
    """Run a notebook on a pooled kernel and print its recorded scalars as JSON."""
    import yaml

    from hub.notebooks.runner import run_notebook

    given = {k: yaml.safe_load(v) for k, v in params}
    run = run_notebook(path, given, output_path=output)
    shown = {k: v for k, v in run.outputs.items() if isinstance(v, int | float | str | bool | list | dict)}
    click.echo(
        json.dumps({"ok": run.ok, "outputs": shown, "error": run.error.to_dict() if run.error else None})
    )
    if run.error:
        sys.exit(1)


@notebook.command("provenance")
@click.argument("sha256")
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Write the executed notebook here.")
@click.pass_context
def provenance(ctx: click.Context, sha256: str, out: str | None) -> None:
    """Show (or download with --out) an executed notebook stored as a run's provenance.

    The notebook must belong to a servable you may see, or be a file of a dataset you may see.
    """
    data = open_hub(ctx).provenance(sha256)
    if out:
        Path(out).write_bytes(data)
        click.echo(f"wrote {out}")
        return
    import nbformat

    nb = nbformat.reads(data.decode(), as_version=4)  # type: ignore[no-untyped-call]
    for i, cell in enumerate(nb.cells):
        click.echo(f"--- [{i}] {cell.cell_type} {cell.get('execution_count') or ''}")
        click.echo(cell.source)
        for o in cell.get("outputs", []):
            text = o.get("text") or (o.get("data") or {}).get("text/plain") or o.get("evalue") or ""
            click.echo(f"    > {str(text).strip()[:200]}")


COMMANDS = [batch, notebook]
