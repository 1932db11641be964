"""A fake of Twilio's REST API for messages, on 127.0.0.1, for the real `twilio` client.

The app reaches it through `TWILIO_API_BASE_URL` (see `services.citizens.senders.LocalTwilioHttpClient`),
so every byte goes through the library exactly as it would to api.twilio.com. The fake
checks basic auth like Twilio, records each request, answers 201 with a message
resource (a new `SM...` SID), and can be told to fail the next requests (500, 400,
429...) to test retries.

    with fake_twilio.running(app, monkeypatch) as fake:
        ...
        assert fake.messages()[0]["To"] == "+8613800138000"
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-twilio-auth-token-0123456789"
FROM_NUMBER = "+15005550006"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
# Outgoing voice calls (issue 17): a TwiML message said to the person on duty (duty rota), or a staff
# member's phone rung, then the citizen bridged (contact with the citizen).
CALLS_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
CDN_PREFIX = "/cdn/"  # MMS media: Twilio redirects to its CDN (a signed URL), the fake to here


@dataclass
class Recorded:
    method: str
    path: str
    form: dict[str, str]
    authorized: bool
    answered: int


@dataclass
class Failure:
    status: int
    code: int | None
    message: str


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    requests: list[Recorded] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    delay: float = 0.0  # seconds before answering, to widen races in tests
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    # path -> (content type, bytes): what GET serves (recordings, MMS media)
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    media_failures: list[int] = field(default_factory=list)  # statuses the next media GETs answer
    cdn: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # where MMS media redirect to

    @property
    def url(self) -> str:
        assert self.server is not None, "the fake is not running"
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                fake._handle(self)

            def do_GET(self) -> None:  # noqa: N802
                # Media (attachments, issue 18 item 5): a recording or an MMS picture the test put
                # in `fake.media`, for basic auth only, as Twilio serves them (HTTP Basic auth on).
                # An MMS picture is answered as Twilio does: a redirect to its CDN, where a signed
                # (here: unguessable) URL needs no auth.
                if self.path.startswith(CDN_PREFIX):
                    with fake.lock:
                        fake.requests.append(Recorded("GET", self.path, {}, False, 200))
                        found = fake.cdn.get(self.path)
                    return self._file(found)
                expected = "Basic " + base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
                authorized = secrets.compare_digest(self.headers.get("Authorization", ""), expected)
                with fake.lock:
                    failure = fake.media_failures.pop(0) if fake.media_failures and authorized else None
                    fake.requests.append(Recorded("GET", self.path, {}, authorized, failure or 200))
                    found = fake.media.get(self.path)
                if not authorized:
                    self._reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
                elif failure is not None:
                    self._reply(failure, {"code": 20500, "message": "fake media failure", "status": failure})
                elif found is not None and "/Media/" in self.path:
                    cdn = f"{CDN_PREFIX}{secrets.token_hex(16)}"
                    with fake.lock:
                        fake.cdn[cdn] = found
                    self.send_response(307)
                    self.send_header("Location", fake.url + cdn)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self._file(found)

            def _file(self, found: tuple[str, bytes] | None) -> None:
                if found is None:
                    self._reply(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
                    return
                content_type, data = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _reply(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-twilio", daemon=True
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)
        self.server = self.thread = None

    def fail_next(self, status: int, code: int | None = None, message: str = "", times: int = 1) -> None:
        """The next `times` message requests get this error instead of a message."""
        with self.lock:
            for _ in range(times):
                self.failures.append(Failure(status, code, message or f"fake failure {status}"))

    def add_mms_media(self, content_type: str, data: bytes, message_sid: str = "") -> str:
        """Serve an MMS picture; returns its MediaUrl as Twilio's webhook gives it (api.twilio.com,
        which `TWILIO_API_BASE_URL` points the app at this fake for)."""
        message_sid = message_sid or "MM" + secrets.token_hex(16)
        path = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{message_sid}/Media/ME{secrets.token_hex(16)}"
        with self.lock:
            self.media[path] = (content_type, data)
        return "https://api.twilio.com" + path

    def fail_media_next(self, status: int = 500, times: int = 1) -> None:
        """The next `times` authorized media requests answer `status` (Twilio away)."""
        with self.lock:
            self.media_failures.extend([status] * times)

    def media_requests(self) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.method == "GET"]

    def messages(self) -> list[dict[str, str]]:
        """The forms of the authorized message requests the fake accepted (201)."""
        with self.lock:
            return [r.form for r in self.requests if r.path == MESSAGES_PATH and r.answered == 201]

    def calls(self) -> list[dict[str, str]]:
        """The forms of the authorized call requests the fake accepted (201): To, From, Url,
        StatusCallback... The fake only records a call; a test plays Twilio's webhooks itself."""
        with self.lock:
            return [r.form for r in self.requests if r.path == CALLS_PATH and r.answered == 201]

    def message_requests(self) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.path == MESSAGES_PATH]

    # -- the server side ------------------------------------------------------------------

    def _handle(self, handler) -> None:
        import time

        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode("utf-8")
        form = {key: values[-1] for key, values in parse_qs(raw, keep_blank_values=True).items()}
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        authorized = secrets.compare_digest(handler.headers.get("Authorization", ""), expected)
        if self.delay:
            time.sleep(self.delay)
        status, payload = self._answer(handler.path, form, authorized)
        with self.lock:
            self.requests.append(Recorded("POST", handler.path, form, authorized, status))
        handler._reply(status, payload)

    def _answer(self, path: str, form: dict[str, str], authorized: bool) -> tuple[int, dict]:
        if not authorized:
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        if path == CALLS_PATH:
            return self._call(form)
        if path != MESSAGES_PATH:
            return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
        failure = self._next_failure()
        if failure is not None:
            return failure
        if not form.get("To"):
            return 400, {"code": 21604, "message": "A 'To' phone number is required.", "status": 400}
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return 400, {"code": 21603, "message": "A 'From' phone number is required.", "status": 400}
        if not form.get("Body"):
            return 400, {"code": 21602, "message": "Message body is required.", "status": 400}
        sid = "SM" + secrets.token_hex(16)
        now = formatdate(usegmt=True)
        return 201, {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": form["To"],
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form["Body"],
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": "1",
            "num_media": "0",
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
        }

    def _next_failure(self) -> tuple[int, dict] | None:
        """The error answer `fail_next` asked for, if any (messages and calls alike)."""
        with self.lock:
            failure = self.failures.pop(0) if self.failures else None
        if failure is None:
            return None
        return failure.status, {"code": failure.code, "message": failure.message, "status": failure.status}

    def _call(self, form: dict[str, str]) -> tuple[int, dict]:
        """Twilio's Calls resource: To, From and one of Url / Twiml are required."""
        failure = self._next_failure()
        if failure is not None:
            return failure
        if not form.get("To") or not form.get("From"):
            return 400, {"code": 21201, "message": "No 'To' or 'From' number is specified", "status": 400}
        if not form.get("Url") and not form.get("Twiml") and not form.get("ApplicationSid"):
            return 400, {"code": 21205, "message": "Url, Twiml or ApplicationSid is required", "status": 400}
        sid = "CA" + secrets.token_hex(16)
        now = formatdate(usegmt=True)
        return 201, {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": form["To"],
            "from": form["From"],
            "status": "queued",
            "direction": "outbound-api",
            "date_created": now,
            "date_updated": now,
            "start_time": None,
            "end_time": None,
            "duration": None,
            "price": None,
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json",
        }


@contextmanager
def running(app, monkeypatch, **config) -> Iterator[FakeTwilio]:
    """Start a fake and point the app's Twilio settings at it; stopped afterwards."""
    fake = FakeTwilio().start()
    try:
        settings = {
            "TWILIO_ACCOUNT_SID": fake.account_sid,
            "TWILIO_AUTH_TOKEN": fake.auth_token,
            "TWILIO_FROM_NUMBER": FROM_NUMBER,
            "TWILIO_MESSAGING_SERVICE_SID": "",
            "TWILIO_API_BASE_URL": fake.url,
            **config,
        }
        for key, value in settings.items():
            monkeypatch.setitem(app.config, key, value)
        yield fake
    finally:
        fake.stop()


def worker_env(fake: FakeTwilio) -> dict[str, str]:
    """The environment that makes a worker process (TestingConfig) use this fake."""
    return {
        "TEST_TWILIO_ACCOUNT_SID": fake.account_sid,
        "TEST_TWILIO_AUTH_TOKEN": fake.auth_token,
        "TEST_TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TEST_TWILIO_API_BASE_URL": fake.url,
    }
