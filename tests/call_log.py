"""A call log with known figures, for the call report's tests (service, API and page).
Local days in Shanghai (UTC+8): 2026-11-25 02:00 UTC is 10:00 there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hotline.models import Call, Role, User
from hotline.services.citizens import calls
from tests import factories

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"
RANGE = "from=2026-11-25&to=2026-11-26"


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def build_known_log(city) -> tuple[User, User]:
    """Calls with known figures, each through the service calls that the webhooks make (see
    tests/services/test_call_report.py for the figures they make)."""
    operator, operator2 = city.operator, factories.make_user(Role.OPERATOR, username="operator2")

    def rang(sid: str, at: datetime, phone: str) -> Call:
        return calls.log_call(sid, phone, "+8653112345", now=at)

    def answered(sid: str, at: datetime, wait: float, talk: float, by, phone: str) -> None:
        call = calls.mark_queued(rang(sid, at, phone), now=at + s(5))
        answer_at = at + s(5 + wait)
        call = calls.answer_call(by, call, now=answer_at) if by else calls.mark_bridged(call, now=answer_at)
        calls.end_call(call, "completed", now=answer_at + s(talk))

    answered("CA-A", T0, 15, 120, operator, "+8613800000001")  # exactly 15 s: within
    answered("CA-B", T0 + s(60), 16, 60, operator2, "+8613800000002")  # 16 s: not within
    c = calls.mark_queued(rang("CA-C", T0 + s(120), "+8613800000003"), now=T0 + s(125))
    calls.end_call(c, "completed", now=T0 + s(128))  # gave up after 3 s in the queue
    d = calls.mark_queued(rang("CA-D", T0 + s(180), "+8613800000004"), now=T0 + s(185))
    calls.mark_voicemail(d, now=T0 + s(305))  # the longest wait, then voicemail
    assert calls.record_voicemail("CA-D", RECORDING, 20, now=T0 + s(330)).ticket is not None
    calls.end_call(d, "completed", now=T0 + s(340))
    e = calls.mark_queued(rang("CA-E", T0 + s(240), "+8613800000005"), now=T0 + s(245))
    e = calls.end_call(e, "completed", now=T0 + s(275))  # gave up after 30 s
    calls.mark_called_back(operator, e, now=e.ended_at + timedelta(hours=2))
    answered("CA-F", T0 + s(3600), 5, 30, None, "+8613800000006")  # 11:00, Twilio bridged it
    g = calls.mark_voicemail(rang("CA-G", T0 + s(3700), "+8613800000007"), now=T0 + s(3708))  # line closed
    calls.end_call(g, "completed", now=T0 + s(3720))  # no message left: missed
    answered("CA-H", datetime(2026, 11, 25, 17, 0, tzinfo=UTC), 10, 30, operator, "+8613800000008")  # 26th 01:00
    answered("CA-I", datetime(2026, 11, 24, 15, 59, tzinfo=UTC), 1, 1, operator, "+8613800000009")  # 24th: out
    return operator, operator2
