"""The example studies: real models published as servables, with their data and tests.

Each folder is a package (``servables.cdi_nn``, ``servables.atomization_delta``, ...) run
from a checkout's root: ``python -m servables.bandgap.publish --hub DIR``, or
``from servables.cdi_nn import study`` (``matterhub demo`` imports them the same way).
"""
