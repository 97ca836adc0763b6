"""Which AWS API actions each caller made against the local target.

Least privilege is measured, not asserted (docs/requirements.md#least-privilege):
the end-to-end tests drive the served Oracle (smoke, nonce rotation, FP
events) and compare the actions recorded here with what its roles grant.

Every request is attributed to a caller and an IAM action:

- the caller is ``lambda`` when the request comes from a function the target
  runs (its SDK's User-Agent carries ``exec-env/AWS_Lambda_...``, from the
  ``AWS_EXECUTION_ENV`` the runtime sets), else the access key id of its
  SigV4 ``Authorization`` header (a test gives each identity its own key),
  else ``anonymous``;
- the action is ``<iam prefix>:<operation>``: the signing name of the
  credential scope (``monitoring`` is IAM's ``cloudwatch``) and the operation
  from ``X-Amz-Target`` (JSON protocols), the ``/service/.../operation/<op>``
  path (Smithy RPC v2), the ``Action`` form field (query protocols), or
  ``Invoke`` for ``execute-api``. A REST request (S3, Lambda's API) is recorded
  as ``<prefix>:<METHOD> <path>``: the tests compare only the callers they
  drive, whose services are all named above.

``GET /_localaws/api-calls`` answers ``[{"caller", "action"}, ...]`` in call
order; ``DELETE`` empties the record. The record lives in the target's memory
only: it holds no request data, no parameters, no values.
"""
from __future__ import annotations

import io
import json
import re
import threading
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

PATH = "/_localaws/api-calls"
SIGNING_TO_IAM = {"monitoring": "cloudwatch", "execute-api": "execute-api", "email": "ses"}
_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/[^/]+/([^/]+)/aws4_request")
_RPC_V2 = re.compile(r"^/service/[^/]+/operation/([A-Za-z0-9]+)$")
_LAMBDA_UA = re.compile(r"exec-env/AWS_Lambda_")
# Bodies above this are not parsed for a query-protocol Action (none of the
# recorded services send large form bodies; S3 uploads are REST).
_MAX_FORM_BYTES = 1 << 20


def caller_of(environ: dict) -> str:
    if _LAMBDA_UA.search(environ.get("HTTP_USER_AGENT", "")):
        return "lambda"
    scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    return scope.group(1) if scope else "anonymous"


def action_of(environ: dict, body: bytes | None) -> str | None:
    """The IAM action of one request, or None when it is not an AWS API call (the target's own endpoints)."""
    scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not scope:
        return None
    prefix = SIGNING_TO_IAM.get(scope.group(2), scope.group(2))
    if prefix == "execute-api":
        return "execute-api:Invoke"
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return f"{prefix}:{target.rsplit('.', 1)[-1]}"
    path = environ.get("PATH_INFO", "")
    rpc = _RPC_V2.match(path)
    if rpc:
        return f"{prefix}:{rpc.group(1)}"
    if body is not None:
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return f"{prefix}:{action[0]}"
    query = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if query:
        return f"{prefix}:{query[0]}"
    return f"{prefix}:{environ.get('REQUEST_METHOD', 'GET')} {path}"


class ApiCallRecorder:
    """WSGI middleware in front of the whole target (see the module docstring)."""

    def __init__(self, app: Callable) -> None:
        self.app = app
        self.calls: list[dict[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == PATH:
            return self._answer(environ, start_response)
        body = None
        form = environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if form and 0 < length <= _MAX_FORM_BYTES:
            # Read the form once and hand the same bytes on: the service must see the body unchanged.
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
        action = action_of(environ, body)
        if action is not None:
            with self.lock:
                self.calls.append({"caller": caller_of(environ), "action": action})
        return self.app(environ, start_response)

    def _answer(self, environ: dict, start_response: Callable) -> list[bytes]:
        method = environ.get("REQUEST_METHOD")
        if method == "DELETE":
            with self.lock:
                self.calls.clear()
            payload: Any = {"cleared": True}
        elif method == "GET":
            with self.lock:
                payload = list(self.calls)
        else:
            start_response("405 Method Not Allowed", [("Content-Type", "application/json"), ("Allow", "GET, DELETE")])
            return [b'{"error": "GET or DELETE"}']
        data = json.dumps(payload).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]
