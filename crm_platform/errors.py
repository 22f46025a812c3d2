"""Domain errors: values with a code, parameters and field paths, mapped to HTTP in one place.

Every error the platform raises on purpose derives from `LoomError`. The message is not
fixed at raise time: the error handler renders `code` + `params` in the caller's locale
through `crm_platform.i18n`, so the same error reads in English or Chinese.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


class ConfigError(Exception):
    """The process is misconfigured (bad environment variable); not a request error."""


@dataclass(frozen=True)
class FieldError:
    """A problem with one input field: `path` like `admin.email` or `lines[2].qty`."""

    path: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)


class LoomError(Exception):
    """Base of every error a request may legitimately end with."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        code: str | None = None,
        fields: Iterable[FieldError] = (),
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> None:
        self.code = code or type(self).code
        self.fields = list(fields)
        self.params = params
        self.headers = headers or {}
        super().__init__(self.code, params)

    def with_status(self, status: int) -> LoomError:
        self.status = status
        return self


class BadRequest(LoomError):
    status = 400
    code = "bad_request"


class Unauthorized(LoomError):
    status = 401
    code = "unauthorized"


class Forbidden(LoomError):
    status = 403
    code = "forbidden"


class NotFound(LoomError):
    status = 404
    code = "not_found"


class Conflict(LoomError):
    status = 409
    code = "conflict"


class PayloadTooLarge(LoomError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(LoomError):
    status = 415
    code = "unsupported_media_type"


class ValidationFailed(LoomError):
    """Input was understood but is wrong; `fields` says where and why."""

    status = 422
    code = "validation_failed"

    def under(self, prefix: str) -> ValidationFailed:
        """The same error with every field path moved under `prefix` (`email` → `admin.email`)."""
        self.fields = [FieldError(f"{prefix}.{f.path}" if f.path else prefix, f.code, f.params)
                       for f in self.fields]
        return self

    def moved(self, old: str, new: str, keys: set[str]) -> ValidationFailed:
        """The same error with the paths of `keys` under body key `old` moved to `new`
        (`data.x` → `fields.x`): the record's fields as named by a request that sent them
        elsewhere. Problems with other fields keep their paths."""
        def path(current: str) -> str:
            head, _, rest = current.partition(".")
            key = rest.split(".")[0].split("[")[0]
            return f"{new}.{rest}" if head == old and key in keys else current

        self.fields = [FieldError(path(f.path), f.code, f.params) for f in self.fields]
        return self


class TooManyRequests(LoomError):
    status = 429
    code = "too_many_requests"

    def __init__(self, retry_after: int, code: str | None = None, **params: Any) -> None:
        super().__init__(code, headers={"Retry-After": str(retry_after)}, seconds=retry_after,
                         **params)


def engine_fields(problems: Iterable[Any], locale: str, prefix: str = "") -> list[FieldError]:
    """The form engine's problems as field errors, their messages rendered in `locale`
    (`prefix` moves them under a body key: `name` → `data.name`)."""
    return [FieldError(f"{prefix}.{problem.path}" if prefix and problem.path
                       else problem.path or prefix, problem.code,
                       {"text": problem.message(locale)})
            for problem in problems]


def invalid(path: str, code: str, **params: Any) -> ValidationFailed:
    """Shorthand for a validation error about a single field."""
    return ValidationFailed(fields=[FieldError(path, code, params)])
