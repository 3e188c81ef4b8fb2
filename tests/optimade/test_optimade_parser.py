"""The filter parser: the ``optimade`` package's grammar, built as an LALR parser, reads
every filter exactly as the package's own ``LarkParser`` does, and rejects the same ones."""

from __future__ import annotations

from typing import Any

import pytest
from lark import Token, Tree

from hub.optimade.errors import FilterError
from hub.optimade.translate import grammar_version, parser, translate

#: The filters of the specification's "API Filtering Format Specification" and more.
FILTERS = [
    "nelements > 3",
    'chemical_formula_hill = "H2O" AND chemical_formula_anonymous != "AB"',
    '_exmpl_aax <= +.1e8 OR nelements >= 10 AND NOT ( _exmpl_x != "Some string" OR NOT _exmpl_a = 7)',
    '_exmpl_spacegroup="P2"',
    "_exmpl_cell_volume<100.0",
    "_exmpl_band_gap > 5.0 AND _exmpl_molecular_weight < 350",
    '_exmpl_melting_point<300 AND nelements=4 AND chemical_formula_descriptive="SiO2"',
    "_exmpl_some_string_property = 42",
    "5 < _exmpl_a",
    "((NOT (_exmpl_a>_exmpl_b)) AND _exmpl_x>0)",
    "5 < 7",
    'chemical_formula_anonymous CONTAINS "C2" AND chemical_formula_anonymous STARTS WITH "A2"',
    'chemical_formula_anonymous STARTS "A2" AND chemical_formula_anonymous ENDS WITH "D1"',
    'elements HAS "H" AND elements HAS ALL "H","He","Ga","Ta" AND elements HAS ONLY "H","He","Ga","Ta" '
    'AND elements HAS ANY "H", "He", "Ga", "Ta"',
    'elements:_exmpl_element_counts HAS "H":6 AND elements:_exmpl_element_counts HAS ALL "H":6,"He":7',
    "_exmpl_element_counts HAS < 3 AND _exmpl_element_counts HAS ANY > 3, = 6, 4, != 8",
    "chemical_formula_hill IS KNOWN AND NOT chemical_formula_anonymous IS UNKNOWN",
    'NOT a > b OR c = 100 AND f = "C2 H6"',
    "a >= 0 AND NOT b < c OR c = 0",
    'references.id HAS "x" AND a.b.c = 1',
    "elements LENGTH >= 3 AND nsites LENGTH 2",
    'id = "a\\"b\\\\c"',
    "x = -.2E+7 OR y = 1. OR z = 6.03e23",
    "",
]
BAD = ["nelements=", "nelements = = 2", "NOT", '"unterminated', "Elements = 2", "a HAS", "(a=1"]


def _without_booleans(node: Any) -> Any:
    """A tree with the children of ``bool`` dropped (the shipped grammar drops the words)."""
    if isinstance(node, Tree):
        children = [] if node.data == "bool" else [_without_booleans(c) for c in node.children]
        return Tree(node.data, children)
    return Token(node.type, str(node)) if isinstance(node, Token) else node


@pytest.mark.parametrize("text", FILTERS)
def test_same_tree_as_the_packages_parser(text: str) -> None:
    from optimade.filterparser import LarkParser

    reference = LarkParser(version=grammar_version()).parse(text)
    assert _without_booleans(parser().parse(text)) == _without_booleans(reference)


@pytest.mark.parametrize("text", BAD)
def test_same_rejections_with_a_position(text: str) -> None:
    from optimade.exceptions import BadRequest
    from optimade.filterparser import LarkParser

    with pytest.raises(BadRequest):
        LarkParser(version=grammar_version()).parse(text)
    with pytest.raises(FilterError) as err:
        translate(text)
    assert err.value.status_code == 400
    assert err.value.position is not None and 0 <= err.value.position <= len(text)


def test_booleans_are_read() -> None:
    assert translate("_matterhub_dft.converged = TRUE").query.endswith("dft.converged:true")  # type: ignore[union-attr]
    assert translate("_matterhub_dft.converged != FALSE").query.endswith("NOT dft.converged:false")  # type: ignore[union-attr]
    # how a calculation ended (issue 18) is served and filterable
    assert translate('_matterhub_dft.termination = "interrupted"').query.endswith(  # type: ignore[union-attr]
        'dft.termination:["interrupted" TO "interrupted"]'
    )


def test_strings_are_unescaped() -> None:
    # a quote and a backslash in a value reach the hub as themselves (here: regex escapes)
    query = translate('chemical_formula_descriptive = "a\\"b\\\\"').query
    assert query == "optimade.chemical_formula_descriptive:/a\\x{22}b\\x{5C}/"
