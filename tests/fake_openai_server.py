"""A fake OpenAI-compatible chat server on 127.0.0.1 (loopback only) for
tests of what happens to a teacher's secrets: it answers every chat
completion with one fixed CoT, and for each request it keeps the headers and
the command lines of this user's processes that hold a marker, read while
the asking process is still running."""

from __future__ import annotations

import base64
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ANSWER = "Let's think step by step. There are two apples and three pears. So the answer is 5."


def command_lines_holding(marker: str) -> list[str]:
    """The command lines of running processes (as /proc shows them to every
    user) that contain ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
        except OSError:  # gone, or not ours to read
            continue
        if marker.encode() in raw:
            found.append(raw.replace(b"\0", b" ").decode(errors="replace"))
    return found


class FakeChatServer:
    def __init__(self, marker: str):
        self.marker = marker
        self.requests: list[dict] = []  # {"path", "credentials", "body", "command_lines"}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                server.requests.append({"path": self.path, "credentials": _credentials(self.headers),
                                        "body": body, "command_lines": command_lines_holding(server.marker)})
                reply = json.dumps({"id": "fake", "object": "chat.completion", "model": "fake",
                                    "choices": [{"index": 0, "finish_reason": "stop",
                                                 "message": {"role": "assistant", "content": ANSWER}}],
                                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply.encode())

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, user_info: str = "") -> str:
        return f"http://{user_info + '@' if user_info else ''}127.0.0.1:{self.port}/v1/chat/completions"

    def received_marker(self) -> bool:
        return any(self.marker in r["credentials"] or self.marker in r["body"] for r in self.requests)

    def __enter__(self) -> FakeChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _credentials(headers) -> str:
    """The Authorization header, a Basic one decoded (user:password)."""
    value = headers.get("Authorization", "")
    if value.startswith("Basic "):
        return value + " " + base64.b64decode(value[6:]).decode(errors="replace")
    return value


def files_holding(folder: Path, marker: str) -> list[Path]:
    return [p for p in Path(folder).rglob("*") if p.is_file() and marker.encode() in p.read_bytes()]


def child_environment(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}
