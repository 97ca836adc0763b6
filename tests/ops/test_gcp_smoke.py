"""bin/gcp-smoke against a real HTTP / WebSocket server on 127.0.0.1 (no network beyond loopback)."""
from __future__ import annotations

import base64
import hashlib
import io
import socket
import socketserver
import subprocess
import threading
import time
from pathlib import Path

import pytest

from opscli import gcp_smoke

ROOT = Path(__file__).resolve().parents[2]
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Handler(socketserver.BaseRequestHandler):
    """HTTP/1.1 GET /health and a WebSocket endpoint, misbehaving as ``server.mode`` says."""

    def handle(self):
        mode, delay = self.server.mode, self.server.delay
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            data += chunk
        lines = data.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:] if l)}
        if headers.get("upgrade", "").lower() != "websocket":
            time.sleep(delay)
            status = "500 Internal Server Error" if mode == "unhealthy" else "200 OK"
            self.request.sendall(f"HTTP/1.1 {status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".encode())
            return
        if mode == "refuse":
            self.request.sendall(b"HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        accept = base64.b64encode(hashlib.sha1((headers["sec-websocket-key"] + GUID).encode()).digest()).decode()
        if mode == "bad-accept":
            accept = base64.b64encode(b"x" * 20).decode()
        self.request.sendall(f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode())
        if mode == "close-early":
            time.sleep(0.3)
            self.request.sendall(bytes([0x88, 0x02]) + (1001).to_bytes(2, "big"))
            return
        while True:  # answer pings (unmask the client's frame), stop at close
            head = self.request.recv(2)
            if len(head) < 2:
                return
            length = head[1] & 0x7F
            mask = self.request.recv(4)
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self.request.recv(length))) if length else b""
            opcode = head[0] & 0x0F
            if opcode == 0x9 and mode != "no-pong":
                self.request.sendall(bytes([0x8A, len(payload)]) + payload)
            if opcode == 0x8:
                return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def server():
    srv = Server(("127.0.0.1", 0), Handler)
    srv.mode, srv.delay = "ok", 0.0
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def smoke(server, *extra, hold="1"):
    port = server.server_address[1]
    out = io.StringIO()
    status = gcp_smoke.main(["--env", "staging", "--url", f"api=http://127.0.0.1:{port}/", "--url",
                             f"websocket=ws://127.0.0.1:{port}/", "--samples", "5", "--hold", hold, *extra], out=out)
    return status, out.getvalue()


def test_a_healthy_environment_passes(server):
    status, out = smoke(server)
    assert status == 0, out
    assert "PASS  api health: GET http://127.0.0.1:" in out and "PASS  websocket health" in out
    assert "PASS  WebSocket upgrade held 1 s" in out and "ping answered" in out
    assert "PASS  p95 of 5 requests <= 500 ms (slo.latency_threshold_ms)" in out


def test_a_refused_upgrade_fails(server):
    server.mode = "refuse"
    status, out = smoke(server)
    assert status == 1 and "FAIL  WebSocket upgrade held 1 s" in out and "upgrade refused: HTTP/1.1 426" in out


def test_a_socket_closed_before_the_hold_ends_fails(server):
    server.mode = "close-early"
    status, out = smoke(server, hold="2")
    assert status == 1 and "closed by the server after 0." in out


def test_a_101_without_the_right_accept_fails(server):
    server.mode = "bad-accept"
    status, out = smoke(server)
    assert status == 1 and "without the Sec-WebSocket-Accept" in out


def test_a_socket_that_stops_answering_fails(server, monkeypatch):
    server.mode = "no-pong"
    monkeypatch.setattr(gcp_smoke, "TIMEOUT_S", 1.0)
    status, out = smoke(server)
    assert status == 1 and "no pong within 1 s" in out


def test_an_unhealthy_service_fails(server):
    server.mode = "unhealthy"
    status, out = smoke(server)
    assert status == 1 and "FAIL  api health" in out and "-> 500" in out


def test_p95_above_the_slo_fails(server, tmp_path, monkeypatch):
    # staging's latency SLO is 500 ms (config/gcp/staging.yaml slo.latency_threshold_ms); serve in 600.
    server.delay = 0.6
    status, out = smoke(server)
    assert status == 1 and "FAIL  p95 of 5 requests <= 500 ms" in out


def test_an_unreachable_endpoint_fails_with_one_line_each():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = io.StringIO()
    status = gcp_smoke.main(["--env", "staging", "--url", f"api=http://127.0.0.1:{port}/", "--url",
                             f"websocket=ws://127.0.0.1:{port}/", "--samples", "2", "--hold", "0"], out=out)
    assert status == 1 and "unreachable" in out.getvalue() and "0 passed" in out.getvalue()


@pytest.mark.parametrize("url,message", [
    ("api=http://example.com/", "http:// only on the loopback interface"),
    ("websocket=ws://10.0.0.1/", "ws:// only on the loopback interface"),
    ("api=ftp://127.0.0.1/", "must be a https:// URL"),
    ("frontend=https://x.dev/", "--url: must be SERVICE=URL"),
    ("api", "--url: must be SERVICE=URL"),
])
def test_plain_text_endpoints_off_loopback_and_garbage_exit_2(url, message, capsys):
    assert gcp_smoke.main(["--env", "staging", "--url", url]) == 2
    assert message in capsys.readouterr().err


def test_default_endpoints_are_the_configured_domains():
    from envconfig.gcp import load_environment
    assert gcp_smoke.default_urls(load_environment("staging")) == {
        "api": "https://api-staging.mirror-dissonance.dev/", "websocket": "wss://ws-staging.mirror-dissonance.dev/"}


def test_p95_is_nearest_rank():
    assert gcp_smoke.p95(list(range(1, 101))) == 95 and gcp_smoke.p95([3.0]) == 3.0


def test_bin_gcp_smoke_answers_help():
    proc = subprocess.run([str(ROOT / "bin" / "gcp-smoke"), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "WebSocket" in proc.stdout
