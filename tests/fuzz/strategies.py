"""Hypothesis strategies for ovnctl's inputs: near-valid shapes, wrong types, random text.

Random bytes alone rarely get past a parser's first check, so each strategy
mixes the shape a user writes (the right keys, values of every JSON type,
addresses that are almost right) with plain noise. ``FUZZ`` holds the
settings: a moderate number of examples per test in the suite, more when
``OVNCTL_FUZZ_EXAMPLES`` is set (the counts recorded in docs/fuzzing.md).
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("OVNCTL_FUZZ_EXAMPLES", "150"))
"""Examples per fuzz test; the suite's default keeps the whole directory to seconds."""

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,  # a crash found is a regression test in the repo, not a local cache entry
)

_ADDRESS_PARTS = st.sampled_from(
    [
        "10.16.0.5", "10.16.0.0", "10.16.0.255", "10.16.0.1", "fd00::5", "fd00::", "::1",
        "10.16.0.5/24", "fd00::5/120", "10.16.0.0/16", "fd00::/120", "300.1.1.1", "10.16.0",
        "0e:00:00:00:00:01", "01:00:5e:00:00:01", "00:00:00:00:00:00", "0e-00-00-00-00-02",
        "0e00.0000.0003", "10.16.0.2..10.16.0.9", "10.16.0.9..10.16.0.2", "fd00::2..fd00::9",
        "", " ", ",", "..", "-", "ovn", "attachnet.default.ovn", "a.b.c.d", "default/net@eth1",
    ]
)  # fmt: skip

ADDRESSY = st.one_of(
    _ADDRESS_PARTS,
    st.lists(_ADDRESS_PARTS, min_size=1, max_size=3).map(",".join),
    st.text(max_size=30),
)
"""Strings that are, or are almost, what an address, CIDR, MAC or range field holds."""

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    ADDRESSY,
)

JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
"""Any JSON-like value (NaN and infinities included: json.loads accepts them)."""


def shaped(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts with some of ``keys`` (values of any type, often address-like) and maybe noise."""
    value = st.one_of(ADDRESSY, JSON, st.lists(ADDRESSY, max_size=3))
    known = st.fixed_dictionaries({}, optional=dict.fromkeys(keys, value))
    return st.one_of(
        known,
        st.builds(
            lambda a, b: {**b, **a}, known, st.dictionaries(st.text(max_size=8), JSON, max_size=2)
        ),
    )


def json_text(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    """``inner`` serialised, or text that is almost JSON."""
    return st.one_of(
        inner.map(lambda v: json.dumps(v, allow_nan=True)),
        inner.map(lambda v: json.dumps(v, allow_nan=True)[:-1]),
        st.text(max_size=60),
    )


def metadata(name: st.SearchStrategy[Any] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    names = name if name is not None else st.one_of(st.just("x"), st.text(max_size=10), JSON)
    return st.fixed_dictionaries(
        {},
        optional={"name": names, "namespace": st.one_of(st.just("default"), JSON)},
    )
