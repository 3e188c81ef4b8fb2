"""Servables in environments of their own.

A version whose pinned requirements all hold in the hub's environment runs there (no
cost, no build).  One that pins something else gets, at publish, an environment keyed
by what it adds (:mod:`~hub.servables.environments.plan`: resolved with uv, refused at
once when a requirement cannot be installed), built once in the background and reused
by every run, worker and process (:mod:`~hub.servables.environments.store`); the worker
pool starts workers with that environment's Python
(:mod:`~hub.servables.environments.layout` is what it reads).  ``matterhub env list|gc``
shows and collects them (:mod:`~hub.servables.environments.cli`).
"""
