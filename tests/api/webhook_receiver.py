"""A real HTTP receiver on 127.0.0.1, in a thread: what a subscribing system runs.

It verifies each delivery's signature with the README's check (``api.webhooks.signing.verify``)
and records what it got. ``answers`` scripts its replies (status codes in turn, then
``default``); ``fail`` answers 500 to the bodies it holds true for, once each (deliveries run
concurrently, so "the first request" is not a particular event); ``hold`` makes it wait
before answering (to kill a worker mid-delivery).
Used by tests/api/test_webhooks*.py and bench/events.py.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from api.webhooks import signing


@dataclass
class Received:
    event_id: str
    delivery: str
    body: dict
    signature_ok: bool
    status: int
    at: float


@dataclass
class Receiver:
    secret: str = ""
    answers: list[int] = field(default_factory=list)
    default: int = 200
    hold: threading.Event | None = None
    fail: Callable[[dict], bool] | None = None
    received: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._failed: set[str] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ok = bool(receiver.secret) and signing.verify(
                    receiver.secret, raw, self.headers.get(signing.HEADER, "")
                )
                body = json.loads(raw or b"{}")
                with receiver._lock:
                    status = receiver.answers.pop(0) if receiver.answers else receiver.default
                    event_id = self.headers.get("Webhook-Id", "")
                    if receiver.fail is not None and receiver.fail(body) and event_id not in receiver._failed:
                        receiver._failed.add(event_id)
                        status = 500
                    receiver.received.append(
                        Received(
                            event_id=event_id,
                            delivery=self.headers.get("Webhook-Delivery", ""),
                            body=body,
                            signature_ok=ok,
                            status=status,
                            at=time.time(),
                        )
                    )
                receiver.arrived.set()
                if receiver.hold is not None:
                    receiver.hold.wait(30)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks"

    def __enter__(self) -> Receiver:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()

    def acknowledged(self) -> list[Received]:
        return [r for r in self.received if 200 <= r.status < 300]
