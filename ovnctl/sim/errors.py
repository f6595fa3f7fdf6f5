"""Kubernetes ``Status`` errors raised by the store and rendered by the server.

Every failure the simulated API server reports reaches the client as a
``v1/Status`` object with the HTTP code, ``reason`` and ``details`` the real
API server would use, because clients (the Python client, Kopf, kubectl) branch
on those fields: a conflict must look like a conflict, never like a 500.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "status_body"]


class ApiError(Exception):
    """A request failure with its Kubernetes ``Status`` code and reason."""

    def __init__(
        self,
        *,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    @classmethod
    def _about_object(
        cls, code: int, reason: str, says: str, *, kind: str, name: str, group: str
    ) -> ApiError:
        """An error about one object; ``says`` has ``{}`` where upstream names it."""
        qualified = f"{kind}.{group}" if group else kind
        return cls(
            code=code,
            reason=reason,
            message=says.format(f'{qualified} "{name}"'),
            details={"name": name, "group": group, "kind": kind},
        )

    @classmethod
    def not_found(cls, *, kind: str, name: str, group: str = "") -> ApiError:
        """The object ``name`` of resource ``kind`` (a plural, as upstream says) is absent."""
        return cls._about_object(404, "NotFound", "{} not found", kind=kind, name=name, group=group)

    @classmethod
    def already_exists(cls, *, kind: str, name: str, group: str = "") -> ApiError:
        return cls._about_object(
            409, "AlreadyExists", "{} already exists", kind=kind, name=name, group=group
        )

    @classmethod
    def conflict(cls, *, kind: str, name: str, group: str = "") -> ApiError:
        return cls._about_object(
            409,
            "Conflict",
            "Operation cannot be fulfilled on {}: the object has been modified; "
            "please apply your changes to the latest version and try again",
            kind=kind,
            name=name,
            group=group,
        )

    @classmethod
    def bad_request(cls, message: str) -> ApiError:
        return cls(code=400, reason="BadRequest", message=message)

    @classmethod
    def invalid(cls, message: str, *, kind: str = "", name: str = "") -> ApiError:
        return cls(
            code=422,
            reason="Invalid",
            message=message,
            details={"name": name, "kind": kind},
        )

    @classmethod
    def gone(cls, message: str) -> ApiError:
        return cls(code=410, reason="Expired", message=message)

    @classmethod
    def method_not_allowed(cls, message: str) -> ApiError:
        return cls(code=405, reason="MethodNotAllowed", message=message)

    @classmethod
    def unsupported_media_type(cls, message: str) -> ApiError:
        return cls(code=415, reason="UnsupportedMediaType", message=message)

    def status(self) -> dict[str, Any]:
        """The ``v1/Status`` object that describes this error."""
        return status_body(
            code=self.code, reason=self.reason, message=self.message, details=self.details
        )


def status_body(
    *,
    code: int,
    reason: str,
    message: str,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``v1/Status`` failure object, as the API server sends it in a body or watch ERROR."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return body
