"""``kubeovn.io/v1`` IP objects: their names, the body ovnctl writes, and reading them back.

One IP object records one allocated NIC (docs/models.md, "IP objects"). It is written *first*
in the allocation sequence (IP object, logical switch port, pod annotations),
so it is the durable record: at start-up the IPAM is rebuilt from the IP
objects (:func:`parse_ip_object`), never from pod annotations alone (Kube-OVN
#4304 handed out duplicates that way). The object's name doubles as the IPAM
owner key and as the OVN logical switch port name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ovnctl.models._syntax import DNS1123_SUBDOMAIN_MAX, canonical_ip, canonical_mac, describe
from ovnctl.models.annotations import SUBNET_LABEL
from ovnctl.models.errors import IpObjectError
from ovnctl.models.meta import meta_name, object_meta
from ovnctl.models.provider import is_primary

__all__ = [
    "IP_API_VERSION",
    "IP_KIND",
    "IpRecord",
    "build_ip_object",
    "ip_object_name",
    "parse_ip_object",
]

IP_API_VERSION = "kubeovn.io/v1"
IP_KIND = "IP"

_HASH_LEN = 10


def ip_object_name(*, owner: str, namespace: str, provider: str) -> str:
    """The IP object (and logical switch port) name of one NIC.

    ``<owner>.<namespace>`` for the primary provider ``ovn``, else
    ``<owner>.<namespace>.<provider>`` (``vm1.default.attachnet.default.ovn``),
    exactly as Kube-OVN names them, so existing objects are found again.

    Kubernetes names are at most 253 characters; a pod name (up to 253) plus a
    namespace and a provider can exceed that, and Kube-OVN then fails to create
    the object forever. ovnctl instead shortens such a name deterministically:
    the first characters, then ``-`` and 10 hex digits of the SHA-256 of the
    full name, 253 characters in all. The result is still a valid DNS-1123
    subdomain and the same inputs always give the same name, so the object is
    found again after a restart. Names within the limit are never changed.
    """
    full = f"{owner}.{namespace}" if is_primary(provider) else f"{owner}.{namespace}.{provider}"
    if len(full) <= DNS1123_SUBDOMAIN_MAX:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:_HASH_LEN]
    # Strip separators so the joint never yields '.-' or '--' at a label edge.
    head = full[: DNS1123_SUBDOMAIN_MAX - _HASH_LEN - 1].rstrip(".-")
    return f"{head}-{digest}"


@dataclass(frozen=True, slots=True)
class IpRecord:
    """The parts of an IP object the IPAM rebuild and the garbage collector need.

    ``name`` is the owner key in the IPAM. ``ips`` are canonical, IPv4 first.
    ``pod_name`` and ``namespace`` are ``""`` when absent (Kube-OVN writes IP
    objects for node ports without a namespace).
    """

    name: str
    subnet: str
    ips: tuple[str, ...]
    mac: str | None = None
    pod_name: str = ""
    namespace: str = ""
    node_name: str = ""
    pod_type: str = ""
    container_id: str = ""

    @property
    def v4(self) -> str | None:
        """The IPv4 address, if any."""
        return next((ip for ip in self.ips if ":" not in ip), None)

    @property
    def v6(self) -> str | None:
        """The IPv6 address, if any."""
        return next((ip for ip in self.ips if ":" in ip), None)


def build_ip_object(
    *,
    name: str,
    pod_name: str,
    namespace: str,
    subnet: str,
    ips: Sequence[str],
    mac: str | None,
    node_name: str = "",
    pod_type: str = "",
    container_id: str = "",
) -> dict[str, Any]:
    """The body of the IP object for one allocated NIC, ready to create or replace.

    ``pod_name`` is the owner name (the VM's name for a KubeVirt VM, as Kube-OVN
    writes it), ``pod_type`` ``""`` or ``"VirtualMachine"``. ``ips`` are
    canonical addresses, at most one per family; ``ipAddress`` lists IPv4 first.
    ``attachSubnets``/``attachIps``/``attachMacs`` are written empty: Kube-OVN
    deprecated them in favour of one IP object per NIC, but its CRD and tools
    still expect the keys.
    """
    v4 = [ip for ip in ips if ":" not in ip]
    v6 = [ip for ip in ips if ":" in ip]
    return {
        "apiVersion": IP_API_VERSION,
        "kind": IP_KIND,
        "metadata": {"name": name, "labels": {SUBNET_LABEL: subnet}},
        "spec": {
            "podName": pod_name,
            "namespace": namespace,
            "subnet": subnet,
            "nodeName": node_name,
            "ipAddress": ",".join(v4 + v6),
            "v4IpAddress": v4[0] if v4 else "",
            "v6IpAddress": v6[0] if v6 else "",
            "macAddress": mac or "",
            "podType": pod_type,
            "attachSubnets": [],
            "attachIps": [],
            "attachMacs": [],
            "containerID": container_id,
        },
    }


def parse_ip_object(*, body: Mapping[str, Any]) -> IpRecord:
    """Read an IP object back into an :class:`IpRecord`.

    Required: ``metadata.name``, ``spec.subnet`` and at least one address
    (``spec.v4IpAddress``/``spec.v6IpAddress``, else ``spec.ipAddress``, which
    older Kube-OVN objects may hold alone). Everything else defaults to empty.
    Raises :class:`IpObjectError` naming the field and value when a required
    field is missing or an address or MAC is malformed.
    """
    metadata = object_meta(body)
    name = meta_name(metadata)
    if name is None:
        raise IpObjectError("missing", field="metadata.name", value=metadata.get("name"))
    spec = body.get("spec")
    if not isinstance(spec, Mapping):
        raise IpObjectError(
            f"IP {name!r}: expected an object, got {describe(spec)}", field="spec", value=spec
        )
    subnet = _str(spec, "subnet", name)
    if not subnet:
        raise IpObjectError(f"IP {name!r}: missing", field="spec.subnet", value=subnet)

    by_family: dict[int, str] = {}
    for key, want in (("v4IpAddress", 4), ("v6IpAddress", 6)):
        text = _str(spec, key, name).strip()
        if text:
            version, canonical = _ip(text, field=f"spec.{key}", name=name)
            if version != want:
                raise IpObjectError(
                    f"IP {name!r}: {text!r} is not an IPv{want} address",
                    field=f"spec.{key}",
                    value=text,
                )
            by_family[version] = canonical
    if not by_family:
        combined = _str(spec, "ipAddress", name)
        for part in (p.strip() for p in combined.split(",")):
            if part:
                version, canonical = _ip(part, field="spec.ipAddress", name=name)
                if version in by_family:
                    raise IpObjectError(
                        f"IP {name!r}: two IPv{version} addresses in {combined!r}",
                        field="spec.ipAddress",
                        value=combined,
                    )
                by_family[version] = canonical
    if not by_family:
        raise IpObjectError(
            f"IP {name!r}: no address in spec.v4IpAddress, spec.v6IpAddress or spec.ipAddress",
            field="spec.ipAddress",
            value=spec.get("ipAddress"),
        )

    mac_text = _str(spec, "macAddress", name).strip()
    mac: str | None = None
    if mac_text:
        try:
            mac = canonical_mac(mac_text)
        except ValueError:
            raise IpObjectError(
                f"IP {name!r}: {mac_text!r} is not a valid MAC address",
                field="spec.macAddress",
                value=mac_text,
            ) from None

    return IpRecord(
        name=name,
        subnet=subnet,
        ips=tuple(by_family[v] for v in (4, 6) if v in by_family),
        mac=mac,
        pod_name=_str(spec, "podName", name),
        namespace=_str(spec, "namespace", name),
        node_name=_str(spec, "nodeName", name),
        pod_type=_str(spec, "podType", name),
        container_id=_str(spec, "containerID", name),
    )


def _str(spec: Mapping[str, Any], key: str, name: str) -> str:
    value = spec.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise IpObjectError(
            f"IP {name!r}: expected a string, got {describe(value)} {value!r}",
            field=f"spec.{key}",
            value=value,
        )
    return value


def _ip(text: str, *, field: str, name: str) -> tuple[int, str]:
    try:
        return canonical_ip(text)
    except ValueError:
        raise IpObjectError(
            f"IP {name!r}: {text!r} is not a valid IP address", field=field, value=text
        ) from None
