"""Label and field selectors, as the API server parses and applies them.

List and watch requests carry ``labelSelector`` and ``fieldSelector`` query
parameters; clients (Kopf's ``settings.watching``, ``kubectl -l``, informers)
rely on the server filtering, so the grammar follows
``k8s.io/apimachinery/pkg/labels`` and ``pkg/fields``: ``=``, ``==``, ``!=``,
``in``, ``notin``, bare key (exists) and ``!key`` (does not exist).
Malformed selectors raise :class:`~ovnctl.sim.errors.ApiError` (400).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ovnctl.sim.errors import ApiError

__all__ = ["Matcher", "match_all", "parse_field_selector", "parse_label_selector"]

Matcher = Callable[[Mapping[str, Any]], bool]

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_KEY_RE = re.compile(rf"^{_KEY}$")
_VALUE_RE = re.compile(rf"^{_VALUE}$")


def match_all(obj: Mapping[str, Any]) -> bool:
    return True


def _split_terms(selector: str) -> list[str]:
    """Split on commas that are not inside ``( ... )`` of an ``in``/``notin`` set."""
    terms: list[str] = []
    depth = 0
    current: list[str] = []
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ApiError.bad_request(
                    f"unable to parse requirement: unbalanced ')' in {selector!r}"
                )
        if char == "," and depth == 0:
            terms.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if depth != 0:
        raise ApiError.bad_request(f"unable to parse requirement: unbalanced '(' in {selector!r}")
    terms.append("".join(current).strip())
    return [term for term in terms if term]


def _check_key(key: str, selector: str) -> str:
    if not _KEY_RE.match(key):
        raise ApiError.bad_request(
            f"unable to parse requirement: invalid label key {key!r} in {selector!r}"
        )
    return key


def _check_value(value: str, selector: str) -> str:
    if not _VALUE_RE.match(value):
        raise ApiError.bad_request(
            f"unable to parse requirement: invalid label value {value!r} in {selector!r}"
        )
    return value


_SET_RE = re.compile(r"^(?P<key>\S+)\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")


def _label_term(term: str, selector: str) -> Callable[[Mapping[str, str]], bool]:
    match = _SET_RE.match(term)
    if match:
        key = _check_key(match["key"], selector)
        values = frozenset(_check_value(v.strip(), selector) for v in match["values"].split(","))
        if match["op"] == "in":
            return lambda labels: labels.get(key) in values
        # notin also matches objects that lack the key, as upstream does.
        return lambda labels: labels.get(key) not in values
    for op in ("!=", "==", "="):
        if op in term:
            raw_key, _, raw_value = term.partition(op)
            key = _check_key(raw_key.strip(), selector)
            value = _check_value(raw_value.strip(), selector)
            if op == "!=":
                return lambda labels: labels.get(key) != value
            return lambda labels: key in labels and labels[key] == value
    if term.startswith("!"):
        key = _check_key(term[1:].strip(), selector)
        return lambda labels: key not in labels
    key = _check_key(term, selector)
    return lambda labels: key in labels


def parse_label_selector(selector: str | None) -> Matcher:
    """A predicate over objects for a ``labelSelector`` string (empty selects everything)."""
    if not selector or not selector.strip():
        return match_all
    terms = [_label_term(term, selector) for term in _split_terms(selector)]

    def matches(obj: Mapping[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(term(labels) for term in terms)

    return matches


def _field_value(obj: Mapping[str, Any], path: tuple[str, ...]) -> str:
    current: Any = obj
    for part in path:
        if not isinstance(current, Mapping):
            return ""
        current = current.get(part)
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


def parse_field_selector(selector: str | None) -> Matcher:
    """A predicate over objects for a ``fieldSelector`` string (``=``, ``==``, ``!=``).

    Any dotted path is accepted (the real server accepts only fields each
    kind registers, such as ``metadata.name``, ``metadata.namespace``,
    ``spec.nodeName`` and ``status.phase`` for pods); a missing field
    compares as the empty string, as it does upstream.
    """
    if not selector or not selector.strip():
        return match_all
    tests: list[tuple[tuple[str, ...], str, bool]] = []
    for term in _split_terms(selector):
        for op in ("!=", "==", "="):
            if op in term:
                raw_key, _, value = term.partition(op)
                key = raw_key.strip()
                if not key or not all(key.split(".")):
                    raise ApiError.bad_request(f"invalid field selector term {term!r}")
                tests.append((tuple(key.split(".")), value.strip(), op != "!="))
                break
        else:
            raise ApiError.bad_request(f"invalid field selector: {term!r}: needs =, == or !=")

    def matches(obj: Mapping[str, Any]) -> bool:
        return all((_field_value(obj, path) == value) is equal for path, value, equal in tests)

    return matches
