"""A2A errors as JSON-RPC error objects, with the ``google.rpc.ErrorInfo`` details the spec requires."""

from __future__ import annotations

from a2a.utils.errors import (  # noqa: F401 - re-exported for the handlers
    A2A_ERROR_REASONS,
    JSON_RPC_ERROR_CODE_MAP,
    A2AError,
    ContentTypeNotSupportedError,
    ExtendedAgentCardNotConfiguredError,
    InternalError,
    InvalidParamsError,
    InvalidRequestError,
    JSONParseError,
    MethodNotFoundError,
    PushNotificationNotSupportedError,
    TaskNotCancelableError,
    TaskNotFoundError,
    UnsupportedOperationError,
    VersionNotSupportedError,
)

ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
DOMAIN = "a2a-protocol.org"
OWN_DOMAIN = "smarts-alert-analyzer"


class RateLimitedError(A2AError):
    """Too many sends. A2A 1.0 has no code for back-pressure; -32000 is JSON-RPC's implementation-defined
    server error (outside A2A's -32001…-32099), and the ErrorInfo reason, in this service's domain, says
    what it is. Answered with HTTP 429 and Retry-After."""


OWN_ERRORS = {RateLimitedError: (-32000, "RATE_LIMIT_EXCEEDED")}


def error_object(error: A2AError) -> dict:
    code, reason = OWN_ERRORS.get(type(error), (None, None))
    domain = OWN_DOMAIN if code is not None else DOMAIN
    code = code if code is not None else JSON_RPC_ERROR_CODE_MAP.get(type(error), -32603)
    reason = reason or A2A_ERROR_REASONS.get(type(error), "UNKNOWN_ERROR")
    metadata = {str(k): str(v) for k, v in (error.data or {}).items()}
    return {"code": code, "message": error.message,
            "data": [{"@type": ERROR_INFO, "reason": reason, "domain": domain, "metadata": metadata}]}


def error_response(request_id, error: A2AError) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "error": error_object(error)}
