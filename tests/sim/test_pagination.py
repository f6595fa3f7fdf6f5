"""List pagination: limit/continue pages of one consistent snapshot."""

from __future__ import annotations

from ovnctl.sim import SimServer
from tests.sim.conftest import PODS, Api, pod


async def _names(api: Api, limit: int) -> tuple[list[str], list[str]]:
    names: list[str] = []
    versions: list[str] = []
    token = ""
    while True:
        params = {"limit": str(limit), **({"continue": token} if token else {})}
        status, body = await api.get(PODS, **params)
        assert status == 200
        names += [i["metadata"]["name"] for i in body["items"]]
        versions.append(body["metadata"]["resourceVersion"])
        token = body["metadata"].get("continue", "")
        if not token:
            return names, versions


async def test_pages_cover_the_list_once(api: Api) -> None:
    """Following continue tokens yields every object once, in order."""
    for i in range(7):
        await api.post(PODS, pod(f"p{i}"))
    names, versions = await _names(api, 3)
    assert names == [f"p{i}" for i in range(7)]
    assert len(set(versions)) == 1


async def test_remaining_item_count(api: Api) -> None:
    """A partial page says how many items remain."""
    for i in range(5):
        await api.post(PODS, pod(f"p{i}"))
    _, body = await api.get(PODS, limit="2")
    assert body["metadata"]["remainingItemCount"] == 3


async def test_pages_are_consistent_under_writes(api: Api) -> None:
    """Writes between pages do not show up in later pages of the same list."""
    for i in range(4):
        await api.post(PODS, pod(f"p{i}"))
    _, first = await api.get(PODS, limit="2")
    await api.delete(f"{PODS}/p3")
    await api.post(PODS, pod("p9"))
    _, second = await api.get(PODS, limit="2", **{"continue": first["metadata"]["continue"]})
    assert [i["metadata"]["name"] for i in second["items"]] == ["p2", "p3"]
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


async def test_expired_continue_token_is_410(sim: SimServer, api: Api) -> None:
    """A continue token older than the retained snapshots is HTTP 410."""
    for i in range(3):
        await api.post(PODS, pod(f"p{i}"))
    _, first = await api.get(PODS, limit="1")
    sim.compact()
    status, body = await api.get(PODS, limit="1", **{"continue": first["metadata"]["continue"]})
    assert status == 410
    assert body["reason"] == "Expired"


async def test_malformed_continue_token_is_400(api: Api) -> None:
    """A continue token that is not one of ours is 400."""
    status, _ = await api.get(PODS, limit="1", **{"continue": "garbage!"})
    assert status == 400


async def test_list_resource_version_tracks_writes(api: Api) -> None:
    """The list's resourceVersion is the newest write's version."""
    _, created = await api.post(PODS, pod("p"))
    _, body = await api.get(PODS)
    assert body["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert body["kind"] == "PodList"
