"""The part of :class:`~ovnctl.k8s.api.KubeApi` a reconciler may call: a structural type.

Reconcilers and the Event recorder are given an API client to write their
results (IP objects, one pod patch, statuses, Events), to delete IP objects,
to confirm an absence with a targeted GET (the VM reconciler) and to page
through the IP objects once at start-up (the IPAM rebuild). They need those
five verbs and nothing else of :class:`~ovnctl.k8s.api.KubeApi`: not its
configuration, write fence, siblings or connection pool. Typing their ``api``
parameter as :class:`Writer` says so, and lets the unit tests under
``tests/reconcilers/`` hand them a recording fake instead of a server.

``KubeApi`` satisfies the protocol structurally (no inheritance); mypy checks
that at every place a controller passes its ``KubeApi`` in. Failures are the
same exception classes either way (:mod:`ovnctl.k8s.api`): ``NotFound``,
``AlreadyExists``, ``Conflict``, ``Invalid``, ``Transient``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

from ovnctl.k8s.api import Resource

__all__ = ["Writer"]


class Writer(Protocol):
    """The verbs reconcilers use; see :class:`~ovnctl.k8s.api.KubeApi` for their semantics."""

    async def get(self, resource: Resource, *, name: str, namespace: str | None = None) -> Any:
        """GET one object; raises ``NotFound`` when it does not exist."""
        ...

    def list_pages(
        self, resource: Resource, *, namespace: str | None = None, limit: int = 500
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """LIST in pages of at most ``limit`` objects."""
        ...

    async def create(
        self,
        resource: Resource,
        body: Mapping[str, Any],
        *,
        namespace: str | None = None,
        read_back: bool = True,
    ) -> Any:
        """POST; the created object (None with ``read_back=False``)."""
        ...

    async def patch(
        self,
        resource: Resource,
        *,
        name: str,
        body: Any,
        namespace: str | None = None,
        subresource: str | None = None,
        read_back: bool = True,
    ) -> Any:
        """JSON merge PATCH; the patched object (None with ``read_back=False``)."""
        ...

    async def delete(
        self,
        resource: Resource,
        *,
        name: str,
        namespace: str | None = None,
        uid: str | None = None,
    ) -> Any:
        """DELETE, with a uid precondition when given."""
        ...
