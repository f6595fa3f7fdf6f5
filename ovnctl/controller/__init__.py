"""The controller: caches, work queues, worker pools and reconcilers, composed.

:class:`Controller` implements the watch hooks (events become keys), owns the
IPAM and the queues, rebuilds the IPAM before the workers start, and runs
until stopped. The CLI builds one from settings; tests and benchmarks build
one against the embedded API server.
"""

from ovnctl.controller.runtime import Controller, ControllerSettings

__all__ = ["Controller", "ControllerSettings"]
