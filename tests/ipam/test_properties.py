"""Property tests: random allocate/static/release/update/rebuild sequences, and the
automatic-allocation fast path against the general (planned) path."""

from __future__ import annotations

import ipaddress
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from ovnctl.ipam import (
    AllocationError,
    AllocationRecord,
    ConflictReason,
    Family,
    InvalidSpecError,
    PoolExhaustedError,
    SubnetPool,
)
from ovnctl.ipam.addresses import first_usable, format_ranges, last_usable

OWNERS = st.sampled_from([f"ns/o{i}/ovn" for i in range(10)])
MACS = st.sampled_from([None, None, None, "0e:00:00:00:00:01", "0E-00-00-00-00-02", "bad"])
# Small CIDRs so exhaustion is exercised; the prefix may widen or narrow on update.
V4_PREFIXES = [28, 29, 27]
V6_PREFIXES = [125, 126, 124]


def _v4(prefix: int) -> str:
    return f"10.0.0.0/{prefix}"


def _v6(prefix: int) -> str:
    return f"fd00::/{prefix}"


class IPAMMachine(RuleBasedStateMachine):
    """Drives one SubnetPool and checks it against a model of owners."""

    def __init__(self) -> None:
        super().__init__()
        self.pool: SubnetPool
        self.model: dict[str, tuple[tuple[str, ...], str]] = {}
        self.layout = "v4"
        self.reversed = False
        self.spec: dict[str, object] = {}

    def _cidr(self, v4: int, v6: int) -> str:
        parts = {"v4": [_v4(v4)], "v6": [_v6(v6)], "dual": [_v4(v4), _v6(v6)]}[self.layout]
        parts = list(reversed(parts)) if self.reversed else parts
        return ",".join(parts)

    @initialize(
        layout=st.sampled_from(["v4", "v6", "dual"]),
        reversed_=st.booleans(),
        excludes=st.lists(st.integers(0, 9), max_size=4),
    )
    def setup(self, layout: str, reversed_: bool, excludes: list[int]) -> None:
        self.layout = layout
        self.reversed = reversed_
        cidr = self._cidr(28, 125)
        self.spec = {"cidr_block": cidr, "exclude_ips": self._excludes(excludes)}
        self.pool = SubnetPool("prop", cidr, exclude_ips=self._excludes(excludes))

    def _excludes(self, offsets: list[int]) -> list[str]:
        out: list[str] = []
        for off in offsets:
            if self.layout in ("v4", "dual"):
                out.append(f"10.0.0.{off}..10.0.0.{off + 1}" if off % 3 == 0 else f"10.0.0.{off}")
            if self.layout in ("v6", "dual"):
                out.append(f"fd00::{off:x}")
        return out

    def _candidate_ips(self) -> list[str]:
        ips: list[str] = []
        for family in self.pool.families:
            net = self.pool.pool(family).network
            for value in range(int(net.first), int(net.last) + 2):  # one past the end too
                ips.append(str(ipaddress.ip_address(value)))
        return ips

    # -- helpers ---------------------------------------------------------------------------

    def _snapshot(self) -> object:
        return (self.pool.usage(), sorted((a.owner, a.ips, a.mac) for a in self.pool.allocations()))

    def _record(self, owner: str) -> None:
        allocation = self.pool.get(owner)
        assert allocation is not None
        self.model[owner] = (allocation.ips, allocation.mac)

    def _auto_ok(self, family: Family, value: int) -> bool:
        fp = self.pool.pool(family)
        return fp.reason(value) is None

    # -- rules ----------------------------------------------------------------------------

    @rule(owner=OWNERS, holder=st.sampled_from([None, "pod-a", "pod-b"]))
    def allocate(self, owner: str, holder: str | None) -> None:
        """Automatic allocation: idempotent, lowest free, never reserved."""
        before = self.pool.get(owner)
        lowest = {f: self.pool.pool(f).free.lowest() for f in self.pool.families}
        try:
            result = self.pool.allocate(owner, holder=holder)
        except PoolExhaustedError:
            missing = [
                f for f in self.pool.families if before is None or f not in self._fams(before.ips)
            ]
            assert any(lowest[f] is None for f in missing)
            assert self.pool.get(owner) == before
            return
        if before is not None and len(before.ips) == len(self.pool.families):
            assert (result.ips, result.mac) == (before.ips, before.mac)
        for text in result.ips:
            family, value = self._parse(text)
            if before is None or text not in before.ips:
                assert value == lowest[family], "auto allocation must take the lowest free"
                assert self._auto_ok(family, value)
        self._record(owner)

    @rule(owner=OWNERS, data=st.data(), mac=MACS)
    def static(self, owner: str, data: st.DataObject, mac: str | None) -> None:
        """Static request: either succeeds with exactly the asked address, or changes nothing."""
        ips = data.draw(st.lists(st.sampled_from(self._candidate_ips()), max_size=2, unique=True))
        before = self._snapshot()
        try:
            result = self.pool.allocate(owner, ips=ips or None, mac=mac)
        except AllocationError:
            assert self._snapshot() == before
            return
        for text in ips:
            assert str(ipaddress.ip_address(text)) in result.ips
        self._record(owner)

    @rule(owner=OWNERS)
    def release(self, owner: str) -> None:
        """Release frees the owner's addresses (if allocatable) and MAC; unknown is a no-op."""
        released = self.pool.release(owner)
        held = self.model.pop(owner, None)
        assert (released is None) == (held is None)
        if released is None:
            return
        for text in released.ips:
            family, value = self._parse(text)
            if self._auto_ok(family, value):
                assert value in self.pool.pool(family).free
        assert self.pool.owner_of_mac(released.mac) is None

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data())
    def release_then_allocate_round_trips(self, data: st.DataObject) -> None:
        """Releasing and statically re-requesting the same IPs and MAC restores the allocation."""
        owner = data.draw(st.sampled_from(sorted(self.model)))
        before = self.pool.get(owner)
        assert before is not None
        if any(self._parse(t)[0] not in self.pool.families for t in before.ips):
            return
        if any(
            not self.pool.pool(self._parse(t)[0]).contains(self._parse(t)[1]) for t in before.ips
        ):
            return  # strays outside a narrowed CIDR cannot be re-requested
        if any(
            self.pool.pool(self._parse(t)[0]).reason(self._parse(t)[1])
            not in (None, ConflictReason.EXCLUDED)
            for t in before.ips
        ):
            return  # now the gateway or a network/broadcast address
        self.pool.release(owner)
        again = self.pool.allocate(owner, ips=list(before.ips), mac=before.mac)
        assert (again.ips, again.mac) == (before.ips, before.mac)

    @rule(
        excludes=st.lists(st.integers(0, 9), max_size=4),
        gateway_offset=st.sampled_from([None, 1, 2, 5]),
        v4_prefix=st.sampled_from(V4_PREFIXES),
        v6_prefix=st.sampled_from(V6_PREFIXES),
    )
    def update(
        self, excludes: list[int], gateway_offset: int | None, v4_prefix: int, v6_prefix: int
    ) -> None:
        """Updates keep allocations (same family set) and report conflicts of held addresses."""
        cidr = self._cidr(v4_prefix, v6_prefix)
        gateway = ""
        if gateway_offset is not None:
            parts = []
            for family in self.pool.families:
                parts.append(
                    f"10.0.0.{gateway_offset}" if family is Family.V4 else f"fd00::{gateway_offset}"
                )
            gateway = ",".join(parts)
        before = self._snapshot()
        old_reasons = {
            (owner, text): self._reason(text)
            for owner, (ips, _) in self.model.items()
            for text in ips
        }
        try:
            report = self.pool.update(
                cidr_block=cidr, gateway=gateway, exclude_ips=self._excludes(excludes)
            )
        except InvalidSpecError:
            assert self._snapshot() == before  # e.g. a gateway outside a narrowed CIDR
            return
        for owner, (ips, mac) in self.model.items():
            got = self.pool.get(owner)
            assert got is not None
            assert (got.ips, got.mac) == (ips, mac)
        reported = {(c.owner, c.ip): c.reason for c in report.conflicts}
        for key, old in old_reasons.items():
            new = self._reason(key[1])
            if new is not None and new is not old:
                assert reported.get(key) is new, "a newly bad allocation must be reported"
            else:
                assert key not in reported

    def _reason(self, text: str) -> ConflictReason | None:
        family, value = self._parse(text)
        return self.pool.pool(family).reason(value)

    @rule()
    def rebuild(self) -> None:
        """A fresh pool rebuilt from the allocations holds the same, minus reported records."""
        fresh = SubnetPool(
            "prop",
            self.pool.cidr_block,
            gateway=self.pool.gateway_spec,
            exclude_ips=self.pool.exclude_ips,
        )
        records = [AllocationRecord(a.owner, a.ips, a.mac) for a in self.pool.allocations()]
        # A conflicting claim on every held address must lose to the first claim.
        intruders = [AllocationRecord("intruder/" + r.owner, r.ips, "") for r in records]
        report = fresh.rebuild(records + intruders)
        refused = {c.record.owner for c in report.conflicts}
        assert all(i.owner in refused for i in intruders)
        for owner in list(self.model):
            if owner in refused:
                del self.model[owner]
        assert report.recorded == len(self.model)
        for owner, (ips, mac) in self.model.items():
            got = fresh.get(owner)
            assert got is not None
            assert (got.ips, got.mac) == (ips, mac)
        self.pool = fresh

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def no_address_or_mac_held_twice(self) -> None:
        """Every address and MAC belongs to exactly one owner, and the pool agrees."""
        seen_ips: set[str] = set()
        seen_macs: set[str] = set()
        for owner, (ips, mac) in self.model.items():
            for text in ips:
                assert text not in seen_ips
                seen_ips.add(text)
                assert self.pool.owner_of(text) == owner
            assert mac not in seen_macs
            seen_macs.add(mac)
            assert self.pool.owner_of_mac(mac) == owner
        assert len(self.pool) == len(self.model)

    @invariant()
    def counts_add_up_and_free_is_allocatable(self) -> None:
        """free + used + reserved = size, and free never holds reserved or held addresses."""
        usage = self.pool.usage()
        for family in self.pool.families:
            fp = self.pool.pool(family)
            u = usage.v4 if family is Family.V4 else usage.v6
            assert u is not None
            assert u.available + u.using + u.reserved == u.size
            net = fp.network
            free_members = {x for a, b in fp.free for x in range(a, b + 1)}
            assert u.available == len(free_members)
            for value in free_members:
                assert first_usable(net) <= value <= last_usable(net)
                assert value != fp.gateway
                assert value not in fp.excluded()
                assert value not in fp.held
            inside_held = [a for a in fp.held if fp.contains(a)]
            assert u.using == len(inside_held)
            # The range strings list exactly those addresses (after a narrowing too,
            # when strays outside the CIDR are still held), each run merged once.
            assert _members(u.using_range) == set(inside_held)
            assert _members(u.available_range) == free_members
            assert u.using_range == _plain_ranges(inside_held, family)

    def _fams(self, ips: tuple[str, ...]) -> set[Family]:
        return {self._parse(t)[0] for t in ips}

    @staticmethod
    def _parse(text: str) -> tuple[Family, int]:
        addr = ipaddress.ip_address(text)
        return (Family.V4 if addr.version == 4 else Family.V6), int(addr)


def _members(ranges: str) -> set[int]:
    """The addresses a status range string (``"a-b,c"``) names."""
    members: set[int] = set()
    for part in filter(None, ranges.split(",")):
        first, _, last = part.partition("-")
        low = int(ipaddress.ip_address(first))
        members.update(range(low, int(ipaddress.ip_address(last or first)) + 1))
    return members


def _plain_ranges(values: list[int], family: Family) -> str:
    """The status range string of ``values`` by an address-by-address scan."""
    runs: list[tuple[int, int]] = []
    for value in sorted(values):
        if runs and value == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return format_ranges(family, runs)


IPAMMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestIPAMMachine = IPAMMachine.TestCase


# -- the fast path against the planned path -------------------------------------------------

# Specs an update may switch to: narrower, wider, the other family, dual-stack either way.
_SPECS = [
    "10.0.0.0/28",
    "10.0.0.0/29",
    "10.0.0.0/27",
    "fd00::/125",
    "fd00::/126",
    "10.0.0.0/28,fd00::/125",
    "fd00::/125,10.0.0.0/29",
]
_EXCLUDES = st.lists(
    st.sampled_from(["10.0.0.3", "10.0.0.5..10.0.0.7", "fd00::2", "fd00::4..fd00::5"]),
    max_size=3,
)
_STEPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("allocate"), st.sampled_from(range(12)), st.sampled_from([None, "p1", "p2"])
        ),
        st.tuples(st.just("release"), st.sampled_from(range(12)), st.none()),
        st.tuples(st.just("update"), st.sampled_from(_SPECS), _EXCLUDES),
    ),
    max_size=60,
)


def _fitting(excludes: list[str], cidr_block: str) -> list[str]:
    """The entries of ``excludes`` of a family ``cidr_block`` has (others are refused)."""
    return [e for e in excludes if (":" in e) == (":" in cidr_block) or "," in cidr_block]


def _outcome(pool: SubnetPool, owner: str, holder: str | None, *, planned: bool) -> object:
    try:
        # ips=[] asks for no static address, but routes the call through the plan phase.
        got = pool.allocate(owner, ips=[] if planned else None, holder=holder)
    except AllocationError as exc:
        return (type(exc), str(exc))
    return (got.ips, got.mac, got.holders)


@given(cidr_block=st.sampled_from(_SPECS), excludes=_EXCLUDES, steps=_STEPS)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fast_path_allocates_as_the_planned_path(
    cidr_block: str, excludes: list[str], steps: list[tuple[str, object, object]]
) -> None:
    """allocate_auto's inlined copies (pop, format, result) give what the planned path gives.

    Two pools with the same spec and seed see the same steps; one allocates through the
    fast path, the other through the plan phase. Addresses, MACs (the same draws, in the
    same order: none for a refused request), holders, refusals, usage and every
    allocation agree, through exclusions, narrowings and family changes.
    """
    fast, planned = (
        SubnetPool(
            "s", cidr_block, exclude_ips=_fitting(excludes, cidr_block), rng=random.Random(1)
        )
        for _ in range(2)
    )
    for step in steps:
        if step[0] == "allocate":
            owner, holder = f"ns/o{step[1]}/ovn", step[2]
            assert isinstance(holder, str | None)
            assert _outcome(fast, owner, holder, planned=False) == _outcome(
                planned, owner, holder, planned=True
            )
        elif step[0] == "release":
            owner = f"ns/o{step[1]}/ovn"
            assert (fast.release(owner) is None) == (planned.release(owner) is None)
        else:
            spec, step_excludes = str(step[1]), list(step[2])  # type: ignore[call-overload]
            refusals = []
            for pool in (fast, planned):
                try:
                    pool.update(cidr_block=spec, exclude_ips=_fitting(step_excludes, spec))
                    refusals.append("")
                except InvalidSpecError as exc:
                    refusals.append(str(exc))
            assert refusals[0] == refusals[1]
        assert fast.usage() == planned.usage()
        assert sorted(fast.allocations(), key=str) == sorted(planned.allocations(), key=str)
