"""A fake GOV.UK Notify API on loopback, for the real client library to talk to.

It implements what the gateway uses: POST /v2/notifications/sms and /email, and
GET /v2/notifications?reference=. It accepts any bearer token, counts every message it receives
by reference (so a test can see duplicates), and can answer with errors or hang on demand. A
request cut off before its body arrived (its sender was killed) is not a message, as at Notify.
"""

import json
import socket
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

# The client reads the service id and secret from the key's last 73 characters.
API_KEY = f"test-{uuid.uuid4()}-{uuid.uuid4()}"


class FakeNotify:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: Counter[str] = Counter()
        self.ids: dict[str, str] = {}
        self.bodies: list[dict[str, Any]] = []
        self.fail_next: list[int] = []
        self.hang_next = 0.0
        handler = type("Handler", (_Handler,), {"notify": self})
        self.server = _Server(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "FakeNotify":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def duplicates(self) -> int:
        with self.lock:
            return sum(count - 1 for count in self.received.values() if count > 1)


class _Server(ThreadingHTTPServer):
    # The default listen backlog of 5 refuses connections when many worker threads connect at
    # once; Notify's real API does not.
    request_queue_size = 256


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Notify's real API does
    notify: FakeNotify

    def log_message(self, format: str, *args: Any) -> None:
        return

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm and the
        # client's delayed ACK add 40 ms to every kept-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        try:
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up waiting (a timeout test): the message was still received.
            self.close_connection = True

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if len(raw) < length:
            # The client died mid-request (a worker killed while sending): like Notify, never
            # treat half a request as a message. There is nobody left to answer.
            self.close_connection = True
            return
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            self._answer(400, {"errors": [{"error": "BadRequestError", "message": "Not JSON"}]})
            return
        if not self.headers.get("Authorization", "").startswith("Bearer "):
            self._answer(403, {"errors": [{"error": "AuthError"}]})
            return
        notify = self.notify
        with notify.lock:
            failure = notify.fail_next.pop(0) if notify.fail_next else None
            hang, notify.hang_next = notify.hang_next, 0.0
        if failure:
            self._answer(failure, {"errors": [{"error": "Fake", "message": "fake failure"}]})
            return
        reference = payload.get("reference", "")
        with notify.lock:
            notify.received[reference] += 1
            provider_id = notify.ids.setdefault(reference, str(uuid.uuid4()))
            notify.bodies.append(payload)
        if hang:
            # Received and recorded, then too slow to answer: the client times out.
            time.sleep(hang)
        self._answer(201, {"id": provider_id, "reference": reference, "content": {}})

    def do_GET(self) -> None:
        url = urlparse(self.path)
        reference = (parse_qs(url.query).get("reference") or [""])[0]
        with self.notify.lock:
            found = self.notify.ids.get(reference) if self.notify.received[reference] else None
        notifications = [{"id": found, "reference": reference}] if found else []
        self._answer(200, {"notifications": notifications, "links": {}})
