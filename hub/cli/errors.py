"""How ``matterhub`` reports a mistake: one line on stderr, an exit status, no traceback.

A user's mistake (a bad argument, a value that does not parse, a file that is not there, an
id the hub does not know, an input the servable refuses) exits with :data:`USAGE` (2, as
click's own usage errors do); a refusal (not signed in, not allowed) and a failure of the
hub itself exit with 1.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from hub.exceptions import HubError

#: The exit status of a user's mistake (click's own for usage errors).
USAGE = 2
#: HTTP statuses of errors that are refusals, not mistakes in what was typed.
_REFUSALS = frozenset({401, 403})


def exit_status(exc: HubError) -> int:
    """:data:`USAGE` for an error about what was asked (HTTP 4xx but 401/403), else 1."""
    return USAGE if 400 <= exc.status_code < 500 and exc.status_code not in _REFUSALS else 1


def fail(message: str, status: int) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``status``."""
    click.echo(f"error: {message}", err=True)
    sys.exit(status)


def usage_line(exc: click.UsageError) -> str:
    """A usage error as one line: what was wrong, then the command's usage and where help is.

    ``Got unexpected extra argument (x); usage: matterhub run [OPTIONS] NAME [VALUE]
    (matterhub run --help)``.
    """
    message = exc.format_message()
    if exc.ctx is None:
        return message
    usage = " ".join(exc.ctx.get_usage().split())
    usage = usage[0].lower() + usage[1:] if usage else usage
    return f"{message}; {usage} ({exc.ctx.command_path} --help)"


def file_error_line(exc: OSError) -> str:
    """``cannot read missing.json: No such file or directory``."""
    return f"cannot use {exc.filename}: {exc.strerror or exc.__class__.__name__}"


def json_value(text: str, what: str) -> Any:
    """``text`` parsed as JSON, or a :class:`click.BadParameter` saying where it stops and why.

    ``what`` names the value (``--value``, ``VALUE``); the message shows the text around
    the error and how to quote a JSON value in a shell.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        start = max(0, exc.pos - 20)
        near = text[start : exc.pos + 20]
        raise click.BadParameter(
            f"not JSON: {exc.msg} at character {exc.pos} (near {near!r}); give a JSON value in single "
            """quotes, e.g. '[[0.1, 0.2, 0.3]]' or '{"x": 1}'""",
            param_hint=what,
        ) from None


def read_text(path: str, what: str) -> str:
    """The text of file ``path``, or a :class:`click.BadParameter` naming ``what`` and the path."""
    try:
        return Path(path).read_text()
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise click.BadParameter(f"cannot read {os.fspath(path)}: {reason}", param_hint=what) from None


__all__ = ["USAGE", "exit_status", "fail", "file_error_line", "json_value", "read_text", "usage_line"]
