"""A small web server of files for the tests of Open311's `media_url` (issue 18): the photo host
of a city app, on 127.0.0.1 and a free port, serving what a test puts in `files` (path -> bytes);
`/moved` redirects elsewhere, anything else is a 404."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class MediaHost:
    host: str  # "127.0.0.1:PORT", as HOTLINE_OPEN311_MEDIA_HOSTS lists it
    files: dict[str, bytes] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"


@contextmanager
def running() -> Iterator[MediaHost]:
    media = MediaHost(host="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            media.fetched.append(self.path)
            if self.path == "/moved":
                self.send_response(302)
                self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                self.end_headers()
                return
            data = media.files.get(self.path.split("?")[0])
            if data is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    media.host = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="media-host", daemon=True)
    thread.start()
    try:
        yield media
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
