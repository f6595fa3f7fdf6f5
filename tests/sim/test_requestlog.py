"""The request log: verbs, resources, statuses and counts, resettable."""

from __future__ import annotations

from ovnctl.sim import SimServer
from tests.sim.conftest import NADS, PODS, Api, nad, pod


async def test_each_verb_is_recorded(sim: SimServer, api: Api) -> None:
    """Requests are logged with Kubernetes verbs and the resource they addressed."""
    sim.reset_request_log()
    await api.post(NADS, nad("n"))
    await api.get(f"{NADS}/n")
    await api.get(NADS)
    await api.patch(f"{NADS}/n", {"metadata": {"labels": {"a": "b"}}})
    _, current = await api.get(f"{NADS}/n")
    await api.put(f"{NADS}/n", current)
    await api.watch(NADS, until=1)
    await api.delete(f"{NADS}/n")
    await api.request("DELETE", PODS)
    counts = sim.request_log.counts()
    for verb in ("create", "list", "patch", "update", "watch", "delete"):
        assert counts[(verb, "network-attachment-definitions")] == 1, verb
    assert counts[("get", "network-attachment-definitions")] == 2
    assert counts[("deletecollection", "pods")] == 1


async def test_entries_carry_status_namespace_name_and_subresource(
    sim: SimServer, api: Api
) -> None:
    """Each entry says namespace, name, subresource and HTTP status."""
    sim.reset_request_log()
    await api.post(PODS, pod("p"))
    await api.patch(f"{PODS}/p/status", {"status": {"phase": "Running"}})
    await api.get(f"{PODS}/absent")
    create, status_patch, missing = sim.request_log.entries
    assert (create.verb, create.status, create.namespace, create.name) == (
        "create",
        201,
        "default",
        None,
    )
    assert (status_patch.subresource, status_patch.status) == ("status", 200)
    assert status_patch.content_type == "application/merge-patch+json"
    assert (missing.verb, missing.name, missing.status) == ("get", "absent", 404)


async def test_count_by_group_qualified_resource(sim: SimServer, api: Api) -> None:
    """count() accepts plural.group, and zero is zero."""
    sim.reset_request_log()
    await api.get(NADS)
    assert (
        sim.request_log.count(
            verb="list", resource="network-attachment-definitions.k8s.cni.cncf.io"
        )
        == 1
    )
    assert sim.request_log.count(verb="get", resource="network-attachment-definitions") == 0


async def test_discovery_requests_are_logged_without_resource(sim: SimServer, api: Api) -> None:
    """Non-resource requests are logged with an empty resource and their path."""
    sim.reset_request_log()
    await api.get("/apis")
    (entry,) = sim.request_log.entries
    assert entry.resource == ""
    assert entry.path == "/apis"


async def test_reset_forgets_everything(sim: SimServer, api: Api) -> None:
    """reset() clears entries and counts."""
    await api.get(PODS)
    sim.reset_request_log()
    assert sim.request_log.entries == []
    assert sim.request_log.count() == 0


def test_reads_from_another_thread_while_recording_never_fail() -> None:
    """Counting and finding while the server thread records: no 'changed size during iteration'."""
    import threading

    from ovnctl.sim import LoggedRequest, RequestLog

    log = RequestLog(max_entries=1_000)
    stop = threading.Event()

    def server() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            entry = LoggedRequest(
                verb="get", group=f"g{i % 500}", version="v1", resource=f"r{i % 700}",
                subresource=None, namespace=None, name=f"n{i}", status=200, path="/x",
            )  # fmt: skip
            log.record(entry)

    thread = threading.Thread(target=server)
    thread.start()
    try:
        for _ in range(300):
            log.count(verb="get")
            log.counts()
            log.find(name="n1")
    finally:
        stop.set()
        thread.join()
    assert log.total > 0
