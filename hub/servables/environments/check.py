"""What a freshly built environment must pass before it is used, run by its own Python.

``python -m hub.servables.environments.check PINS_JSON`` (``PINS_JSON``: ``{name: version}``
of what the environment adds) imports the hub's worker (a pin that breaks the worker's
own imports fails here, not in every run) and checks that each added distribution is
the one this Python finds (the environment's, ahead of the hub's).  It prints one JSON
line, ``{"problems": [...]}``, and exits 1 when there is a problem.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import sys
import traceback


def problems(pins: dict[str, str]) -> list[str]:
    """What is wrong with this environment for a worker running ``pins`` (empty: nothing)."""
    out = []
    try:
        import hub.servables.worker  # noqa: F401 (the worker's imports, with the pins in place)
    except Exception:
        tail = traceback.format_exc().strip().splitlines()[-1]
        out.append(f"the hub's worker cannot start with these pins: {tail}")
    for name, want in pins.items():
        try:
            have = md.version(name)
        except md.PackageNotFoundError:
            out.append(f"{name}=={want} was installed but is not found")
            continue
        if have != want:
            out.append(f"{name}=={want} was installed but {have} is found first")
    return out


def main(argv: list[str] | None = None) -> None:
    """Check this environment against the pins given on the command line; exit 1 on a problem."""
    args = sys.argv[1:] if argv is None else argv
    found = problems(json.loads(args[0]))
    print(json.dumps({"problems": found}), flush=True)
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
