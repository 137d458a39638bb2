"""Error answers: the HTTP status and JSON body of each error the server
gives, and ApiError, which carries one up to the handler."""

import json

# --- Error bodies ------------------------------------------------------------

PERMISSIONS_MESSAGE = (
    "Invalid permissions, or the requested model was not found. Check that both your user and "
    "your token have the required permissions, and that the model names and/or ids are correct.")
ERR_AUTH = {"error": {"type": "AUTHENTICATION_REQUIRED", "message": "Authentication required"}}
ERR_PERMISSIONS = {"error": {"type": "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
                             "message": PERMISSIONS_MESSAGE}}
ERR_NOT_FOUND = {"error": "NOT_FOUND"}
ERR_RATE_LIMIT = {"error": {"type": "RATE_LIMIT_REACHED",
                            "message": "Rate limit exceeded. Please try again later"}}
ERR_ITERATOR = {"error": {"type": "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"}}
INVALID_REQUEST_MESSAGE = "Invalid request: parameter validation failed. Check your request data."

# Bodies a "status" fault sends when the script gives none.
DEFAULT_STATUS_BODIES = {
    401: ERR_AUTH,
    403: ERR_PERMISSIONS,
    404: ERR_NOT_FOUND,
    413: {"error": {"type": "REQUEST_TOO_LARGE"}},
    422: {"error": {"type": "INVALID_REQUEST_UNKNOWN", "message": INVALID_REQUEST_MESSAGE}},
    429: ERR_RATE_LIMIT,
    500: {"error": {"type": "SERVER_ERROR", "message": "Server error"}},
    502: {"error": {"type": "BAD_GATEWAY"}},
    503: {"error": {"type": "RETRIABLE_ERROR"}},
}


class ApiError(Exception):
    """An error answer: HTTP status and JSON body."""

    def __init__(self, status, body):
        super().__init__(status, body)
        self.status = status
        self.body = body


def invalid_request(message=INVALID_REQUEST_MESSAGE):
    # Airtable docs, Errors: 422 INVALID_REQUEST_UNKNOWN for requests that fail validation.
    return ApiError(422, {"error": {"type": "INVALID_REQUEST_UNKNOWN", "message": message}})


def unknown_field(name):
    # Seen in the wild (not documented): 422 UNKNOWN_FIELD_NAME for an unknown fields[] entry.
    return ApiError(422, {"error": {"type": "UNKNOWN_FIELD_NAME",
                                    "message": "Unknown field name: %s" % json.dumps(name, ensure_ascii=False)}})


def invalid_edit(message):
    # Control API (test server's own): a body it cannot read is 400 INVALID_EDIT.
    return ApiError(400, {"error": {"type": "INVALID_EDIT", "message": message}})


def duplicate_field_name(name):
    # A field name that is taken or empty.  The error type is test server's
    # choice (not in docs/airtable-api.md: Airtable's field edits were not checked).
    return ApiError(422, {"error": {"type": "DUPLICATE_OR_EMPTY_FIELD_NAME",
                                    "message": "Duplicate or empty field name: %s" % json.dumps(name, ensure_ascii=False)}})
