"""Package discovery only (everything else is in pyproject.toml): the core is ``hub/``, and
the Jupyter front ends in ``widgets/`` install as ``hub.widgets`` so the core never imports them."""

from setuptools import find_packages, setup

front = ["hub." + name for name in find_packages(".", include=["widgets", "widgets.*"])]
setup(
    packages=find_packages(".", include=["hub", "hub.*"]) + front,
    package_dir={"hub.widgets": "widgets"},
)
