"""Starting the server: subprocess with admin control, threaded, the CLI."""

from __future__ import annotations

import json
import urllib.request

import pytest
import yaml
from click.testing import CliRunner

from ovnctl.cli import main
from ovnctl.sim import SimProcess, ThreadedSimServer


def _get(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=10) as response:
        result: dict[str, object] = json.loads(response.read())
        return result


@pytest.mark.slow
def test_process_serves_and_is_steered_over_admin(sim_process: SimProcess) -> None:
    """SimProcess gives a URL and kubeconfig; its request log and knobs work remotely."""
    config = yaml.safe_load(sim_process.kubeconfig_path.read_text())
    assert config["clusters"][0]["cluster"]["server"] == sim_process.url
    sim_process.reset_request_log()
    _get(sim_process.url + "/api/v1/namespaces")
    log = sim_process.request_log()
    assert log.count(verb="list", resource="namespaces") == 1
    sim_process.configure(error_rate=1.0)
    with pytest.raises(urllib.error.HTTPError) as info:
        _get(sim_process.url + "/api/v1/namespaces")
    assert info.value.code == 500
    sim_process.configure(error_rate=0.0)
    assert sim_process.stats()["watches"] == 0
    assert sim_process.cut_watches() == 0


def test_threaded_server_for_sync_code() -> None:
    """ThreadedSimServer serves from a thread and runs calls on its loop."""
    with ThreadedSimServer() as sim:
        body = _get(sim.url + "/api/v1/namespaces/default")
        assert body["kind"] == "Namespace"
        sim.configure(latency_ms=1)
        assert sim.call(lambda s: s.faults.latency_ms) == 1
        assert sim.request_log.count(verb="get", resource="namespaces") == 1


def test_cli_help_lists_serve_and_knobs() -> None:
    """`ovnctl sim serve --help` documents the port, kubeconfig and fault knobs."""
    result = CliRunner().invoke(main, ["sim", "serve", "--help"])
    assert result.exit_code == 0
    for option in ("--port", "--kubeconfig", "--latency-ms", "--error-rate", "--load"):
        assert option in result.output


def test_admin_rejects_unknown_knobs(sim_process: SimProcess) -> None:
    """POST /_sim/faults with an unknown knob is 400."""
    with pytest.raises(urllib.error.HTTPError) as info:
        sim_process.configure(bogus=1)
    assert info.value.code == 400
