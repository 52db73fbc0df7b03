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


def error_object(error: A2AError) -> dict:
    code = JSON_RPC_ERROR_CODE_MAP.get(type(error), -32603)
    metadata = {str(k): str(v) for k, v in (error.data or {}).items()}
    return {"code": code, "message": error.message,
            "data": [{"@type": ERROR_INFO, "reason": A2A_ERROR_REASONS.get(type(error), "UNKNOWN_ERROR"),
                      "domain": DOMAIN, "metadata": metadata}]}


def error_response(request_id, error: A2AError) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "error": error_object(error)}
