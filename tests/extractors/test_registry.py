"""The extractor registry, and the checks every registered extractor must pass
(intake's test_consistency pattern: one parametrized suite over all plugins)."""

from __future__ import annotations

import json
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from hub import plugins
from hub.exceptions import MissingDependencyError, NotFoundError
from hub.extractors import ExtractionContext, Extractor, extractor_classes, get_extractor, registry
from hub.records.record import BLOCKS

BUILT_INS = {
    "generic",
    "crystal",
    "molecule_xyz",
    "vasp",
    "espresso",
    "quantum_chemistry",
    "microscopy",
    "image",
    "tabular",
    "arrays",
    "mapping",
}


def test_built_ins_register_through_entry_points():
    assert set(extractor_classes()) >= BUILT_INS


@pytest.mark.parametrize("name", sorted(BUILT_INS))
def test_extractor_consistency(name, tmp_path):
    cls = extractor_classes()[name]
    assert issubclass(cls, Extractor) and cls.name == name
    assert cls.description and cls.patterns
    assert set(cls.provides) <= {*BLOCKS, "files", "custom"}, cls.provides
    json.dumps(cls.describe())
    ex = cls()
    assert not ex.claims(Path(tmp_path / "README.nothing-claims-this")) or name == "generic"
    assert isinstance(list(ex.group([], ExtractionContext(root=tmp_path))), list)


def test_third_party_extractor_and_broken_plugin(monkeypatch, tmp_path):
    # by its own folder: installed packages (optimade, fair-research-login) ship a top-level
    # ``tests`` package that would shadow this repository's
    good = EntryPoint("thirdparty", "plugin_example:UpperExtractor", registry.GROUP)
    broken = EntryPoint("broken", "no_such_module_anywhere:Thing", registry.GROUP)
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent))
    monkeypatch.setattr(plugins, "entry_points", lambda group: [good, broken])
    registry.extractor_classes.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="'broken'.*failed to load"):
            classes = registry.extractor_classes()
        assert list(classes) == ["thirdparty"]
        ex = get_extractor("thirdparty")
        f = tmp_path / "x.upper"
        f.write_text("abc")
        assert ex.extract((f,), ExtractionContext(root=tmp_path)) == {"custom": {"upper": "ABC"}}
        with pytest.raises(NotFoundError, match="Installed extractors: thirdparty"):
            get_extractor("nope")
    finally:
        registry.extractor_classes.cache_clear()


def test_missing_dependency_names_the_extra():
    class NeedsThing(Extractor):
        name = "needs"
        imports = ("surely_not_installed_pkg",)
        extra = "things"

    assert not NeedsThing.available()
    with pytest.raises(MissingDependencyError, match=r"pip install 'matterhub\[things\]'"):
        NeedsThing.require()
