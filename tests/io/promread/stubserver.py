"""A scripted HTTP server on 127.0.0.1: answers requests from a list, in order.

Each scripted answer is ``(status, json_body)``, optionally with a delay before the
answer (``delay=``) or extra headers. The last answer repeats when the script runs
out. ``requests`` records each request's path and form fields.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    """One scripted answer."""

    status: int
    body: dict | str
    delay: float = 0.0
    headers: dict = field(default_factory=dict)


def matrix(series: list[tuple[dict, list[tuple[float, float]]]], **extra) -> dict:
    """A successful ``matrix`` answer of the Prometheus API."""
    return {
        "status": "success",
        "data": {"resultType": "matrix", "result": [
            {"metric": labels, "values": [[t, str(v)] for t, v in samples]}
            for labels, samples in series
        ]},
        **extra,
    }


class StubServer:
    """Serve scripted answers on a free 127.0.0.1 port (HTTPS with ``tls=(cert, key)``)."""

    def __init__(self, tls: tuple[str, str] | None = None) -> None:
        self.script: list[Answer] = []
        self.requests: list[tuple[str, dict]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server hook
                length = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                fields = {k: v[0] for k, v in form.items()}
                fields["_auth"] = self.headers.get("Authorization")
                stub.requests.append((self.path, fields))
                answer = stub.script[min(len(stub.requests) - 1, len(stub.script) - 1)]
                time.sleep(answer.delay)
                body = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
                data = body.encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in answer.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, *answers: Answer) -> StubServer:
        """Set the script of answers."""
        self.script = list(answers)
        return self

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
