"""``bin/gcp-smoke``: is a GCP environment serving, right after a release?

  bin/gcp-smoke --env staging                       the public services on their configured domains
  bin/gcp-smoke --env staging --url api=https://... --url websocket=wss://...   other endpoints

Checks, each PASS or FAIL with its evidence (docs/requirements.md#gcp-smoke):

1. ``GET <service>/health`` answers 200 for each public service (``services.<name>.public``);
2. a WebSocket upgrade on the WebSocket service answers ``101`` with the
   right ``Sec-WebSocket-Accept``, the socket stays open ``--hold`` seconds
   (the load balancer's and Cloud Run's timeouts would cut it), then a ping
   is answered by a pong: the socket still carries frames at the end;
3. ``--samples`` requests to the API's health: their p95 latency is at most
   the latency SLO (``slo.latency_threshold_ms``). What pages on-call must
   not already be the state right after a release.

Only ``https://`` / ``wss://`` endpoints, except on the loopback interface
(the offline tests serve on 127.0.0.1). No credentials: the services are public.

Exit status: 0 every check passed, 1 a check failed (or an endpoint is
unreachable), 2 usage or configuration error.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import math
import os
import socket
import ssl
import sys
import time
from dataclasses import dataclass
from typing import Sequence, TextIO
from urllib.parse import urlsplit

from envconfig.errors import ConfigError
from envconfig.gcp import Environment, GcpConfig, Service, load_environment

TIMEOUT_S = 10.0
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    evidence: str


def _target(url: str, schemes: tuple[str, str]) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an endpoint; ValueError with the rule when it is not allowed."""
    parts = urlsplit(url)
    secure, plain = schemes
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"{url[:120]!r}: must be a {secure}:// URL")
    if parts.scheme == plain and parts.hostname not in LOOPBACK:
        raise ValueError(f"{url[:120]!r}: {plain}:// only on the loopback interface; use {secure}://")
    port = parts.port or (443 if parts.scheme == secure else 80)
    return parts.scheme, parts.hostname, port, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _connection(scheme: str, host: str, port: int) -> http.client.HTTPConnection:
    if scheme in ("https", "wss"):
        return http.client.HTTPSConnection(host, port, timeout=TIMEOUT_S, context=ssl.create_default_context())
    return http.client.HTTPConnection(host, port, timeout=TIMEOUT_S)


def get(url: str) -> tuple[int, float]:
    """(status, seconds) of one GET; OSError when unreachable."""
    scheme, host, port, path = _target(url, ("https", "http"))
    conn = _connection(scheme, host, port)
    started = time.monotonic()
    try:
        conn.request("GET", path, headers={"User-Agent": "gcp-smoke"})
        response = conn.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    finally:
        conn.close()


def p95(values: Sequence[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _frame(opcode: int, payload: bytes = b"") -> bytes:
    """One masked client frame (RFC 6455 5.2; clients must mask), payload < 126 bytes."""
    mask = os.urandom(4)
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def _read_frame(sock: socket.socket) -> tuple[int, bytes] | None:
    """(opcode, payload) of one server frame; None when the server closed the connection."""
    head = _recv_exact(sock, 2)
    if head is None:
        return None
    length = head[1] & 0x7F
    if length == 126:
        ext = _recv_exact(sock, 2)
        length = int.from_bytes(ext or b"\0\0", "big")
    elif length == 127:
        ext = _recv_exact(sock, 8)
        length = int.from_bytes(ext or bytes(8), "big")
    payload = _recv_exact(sock, length) if length else b""
    return (head[0] & 0x0F, payload or b"")


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def websocket_hold(url: str, hold_seconds: float) -> Check:
    """Upgrade, hold the socket open, then ping: the evidence says where it failed."""
    scheme, host, port, path = _target(url, ("wss", "ws"))
    key = base64.b64encode(os.urandom(16)).decode()
    accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
    name = f"WebSocket upgrade held {hold_seconds:g} s at {url}"
    started = time.monotonic()
    raw = socket.create_connection((host, port), timeout=TIMEOUT_S)
    sock = ssl.create_default_context().wrap_socket(raw, server_hostname=host) if scheme == "wss" else raw
    try:
        request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nUser-Agent: gcp-smoke\r\n\r\n")
        sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 16384:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
        status_line, *header_lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        if not status_line.startswith("HTTP/1.1 101"):
            return Check(name, False, f"upgrade refused: {status_line[:120] or 'connection closed'}")
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
        if headers.get("sec-websocket-accept") != accept:
            return Check(name, False, "101 without the Sec-WebSocket-Accept RFC 6455 requires (not a WebSocket endpoint)")
        # Hold: nothing may arrive except pings; a close or EOF before the end fails.
        deadline = started + hold_seconds
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                frame = _read_frame(sock)
            except (socket.timeout, TimeoutError):
                break
            if frame is None or frame[0] == 0x8:
                return Check(name, False, f"closed by the server after {time.monotonic() - started:.1f} s")
            if frame[0] == 0x9:
                sock.sendall(_frame(0xA, frame[1]))
        sock.settimeout(TIMEOUT_S)
        sock.sendall(_frame(0x9, b"gcp-smoke"))
        try:
            while (frame := _read_frame(sock)) is not None and frame[0] != 0xA:
                if frame[0] == 0x8:
                    frame = None
                    break
        except (socket.timeout, TimeoutError):
            return Check(name, False, f"no pong within {TIMEOUT_S:g} s after the hold")
        if frame is None:
            return Check(name, False, "closed by the server instead of answering the ping")
        try:
            sock.sendall(_frame(0x8, (1000).to_bytes(2, "big")))
        except OSError:
            pass
        return Check(name, True, f"101, open {time.monotonic() - started:.1f} s, ping answered")
    finally:
        sock.close()


def default_urls(config: GcpConfig) -> dict[str, str]:
    """The public services on the configured custom domains (the load balancer)."""
    urls = {}
    for service, sc in config.services.items():
        if not sc.public:
            continue
        host = {Service.API: config.domains.api, Service.WEBSOCKET: config.domains.websocket}.get(service)
        if host:
            urls[service.value] = f"{'wss' if service is Service.WEBSOCKET else 'https'}://{host}/"
    return urls


def _health_url(url: str) -> str:
    parts = urlsplit(url)
    scheme = {"wss": "https", "ws": "http"}.get(parts.scheme, parts.scheme)
    return f"{scheme}://{parts.netloc}/health"


def run(config: GcpConfig, urls: dict[str, str], *, samples: int, hold_seconds: float, out: TextIO) -> int:
    public = [s.value for s, sc in config.services.items() if sc.public]
    missing = [name for name in public if name not in urls]
    if missing:
        raise ValueError(f"no endpoint for public service(s) {missing}: configure domains.<service> or pass --url {missing[0]}=URL")
    checks: list[Check] = []
    for name in public:
        target = _health_url(urls[name])
        try:
            status, seconds = get(target)
            checks.append(Check(f"{name} health", status == 200, f"GET {target} -> {status} in {seconds * 1000:.0f} ms"))
        except OSError as exc:
            checks.append(Check(f"{name} health", False, f"GET {target}: unreachable ({exc})"))
    if Service.WEBSOCKET.value in urls:
        try:
            checks.append(websocket_hold(urls[Service.WEBSOCKET.value], hold_seconds))
        except OSError as exc:
            checks.append(Check("WebSocket upgrade", False, f"{urls[Service.WEBSOCKET.value]}: unreachable ({exc})"))
    slo_ms = config.slo.latency_threshold_ms
    target = _health_url(urls.get(Service.API.value, urls[public[0]]))
    times, failures = [], 0
    for _ in range(samples):
        try:
            status, seconds = get(target)
            times.append(seconds * 1000)
            failures += status != 200
        except OSError:
            failures += 1
    if times:
        measured = p95(times)
        checks.append(Check(f"p95 of {samples} requests <= {slo_ms} ms (slo.latency_threshold_ms)",
                            measured <= slo_ms and not failures,
                            f"p95 {measured:.0f} ms, {failures} failed, at {target}"))
    else:
        checks.append(Check(f"p95 <= {slo_ms} ms", False, f"all {samples} requests to {target} failed"))
    for check in checks:
        print(f"{'PASS' if check.passed else 'FAIL'}  {check.name}: {check.evidence}", file=out, flush=True)
    failed = [c for c in checks if not c.passed]
    print(f"gcp-smoke: {config.stack_name}: {len(checks) - len(failed)} passed, {len(failed)} failed", file=out)
    return 1 if failed else 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gcp-smoke", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", required=True, choices=[e.value for e in Environment])
    p.add_argument("--url", action="append", default=[], metavar="SERVICE=URL",
                   help="endpoint of a public service instead of its configured domain")
    p.add_argument("--samples", type=int, default=20, help="requests for the p95 (default 20)")
    p.add_argument("--hold", type=float, default=5.0, help="seconds the WebSocket stays open (default 5)")
    return p


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = parser().parse_args(argv)
    try:
        if not 1 <= args.samples <= 1000:
            raise ValueError(f"--samples: must be 1-1000, got {args.samples}")
        if not 0 <= args.hold <= 300:
            raise ValueError(f"--hold: must be 0-300 seconds, got {args.hold:g}")
        config = load_environment(args.env)
        urls = default_urls(config)
        for item in args.url:
            name, sep, url = item.partition("=")
            if not sep or name not in {s.value for s in Service}:
                raise ValueError(f"--url: must be SERVICE=URL with SERVICE one of {[s.value for s in Service]}, got {item[:80]!r}")
            _target(url, ("wss", "ws") if name == Service.WEBSOCKET.value else ("https", "http"))
            urls[name] = url
        return run(config, urls, samples=args.samples, hold_seconds=args.hold, out=out)
    except ConfigError as exc:
        print(f"gcp-smoke: configuration error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"gcp-smoke: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
