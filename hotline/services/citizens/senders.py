"""Who sends a message to a citizen: Twilio when it is configured, otherwise nobody.

A sender has one method, `send(message) -> SendResult`; it never raises for a
provider's answer but says what became of the message, so that the outbox
(`services/citizens/outbox.py`) decides about retries:

- `sent`: the provider took it (its SID is kept, delivery reports come later);
- `retry`: it certainly did not go out (no connection, Twilio 5xx or 429): try again later;
- `failed`: the provider refused it (a bad number, an opted-out recipient), or it is
  unknown whether it went out (no answer in time): not retried by itself, so that a
  citizen never gets a message twice;
- `held`: there is no sender (no Twilio credentials): the message stays in the outbox.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import requests
from flask import current_app, request
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from hotline.models import OutboundMessage

log = logging.getLogger(__name__)

SENT, RETRY, FAILED, HELD = "sent", "retry", "failed", "held"
CALL = "call"  # the outbox channel of a voice call (duty alerts); "sms" otherwise
CALL_LANGUAGE = "cmn-CN"  # Twilio's <Say> language for Mandarin
SEND_TIMEOUT = 15  # seconds; the job's lease (outbox.SENDING_LEASE) is far longer


def error_record(code: str, **details: str | int | None) -> str:
    """An outbox `last_error`: the app's own code and its details as JSON, put into words in the
    reader's language when shown (labels.outbox_error). Provider text stays in `provider_text`."""
    kept = {key: value for key, value in details.items() if value not in (None, "")}
    return json.dumps({"code": code, **kept}, ensure_ascii=False, sort_keys=True)


def with_details(record: str | None, **details: str | int | None) -> str:
    """`record` with more details (the attempts given up after); text from before codes kept."""
    try:
        stored = json.loads(record or "")
    except ValueError:
        stored = None
    if not isinstance(stored, dict) or "code" not in stored:
        stored = {"code": "failed", "detail": record} if record else {"code": "failed"}
    return error_record(**{**stored, **details})


NO_SENDER = error_record("no_sender")
# Twilio's error for a recipient who replied STOP to our number: they opted out at Twilio's end.
TWILIO_UNSUBSCRIBED = 21610

CONFIG_KEYS = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "TWILIO_MESSAGING_SERVICE_SID",
    "TWILIO_API_BASE_URL",
    "HOTLINE_PUBLIC_URL",
)


@dataclass(frozen=True)
class SendResult:
    outcome: str  # sent | retry | failed | held
    provider_sid: str | None = None
    error: str | None = None
    code: int | None = None  # the provider's error code, when it gave one


class Sender(Protocol):
    name: str

    def send(self, message: OutboundMessage) -> SendResult: ...


class OutboxOnlySender:
    """No provider: every message is held in the outbox, for an administrator to see."""

    name = "outbox"

    def send(self, message: OutboundMessage) -> SendResult:
        return SendResult(HELD, error=NO_SENDER)


class LocalTwilioHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client, with every request's scheme and host replaced by `base_url`.

    The library has no setting for another host (edge and region stay within twilio.com):
    this is how tests, and a developer's local fake, receive the real client's requests.
    """

    def __init__(self, base_url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        parts = urlsplit(base_url)
        if not parts.scheme or not parts.netloc:
            raise ValueError(f"TWILIO_API_BASE_URL must be like http://127.0.0.1:8099, not {base_url!r}")
        self.scheme, self.netloc = parts.scheme, parts.netloc

    def request(self, method: str, url: str, *args, **kwargs):
        parts = urlsplit(url)
        url = urlunsplit((self.scheme, self.netloc, parts.path, parts.query, parts.fragment))
        return super().request(method, url, *args, **kwargs)


class TwilioSender:
    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str = "",
        messaging_service_sid: str = "",
        api_base_url: str = "",
        public_url: str = "",
    ) -> None:
        if api_base_url:
            http_client: TwilioHttpClient = LocalTwilioHttpClient(api_base_url, timeout=SEND_TIMEOUT)
        else:
            http_client = TwilioHttpClient(timeout=SEND_TIMEOUT)
        self.client = Client(account_sid, auth_token, http_client=http_client)
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.public_url = public_url.rstrip("/")

    def status_callback(self, message: OutboundMessage) -> str | None:
        """Where Twilio reports delivery; only when the public URL is known (a job has no request).
        The outbox id lets the callback find a message whose SID is not recorded yet."""
        if not self.public_url:
            return None
        return f"{self.public_url}/twilio/status?outbox={message.id}"

    def send(self, message: OutboundMessage) -> SendResult:
        if message.channel == CALL:
            return self._outcome(lambda: self.client.calls.create(**self.call_fields(message)))
        return self._outcome(lambda: self.client.messages.create(**self.message_fields(message)))

    # -- duty rota (值班, issue 17 item 4): an outbox row on the "call" channel is a voice call
    # whose body is the words to say, in Chinese (TwiML <Say>), from the hotline's number.
    def call_fields(self, message: OutboundMessage) -> dict[str, str]:
        response = VoiceResponse()
        response.say(message.body, language=CALL_LANGUAGE)
        response.pause(length=1)
        response.say(message.body, language=CALL_LANGUAGE)  # said twice: a sleeper misses the first
        fields = {"to": message.to, "from_": self.from_number, "twiml": str(response)}
        callback = self.status_callback(message)
        if callback:  # so that the outbox learns whether the call was answered, not only placed
            fields["status_callback"] = callback
            fields["status_callback_method"] = "POST"
        return fields

    def message_fields(self, message: OutboundMessage) -> dict[str, str]:
        fields: dict[str, str] = {"to": message.to, "body": message.body}
        if self.messaging_service_sid:
            fields["messaging_service_sid"] = self.messaging_service_sid
        else:
            fields["from_"] = self.from_number
        callback = self.status_callback(message)
        if callback:
            fields["status_callback"] = callback
        return fields

    def _outcome(self, create) -> SendResult:
        try:
            created = create()
        except TwilioException as error:
            status = getattr(error, "status", None) or 0
            code = getattr(error, "code", None)
            text = getattr(error, "msg", None) or getattr(error, "detail", None) or getattr(error, "title", "")
            outcome = RETRY if status >= 500 or status == 429 else FAILED
            record = error_record("provider_answered", status=status, provider_code=code, provider_text=text)
            return SendResult(outcome, error=record, code=code)
        except requests.RequestException as error:
            if _never_reached(error):
                return SendResult(RETRY, error=error_record("unreachable", detail=str(error)))
            # The request may have arrived: retrying could text the citizen twice.
            return SendResult(FAILED, error=error_record("no_answer", detail=str(error)))
        return SendResult(SENT, provider_sid=created.sid)


def _never_reached(error: requests.RequestException) -> bool:
    """True when the connection itself failed, so Twilio cannot have received the request."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    cause: BaseException | None = error
    seen = 0
    while cause is not None and seen < 10:
        reason = getattr(cause, "reason", None)
        if isinstance(cause, NewConnectionError | ConnectTimeoutError) or isinstance(
            reason, NewConnectionError | ConnectTimeoutError
        ):
            return True
        args = getattr(cause, "args", ())
        nested = args[0] if args and isinstance(args[0], BaseException) else None
        cause = nested or cause.__cause__ or cause.__context__
        seen += 1
    return False


def configured(config=None) -> bool:
    """Whether messages can go out: the account, its token and a sender number (or service)."""
    config = config if config is not None else current_app.config
    return bool(
        config.get("TWILIO_ACCOUNT_SID")
        and config.get("TWILIO_AUTH_TOKEN")
        and (config.get("TWILIO_FROM_NUMBER") or config.get("TWILIO_MESSAGING_SERVICE_SID"))
    )


def current_sender() -> Sender:
    """The app's sender, made once per configuration (the Twilio client keeps its connections)."""
    config = current_app.config
    key = tuple(config.get(name) or "" for name in CONFIG_KEYS)
    cache = current_app.extensions.setdefault("hotline_sender", {})
    if cache.get("key") != key:
        cache["key"], cache["sender"] = key, _build(config)
    return cache["sender"]


def _build(config) -> Sender:
    if not configured(config):
        return OutboxOnlySender()
    return TwilioSender(
        config["TWILIO_ACCOUNT_SID"],
        config["TWILIO_AUTH_TOKEN"],
        from_number=config.get("TWILIO_FROM_NUMBER") or "",
        messaging_service_sid=config.get("TWILIO_MESSAGING_SERVICE_SID") or "",
        api_base_url=config.get("TWILIO_API_BASE_URL") or "",
        public_url=config.get("HOTLINE_PUBLIC_URL") or "",
    )


def public_url_for(path: str) -> str:
    """An absolute URL on this site as Twilio must call it (TwiML and status callbacks):
    HOTLINE_PUBLIC_URL when set (behind a proxy), else the current request's host."""
    public = (current_app.config.get("HOTLINE_PUBLIC_URL") or "").rstrip("/")
    return (public or request.url_root.rstrip("/")) + path
