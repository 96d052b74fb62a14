"""The served schema says everything a caller can get back: each operation's problem
responses (RFC 9457, ``application/problem+json``) and the scope its token needs.

ninja documents what a handler returns on success; the refusals come from
:mod:`api.auth`, :mod:`api.errors` and :mod:`api.middleware`, which ninja cannot see.
:class:`DocumentedAPI` adds them to every operation, so a client generator (and
schemathesis, which checks every response against the schema) knows them.
"""

from __future__ import annotations

from ninja import NinjaAPI

PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "errors"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Every bad field; for a batch, every bad item with its index.",
            "items": {
                "type": "object",
                "required": ["message"],
                "properties": {
                    "index": {"type": "integer"},
                    "field": {"type": ["string", "null"]},
                    "message": {"type": "string"},
                },
            },
        },
    },
}

# Every operation may answer these (auth, the body cap, validation, a bad value, the rate limit).
COMMON = {
    400: "Bad request: a token in the URL, a body that is not JSON, a value that cannot be stored.",
    401: "No token, or a malformed, unknown, revoked or expired one.",
    403: "The token's client lacks the operation's scope, or the service refuses the step.",
    404: "No such customer, ticket or order.",
    422: "The request does not validate; `errors` lists every bad field or item.",
    429: "Over the client's calls per minute; see `Retry-After`.",
}
WRITES = {
    409: "The record's state refuses the step now (a closed ticket, an open request).",
    413: "The body is over the size cap.",
}


def _problem_response(description: str) -> dict:
    return {"description": description, "content": {"application/problem+json": {"schema": PROBLEM_REF}}}


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


class DocumentedAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
        scopes = _scopes_by_operation_id(self)
        for path in schema.get("paths", {}).values():
            for method, operation in path.items():
                responses = operation.setdefault("responses", {})
                extra = {**COMMON, **(WRITES if method != "get" else {})}
                for status, description in extra.items():
                    if status not in responses and str(status) not in responses:
                        responses[status] = _problem_response(description)
                scope = scopes.get(operation.get("operationId"))
                if scope:
                    operation["x-scope"] = scope
                    operation["description"] = (operation.get("description", "") + f"\n\nScope: `{scope}`.").strip()
        return schema


def _scopes_by_operation_id(api: NinjaAPI) -> dict[str, str]:
    found = {}
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                scope = next((getattr(a, "scope", None) for a in operation.auth_callbacks), None)
                found[operation.operation_id or api.get_openapi_operation_id(operation)] = scope
    return found
