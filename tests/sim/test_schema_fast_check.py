"""The fast validity check (fastjsonschema) agrees with jsonschema, which words the errors."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ovnctl.sim.schema import CompiledSchema
from tests.sim.test_schema_validation import SCHEMA

COMPILED = CompiledSchema(SCHEMA)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-20, 20),
    st.floats(-2, 2, allow_nan=False),
    st.sampled_from(
        ["", "a", "ab", "AB", "abcdef", "fast", "slow", "aGVsbG8=", "2024-01-01T00:00:00Z", "x y"]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["name", "port", "x"]), inner, max_size=3),
    ),
    max_leaves=6,
)
FIELDS = [*SCHEMA["properties"]["spec"]["properties"], "bogus"]


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELDS), values, max_size=5))
def test_fast_check_and_jsonschema_agree(spec: dict[str, Any]) -> None:
    """Whatever the spec, both libraries give the same verdict on the translated schema."""
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {}, "spec": spec}
    assert COMPILED.fast_valid(obj) == (COMPILED.schema_errors(obj) == []), spec
