"""HTTP API invocation on the local target: a request to a deployed HTTP API
runs the integrated Lambda function's deployed code.

moto models API Gateway v2 and Lambda but invokes nothing (no container
engine). Here, a request to

    http://localhost:<port>/_aws/execute-api/<api id>/<path>

(the path-style address LocalStack uses too) is matched against the API's
routes (``METHOD /path``, then ``$default``) as HTTP APIs do; a route with
``AWS_IAM`` authorization needs a SigV4 ``Authorization`` header for the
``execute-api`` service (403 otherwise; like every moto service, the
signature itself is not verified). The integration's function must grant
``apigateway.amazonaws.com`` ``lambda:InvokeFunction`` for this route's
``execute-api`` ARN (its ``AWS::Lambda::Permission``), or the API answers 500
as AWS does. The function then runs from its **deployed** asset (the zip
moto stored at CreateFunction/UpdateFunctionCode), in a subprocess, with
its **deployed** environment variables plus what the Lambda runtime sets
(region, function name, credentials, here the target's test keys and
``AWS_ENDPOINT_URL`` pointing back at the target), so it reads and writes
the target's own DynamoDB and SSM. The event is payload format 2.0; the
function's return value maps to the HTTP response as API Gateway maps it.

Like a Lambda execution environment, the process stays warm between
requests (module state, such as a circuit breaker, survives) and is replaced
when the function's code or configuration changes. One invocation at a
time per function; over the function timeout the process is killed and the
API answers 503. The function's output goes to its log group, as in Lambda.

Test hook: a request header ``X-LocalAws-Now: <epoch seconds>`` makes the
function see that instant from ``time.time()`` during that invocation only,
and moves ``time.monotonic()`` by the same offset (so the Oracle's parameter
cache expires as it would that much later): the nonce grace period is tested
at chosen instants, never by sleeping. It exists only on the local target.
"""
from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

PREFIX = "/_aws/execute-api/"
NOW_HEADER = "HTTP_X_LOCALAWS_NOW"

_RUNNER = r'''
import importlib, json, os, sys, time, traceback
_real_time, _real_monotonic, _now = time.time, time.monotonic, [None]
time.time = lambda: _now[0] if _now[0] is not None else _real_time()
# The monotonic clock moves with it (caches and breakers expire as they would that much later).
time.monotonic = lambda: _real_monotonic() + (_now[0] - _real_time() if _now[0] is not None else 0.0)
out = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)                      # the function's prints go to its log, never into the protocol
sys.stdout = sys.stderr
sys.path.insert(0, os.getcwd())
module_name, function_name = os.environ["_HANDLER"].rsplit(".", 1)
handler = getattr(importlib.import_module(module_name), function_name)
class Context:
    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
    aws_request_id = ""
    def get_remaining_time_in_millis(self):
        return 30000
for line in sys.stdin:
    request = json.loads(line)
    _now[0] = request.get("now")
    context = Context()
    context.aws_request_id = request["request_id"]
    try:
        answer = {"result": handler(request["event"], context)}
    except Exception as exc:  # the function's own failure: Lambda reports it, the API answers 500
        traceback.print_exc()
        answer = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
    _now[0] = None
    sys.stderr.flush()
    out.write(json.dumps(answer, default=str) + "\n")
    out.flush()
'''


class Invocation(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class _Worker:
    """One warm execution environment of one function version."""

    def __init__(self, fn, account_id: str, region: str, endpoint: str):
        self.lock = threading.Lock()
        self.fingerprint = _fingerprint(fn)
        self.dir = Path(tempfile.mkdtemp(prefix=f"localaws-{fn.function_name}-"))
        with zipfile.ZipFile(io.BytesIO(fn.code_bytes)) as archive:
            archive.extractall(self.dir)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
               **{k: str(v) for k, v in (fn.environment_vars or {}).items()},
               "_HANDLER": fn.handler, "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
               "AWS_LAMBDA_FUNCTION_NAME": fn.function_name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
               "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
               # The function's role credentials, on the local target its test keys; every
               # AWS call goes back to the target itself.
               "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "test",
               "AWS_ENDPOINT_URL": endpoint, "PYTHONDONTWRITEBYTECODE": "1"}
        self.log_group = (getattr(fn, "logging_config", None) or {}).get("LogGroup") or f"/aws/lambda/{fn.function_name}"
        self.account_id, self.region = account_id, region
        self.timeout = float(fn.timeout or 3)
        self.process = subprocess.Popen([sys.executable, "-c", _RUNNER], cwd=self.dir, env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.logs: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        for line in self.process.stderr:
            self.logs.append(line.rstrip("\n"))

    def alive(self) -> bool:
        return self.process.poll() is None

    def invoke(self, event: dict, now: float | None) -> Any:
        request_id = str(uuid.uuid4())
        answer: list[str] = []
        reader = threading.Thread(target=lambda: answer.append(self.process.stdout.readline()), daemon=True)
        try:
            self.process.stdin.write(json.dumps({"event": event, "now": now, "request_id": request_id}) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise Invocation(502, "the function's execution environment exited") from None
        reader.start()
        reader.join(self.timeout + 5)  # first invocation includes the import ("cold start")
        if not answer or not answer[0]:
            self.stop()
            raise Invocation(503, f"the function did not answer within its timeout ({self.timeout:g}s)")
        self._ship_logs(request_id)
        reply = json.loads(answer[0])
        if "result" not in reply:
            raise Invocation(500, f"{reply.get('errorType')}: {reply.get('errorMessage')}")
        return reply["result"]

    def _ship_logs(self, request_id: str) -> None:
        lines, self.logs[:] = list(self.logs), []
        try:
            from moto.logs.models import logs_backends

            backend = logs_backends[self.account_id][self.region]
            if self.log_group not in backend.groups:
                return
            stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{self.fingerprint[:32]}"
            if stream not in backend.groups[self.log_group].streams:
                backend.create_log_stream(self.log_group, stream)
            now = int(time.time() * 1000)
            events = [{"timestamp": now, "message": m} for m in
                      [f"START RequestId: {request_id}", *lines, f"END RequestId: {request_id}"]]
            backend.put_log_events(self.log_group, stream, events)
        except Exception:  # noqa: BLE001 - logs are a convenience; the answer must not depend on them
            pass

    def stop(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)  # the unpacked asset goes with its environment


_WORKERS: dict[str, _Worker] = {}
_WORKERS_LOCK = threading.Lock()


def _fingerprint(fn) -> str:
    config = json.dumps([fn.handler, fn.environment_vars, fn.timeout, fn.memory_size], sort_keys=True, default=str)
    return hashlib.sha256(fn.code_bytes + config.encode()).hexdigest()


def _worker(fn, account_id: str, region: str, endpoint: str) -> _Worker:
    with _WORKERS_LOCK:
        worker = _WORKERS.get(fn.function_arn)
        if worker is None or not worker.alive() or worker.fingerprint != _fingerprint(fn):
            if worker is not None:
                worker.stop()
            worker = _WORKERS[fn.function_arn] = _Worker(fn, account_id, region, endpoint)
        return worker


def stop_all() -> None:
    with _WORKERS_LOCK:
        for worker in _WORKERS.values():
            worker.stop()
        _WORKERS.clear()


# ---- request handling -------------------------------------------------------

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")


def _route(api, method: str, path: str):
    routes = {r.route_key: r for r in api.routes.values()}
    return routes.get(f"{method} {path}") or routes.get(f"ANY {path}") or routes.get("$default")


def _permitted(fn, source_arn: str) -> bool:
    for statement in fn.policy.statements if fn.policy else []:
        if "apigateway.amazonaws.com" not in json.dumps(statement.get("Principal")):
            continue
        if statement.get("Effect", "Allow") != "Allow":
            continue
        patterns = [v for op in (statement.get("Condition") or {}).values() for k, v in op.items()
                    if k.lower() == "aws:sourcearn"]
        if not patterns or any(fnmatch.fnmatchcase(source_arn, p) for p in patterns):
            return True
    return False


def _event(environ, api_id: str, route_key: str, method: str, path: str, body: bytes, account_id: str) -> dict:
    headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    now = time.time()
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        import base64

        text, encoded = base64.b64encode(body).decode(), True
    return {
        "version": "2.0", "routeKey": route_key, "rawPath": path, "rawQueryString": environ.get("QUERY_STRING", ""),
        "headers": headers, "body": text if body else None, "isBase64Encoded": encoded,
        "requestContext": {
            "accountId": account_id, "apiId": api_id, "domainName": headers.get("host", ""), "stage": "$default",
            "requestId": str(uuid.uuid4()), "routeKey": route_key, "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
            "http": {"method": method, "path": path, "protocol": environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                     "sourceIp": environ.get("REMOTE_ADDR", "127.0.0.1"), "userAgent": headers.get("user-agent", "")},
        },
    }


def _http(result: Any) -> tuple[int, dict[str, str], bytes]:
    """Payload 2.0 response mapping: a dict with statusCode is the response; anything else is a 200 JSON body."""
    if isinstance(result, dict) and "statusCode" in result:
        body = result.get("body") or ""
        if result.get("isBase64Encoded"):
            import base64

            data = base64.b64decode(body)
        else:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        return int(result["statusCode"]), headers, data
    return 200, {"content-type": "application/json"}, json.dumps(result).encode()


def handle(environ) -> tuple[int, dict[str, str], bytes]:
    from moto.apigatewayv2.models import apigatewayv2_backends
    from moto.awslambda.models import lambda_backends

    rest = environ["PATH_INFO"][len(PREFIX):]
    api_id, _, path = rest.partition("/")
    path = "/" + path
    method = environ["REQUEST_METHOD"].upper()
    auth = environ.get("HTTP_AUTHORIZATION", "")
    scope = _SCOPE.search(auth)
    region = scope.group(1) if scope else os.environ.get("AWS_REGION", "us-east-1")
    account_id = os.environ.get("MOTO_ACCOUNT_ID", "123456789012")
    api = apigatewayv2_backends[account_id][region].apis.get(api_id)
    if api is None:
        return 404, {"content-type": "application/json"}, b'{"message":"Not Found"}'
    route = _route(api, method, path)
    if route is None:
        return 404, {"content-type": "application/json"}, b'{"message":"Not Found"}'
    if (route.authorization_type or "NONE") == "AWS_IAM" and not (
            auth.startswith("AWS4-HMAC-SHA256 ") and scope and scope.group(2) == "execute-api"):
        return 403, {"content-type": "application/json"}, b'{"message":"Forbidden"}'
    integration = api.integrations.get((route.target or "").removeprefix("integrations/"))
    if integration is None or integration.integration_type != "AWS_PROXY":
        return 500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}'
    function_ref = integration.integration_uri
    match = re.search(r"functions/(arn:[^/]+)/invocations", function_ref)
    function_ref = match.group(1) if match else function_ref
    try:
        fn = lambda_backends[account_id][region].get_function(function_ref)
    except Exception:  # noqa: BLE001 - moto raises several types for a missing function
        return 500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}'
    source_arn = f"arn:aws:execute-api:{region}:{account_id}:{api_id}/$default/{method}{path}"
    if not _permitted(fn, source_arn):
        # AWS: the integration fails with a permission error and the client sees 500.
        return 500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}'
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    event = _event(environ, api_id, route.route_key, method, path, body, account_id)
    now = environ.get(NOW_HEADER)
    endpoint = f"http://localhost:{environ.get('SERVER_PORT')}"
    worker = _worker(fn, account_id, region, endpoint)
    with worker.lock:
        try:
            result = worker.invoke(event, float(now) if now else None)
        except Invocation as exc:
            return exc.status, {"content-type": "application/json"}, json.dumps({"message": exc.message}).encode()
    return _http(result)


class ExecuteApi:
    """WSGI middleware in front of moto's app: ``/_aws/execute-api/...`` runs functions, the rest is moto."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if not environ.get("PATH_INFO", "").startswith(PREFIX):
            return self.app(environ, start_response)
        status, headers, body = handle(environ)
        reasons = {200: "OK", 201: "Created", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
                   500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        start_response(f"{status} {reasons.get(status, 'Status')}",
                       [*headers.items(), ("Content-Length", str(len(body)))])
        return [body]
