"""Matrix errors as typed exceptions at the adapter boundary."""

from __future__ import annotations

from typing import Any


class HomeserverUnreachable(Exception):
    """Synapse did not answer at all (not running, wrong URL)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"the homeserver at {url} is not reachable ({reason}); is it running?")
        self.url = url


class MatrixError(Exception):
    """Synapse answered with an error. `errcode` is the Matrix error code."""

    def __init__(self, status: int, errcode: str, error: str, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {errcode}: {error}")
        self.status = status
        self.errcode = errcode
        self.error = error
        self.body = body


class Forbidden(MatrixError):
    pass


class NotFound(MatrixError):
    pass


class UserInUse(MatrixError):
    pass


class UnknownToken(MatrixError):
    pass


class LimitExceeded(MatrixError):
    @property
    def retry_after_s(self) -> float:
        return float(self.body.get("retry_after_ms", 1000)) / 1000


_BY_CODE: dict[str, type[MatrixError]] = {
    "M_FORBIDDEN": Forbidden,
    "M_NOT_FOUND": NotFound,
    "M_USER_IN_USE": UserInUse,
    "M_UNKNOWN_TOKEN": UnknownToken,
    "M_MISSING_TOKEN": UnknownToken,
    "M_LIMIT_EXCEEDED": LimitExceeded,
}


def matrix_error(status: int, body: dict[str, Any]) -> MatrixError:
    errcode = str(body.get("errcode", "M_UNKNOWN"))
    kind = _BY_CODE.get(errcode, MatrixError)
    if kind is MatrixError and status == 404:
        kind = NotFound
    return kind(status, errcode, str(body.get("error", "")), body)
