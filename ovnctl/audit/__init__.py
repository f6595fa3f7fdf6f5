"""The IPAM's invariants as one pure function over a snapshot of the cluster.

``ovnctl ipam check`` and the chaos benchmark's checker share this package:
they read through the API server (and the OVN NB) into a :class:`Snapshot`,
call :func:`audit` and get :class:`Finding` objects back. Nothing here does
I/O or knows the controller (an import-linter contract keeps it so): a checker
that shared the controller's memory or code path could share its bugs.
"""

from ovnctl.audit.fencing import WriteRecord, unfenced_writes
from ovnctl.audit.invariants import (
    AuditReport,
    Finding,
    FindingKind,
    Scope,
    Snapshot,
    SubnetUtilisation,
    audit,
)
from ovnctl.audit.records import NbPortRecord, nb_port_record

__all__ = [
    "AuditReport",
    "Finding",
    "FindingKind",
    "NbPortRecord",
    "Scope",
    "Snapshot",
    "SubnetUtilisation",
    "WriteRecord",
    "audit",
    "nb_port_record",
    "unfenced_writes",
]
