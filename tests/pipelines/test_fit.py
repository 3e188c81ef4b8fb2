"""``fits(output, input)``: schemas compared without values."""

from __future__ import annotations

from hub.pipelines import Misfit, fits
from hub.servables.schema import ArgSpec

nd = ArgSpec.ndarray


def test_types_numbers_and_anything() -> None:
    assert fits(ArgSpec.scalar("integer"), ArgSpec.scalar("float")) is None
    assert fits(ArgSpec.scalar("float"), ArgSpec.scalar("integer")) == Misfit(
        "input", "a float", "an integer"
    )
    assert fits(ArgSpec.scalar("string"), ArgSpec(type="file")) is None
    assert fits(ArgSpec.scalar("string"), ArgSpec(type="unknown")) is None
    assert fits(ArgSpec(type="python object"), ArgSpec.scalar("integer")) is None
    assert fits(ArgSpec.list_of("float"), ArgSpec.scalar("string")) is not None


def test_ndarray_shapes_with_wildcards_and_items() -> None:
    assert fits(nd([None, 4]), nd([None, 4])) is None
    assert fits(nd([10, 4]), nd([None, 4])) is None
    assert fits(nd([None, 4]), nd([10, None])) is None
    assert fits(nd([None, 4]), nd([None, 3])) is not None
    assert fits(nd([None, 4]), nd([None, 4, 1])) is not None
    assert fits(nd(None, "integer"), nd([None], "float")) is None
    assert fits(nd(None, "float"), nd(None, "integer")) is not None
    assert fits(ArgSpec.list_of("float"), nd([None], "float")) is None
    assert fits(ArgSpec.list_of("string"), nd([None], "float")) is not None


def test_lists_tuples_and_dicts_name_the_field() -> None:
    assert fits(ArgSpec.list_of("integer"), ArgSpec.list_of("string")) == Misfit(
        "input[]", "an integer", "a string"
    )
    pair = ArgSpec(type="tuple", element_types=[ArgSpec.scalar("float"), ArgSpec.scalar("string")])
    other = ArgSpec(type="tuple", element_types=[ArgSpec.scalar("float"), ArgSpec.scalar("integer")])
    assert fits(pair, other) == Misfit("input[1]", "a string", "an integer")
    wants = ArgSpec.dict_of({"x": nd([None, 3]), "t": "float"})
    assert fits(ArgSpec.dict_of({"x": nd([5, 3]), "t": "integer"}), wants) is None
    missing = fits(ArgSpec.dict_of({"x": nd([5, 3])}), wants)
    assert missing is not None and missing.field == "input.t" and "no key 't'" in missing.gives
    extra = fits(ArgSpec.dict_of({"x": nd([5, 3]), "t": "float", "u": "float"}), wants)
    assert extra is not None and extra.field == "input.u"
    wrong = fits(ArgSpec.dict_of({"x": nd([5, 4]), "t": "float"}), wants)
    assert wrong is not None and wrong.field == "input.x"
    assert fits(ArgSpec(type="dict"), wants) is None
