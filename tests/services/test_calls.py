"""The calls service: the call log, answering, missed calls and call-backs, voicemail tickets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from hotline.extensions import db
from hotline.models import Call, Status, Ticket
from hotline.models.types import utcnow
from hotline.services.citizens import calls
from hotline.services.errors import Conflict, InvalidInput, PermissionDenied
from tests import factories

PHONE = "+8613800138000"
OTHER = "+8613900139000"
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"


def logged(sid: str, phone: str = PHONE, minutes_ago: float = 0) -> Call:
    return calls.log_call(sid, phone, "+8653112345", now=utcnow() - timedelta(minutes=minutes_ago))


def missed(sid: str, phone: str = PHONE, minutes_ago: float = 10) -> Call:
    call = logged(sid, phone, minutes_ago)
    return calls.end_call(call, "completed", now=call.started_at + timedelta(minutes=1))


def reload(call: Call) -> Call:
    db.session.expire_all()
    return db.session.get(Call, call.id)


class TestLog:
    def test_a_call_is_logged_once_per_sid(self, city):
        first = logged("CA1")
        again = calls.log_call("CA1", OTHER)
        assert first.id == again.id and again.from_number == PHONE
        assert db.session.scalars(select(Call)).all() == [first]

    @pytest.mark.parametrize(
        ("raw", "stored"),
        [("+8613800138000", PHONE), ("13800138000", PHONE), ("anonymous", ""), ("", ""), (None, "")],
    )
    def test_the_number_is_normalised_or_left_empty(self, city, raw, stored):
        assert calls.log_call(f"CA-{raw}", raw).from_number == stored

    def test_a_us_number_is_kept(self, city):
        assert calls.log_call("CA2", "+14158675309").from_number == "+14158675309"

    def test_an_unknown_status_is_refused(self, city):
        with pytest.raises(InvalidInput):
            calls.update_status("CA1", "exploded")
        with pytest.raises(InvalidInput):
            calls.end_call(logged("CA1"), "ringing")


class TestOnDuty:
    def test_office_hours_follow_the_working_calendar(self, city, app, monkeypatch):
        from datetime import UTC, datetime

        monkeypatch.setitem(app.config, "HOTLINE_VOICE_HOURS", "office")
        assert calls.operators_on_duty(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))  # Wednesday 10:00
        assert not calls.operators_on_duty(datetime(2026, 11, 25, 4, 30, tzinfo=UTC))  # lunch, 12:30
        assert not calls.operators_on_duty(datetime(2026, 11, 28, 2, 0, tzinfo=UTC))  # Saturday
        monkeypatch.setitem(app.config, "HOTLINE_VOICE_HOURS", "always")
        assert calls.operators_on_duty(datetime(2026, 11, 28, 2, 0, tzinfo=UTC))

    def test_by_default_the_line_answers_round_the_clock(self, city, app, monkeypatch):
        """A 12345 line has people on it 7x24: a call on Saturday night goes to the operators."""
        from datetime import UTC, datetime

        from config import Config

        monkeypatch.delenv("HOTLINE_VOICE_HOURS", raising=False)
        assert Config().HOTLINE_VOICE_HOURS == "always"
        monkeypatch.setitem(app.config, "HOTLINE_VOICE_HOURS", Config().HOTLINE_VOICE_HOURS)
        assert calls.operators_on_duty(datetime(2026, 11, 28, 14, 0, tzinfo=UTC))  # Saturday 22:00


class TestMoments:
    """What the call report reads: when the call joined the queue, was offered voicemail, and
    who answered it."""

    def test_joining_the_queue_is_recorded_once(self, city):
        call = logged("CA1", minutes_ago=1)
        joined = call.started_at + timedelta(seconds=8)
        calls.mark_queued(call, now=joined)
        calls.mark_queued(call, now=joined + timedelta(seconds=20))  # a wait request
        assert reload(call).queued_at == joined and reload(call).voicemail_at is None

    def test_the_voicemail_offer_is_recorded(self, city):
        call = logged("CA1", minutes_ago=3)
        calls.mark_queued(call, now=call.started_at + timedelta(seconds=5))
        offered = call.started_at + timedelta(seconds=125)
        calls.mark_voicemail(call, now=offered)
        call = reload(call)
        assert call.voicemail_at == offered and call.status == calls.VOICEMAIL and call.answered_at is None

    def test_the_operator_who_answers_is_recorded(self, city):
        call = calls.mark_queued(logged("CA1"))
        calls.answer_call(city.operator, call)
        assert reload(call).answered_by == city.operator

    def test_the_operator_whose_ticket_answers_the_call_is_recorded(self, city):
        call = calls.mark_queued(logged("CA1"))
        assert calls.link_ticket(call, factories.make_ticket(city.operator), city.operator)
        assert reload(call).answered_by == city.operator

    def test_a_call_bridged_by_twilio_names_no_operator(self, city):
        call = calls.mark_bridged(calls.mark_queued(logged("CA1")))
        assert reload(call).answered_at is not None and reload(call).answered_by_id is None


class TestAnswer:
    def test_an_operator_answers_a_waiting_call(self, city):
        call = calls.mark_queued(logged("CA1"))
        calls.answer_call(city.operator, call)
        call = reload(call)
        assert call.status == calls.IN_PROGRESS and call.answered_at is not None

    def test_of_two_operators_one_gets_the_call(self, city):
        call = logged("CA1")
        second = factories.make_user("operator")
        calls.answer_call(city.operator, call)
        with pytest.raises(Conflict, match="已被接听"):
            calls.answer_call(second, call)

    def test_a_call_that_ended_cannot_be_answered(self, city):
        call = missed("CA1")
        with pytest.raises(Conflict, match="已挂断"):
            calls.answer_call(city.operator, call)
        assert reload(call).answered_at is None

    def test_a_call_in_voicemail_cannot_be_answered(self, city):
        call = calls.mark_voicemail(logged("CA1"))
        with pytest.raises(Conflict):
            calls.answer_call(city.operator, call)

    def test_department_staff_cannot_answer(self, city):
        with pytest.raises(PermissionDenied):
            calls.answer_call(city.roads_staff, logged("CA1"))

    def test_status_never_goes_back(self, city):
        call = missed("CA1")
        calls.mark_queued(call)
        calls.mark_voicemail(call)
        assert reload(call).status == "completed"
        answered = logged("CA2")
        calls.answer_call(city.operator, answered)
        calls.mark_queued(answered)
        calls.mark_voicemail(answered)
        assert reload(answered).status == calls.IN_PROGRESS


class TestLinkTicket:
    def test_the_ticket_is_linked_and_the_call_counts_as_answered(self, city):
        call = logged("CA1")
        ticket = factories.make_ticket(city.operator)
        assert calls.link_ticket(call, ticket, city.operator)
        call = reload(call)
        assert call.ticket_id == ticket.id and call.status == calls.IN_PROGRESS and call.answered_at is not None

    def test_the_first_ticket_stays(self, city):
        call = logged("CA1")
        first, second = factories.make_ticket(city.operator), factories.make_ticket(city.operator)
        assert calls.link_ticket(call, first)
        assert calls.link_ticket(call, first)  # the same again is fine
        assert not calls.link_ticket(call, second)
        assert reload(call).ticket_id == first.id

    def test_a_ticket_logged_for_a_missed_call_is_its_call_back(self, city):
        call = missed("CA1")
        ticket = factories.make_ticket(city.operator)
        calls.link_ticket(call, ticket, city.operator)
        call = reload(call)
        assert call.called_back_by == city.operator and call.called_back_at is not None
        assert call.status == "completed" and call.answered_at is None
        assert calls.missed_calls() == []

    def test_from_the_intake_form_an_unknown_or_odd_sid_is_ignored(self, city):
        ticket = factories.make_ticket(city.operator)
        assert not calls.link_ticket_from_intake("CA-unknown", ticket, city.operator)
        assert not calls.link_ticket_from_intake("CA\x00", ticket, city.operator)
        assert not calls.link_ticket_from_intake("x" * 500, ticket, city.operator)
        assert not calls.link_ticket_from_intake(None, ticket, city.operator)


class TestMissedCalls:
    def test_an_unanswered_call_is_listed_oldest_first(self, city):
        newer = missed("CA2", OTHER, minutes_ago=5)
        older = missed("CA1", PHONE, minutes_ago=30)
        assert calls.missed_calls() == [older, newer]
        assert calls.missed_count() == 2

    def test_a_called_back_call_leaves_the_list_and_the_first_operator_is_kept(self, city):
        call = missed("CA1")
        calls.mark_called_back(city.operator, call)
        when = reload(call).called_back_at
        calls.mark_called_back(city.dispatcher, call)
        call = reload(call)
        assert call.called_back_by == city.operator and call.called_back_at == when
        assert calls.missed_calls() == [] and calls.missed_count() == 0

    def test_a_caller_who_got_through_since_is_not_listed(self, city):
        first = missed("CA1", minutes_ago=30)
        again = missed("CA2", minutes_ago=20)  # each missed call waits for its call-back
        assert calls.missed_calls() == [first, again]
        later = logged("CA3", minutes_ago=5)
        calls.answer_call(city.operator, later)
        assert calls.missed_calls() == []

    def test_a_later_voicemail_counts_as_reached(self, city):
        missed("CA1", minutes_ago=30)
        later = logged("CA2", minutes_ago=5)
        calls.record_voicemail(later.call_sid, RECORDING, 12)
        assert calls.missed_calls() == []

    def test_withheld_numbers_are_not_listed_and_cannot_be_called_back(self, city):
        call = missed("CA1", phone="anonymous")
        assert call.missed and calls.missed_calls() == []
        with pytest.raises(Conflict):
            calls.mark_called_back(city.operator, call)

    def test_only_a_missed_call_is_called_back(self, city):
        call = logged("CA1")
        with pytest.raises(Conflict):
            calls.mark_called_back(city.operator, call)
        with pytest.raises(PermissionDenied):
            calls.mark_called_back(city.roads_staff, missed("CA2"))


class TestLiveCalls:
    def test_live_calls_are_those_ringing_waiting_or_on_the_line(self, city):
        ringing = logged("CA1", minutes_ago=3)
        waiting = calls.mark_queued(logged("CA2", OTHER, minutes_ago=2))
        talking = logged("CA3", minutes_ago=1)
        calls.answer_call(city.operator, talking)
        calls.mark_voicemail(logged("CA4"))
        missed("CA5")
        assert calls.live_calls() == [ringing, waiting, talking]

    def test_a_call_whose_end_was_never_reported_drops_out_after_hours(self, city):
        logged("CA1", minutes_ago=5 * 60)
        assert calls.live_calls() == []


class TestVoicemail:
    def test_the_ticket(self, city):
        call = logged("CA1")
        result = calls.record_voicemail("CA1", RECORDING, 20)
        ticket = result.ticket
        assert result.created and ticket.status == Status.PENDING_DISPATCH and ticket.channel == "voicemail"
        assert ticket.type == calls.VOICEMAIL_TYPE and ticket.category == city.other
        assert ticket.caller_phone == PHONE and RECORDING in ticket.description
        assert reload(call).ticket_id == ticket.id
        again = calls.record_voicemail("CA1", RECORDING, 20)
        assert not again.created and again.ticket.id == ticket.id
        assert db.session.scalars(select(Ticket)).all() == [ticket]

    def test_a_ticket_made_meanwhile_by_another_delivery_wins(self, city, monkeypatch):
        """Two deliveries at once: the other one links its ticket after this one looked."""
        call = logged("CA1")
        other = factories.make_ticket(city.operator)
        real_category = calls.voicemail_category

        def category_while_another_delivery_commits():
            db.session.execute(update(Call).where(Call.id == call.id).values(ticket_id=other.id))
            db.session.commit()
            return real_category()

        monkeypatch.setattr(calls, "voicemail_category", category_while_another_delivery_commits)
        result = calls.record_voicemail("CA1", RECORDING, 20)
        assert not result.created and result.ticket.id == other.id
        assert db.session.scalars(select(Ticket.id)).all() == [other.id]  # no second ticket kept

    def test_the_category_must_be_top_level_or_configured(self, city, app, monkeypatch):
        db.session.delete(city.other)
        nested = factories.make_category("roads-other", None, city.infrastructure, name="其他")
        assert calls.voicemail_category() is None  # a nested 其他 is not "other" for everything
        top = factories.make_category("misc", None, name="Other")
        assert calls.voicemail_category() == top
        monkeypatch.setitem(app.config, "HOTLINE_VOICEMAIL_CATEGORY", "roads-other")
        assert calls.voicemail_category() == nested
        monkeypatch.setitem(app.config, "HOTLINE_VOICEMAIL_CATEGORY", "no-such-code")
        assert calls.voicemail_category() == top

    def test_the_transcription_survives_a_concurrent_change_of_the_ticket(self, city, monkeypatch):
        logged("CA1")
        ticket = calls.record_voicemail("CA1", RECORDING, 20).ticket
        db.session.refresh(ticket)
        # The ticket's version moves on after it was loaded here: the first commit is stale.
        db.session.execute(
            update(Ticket)
            .where(Ticket.id == ticket.id)
            .values(version=Ticket.version + 1)
            .execution_options(synchronize_session=False)
        )
        rollbacks = []
        real_rollback = db.session.rollback
        monkeypatch.setattr(db.session, "rollback", lambda: rollbacks.append(1) or real_rollback())
        result = calls.add_transcription("CA1", "  A tree  fell on the road. ")
        monkeypatch.undo()
        assert rollbacks == [1]  # the stale first try, then the second one
        db.session.expire_all()
        ticket = db.session.get(Ticket, ticket.id)
        assert ticket.description.startswith("A tree fell on the road.")
        assert [e.kind for e in ticket.events] == ["created", "voicemail_transcribed"]
        assert result.call.transcription == "A tree fell on the road."

    def test_the_description_fits_the_limit(self, city):
        from hotline.services.ticketing.tickets import DESCRIPTION_MAX

        logged("CA1")
        calls.record_voicemail("CA1", RECORDING, 20)
        ticket = calls.add_transcription("CA1", "字" * (DESCRIPTION_MAX + 50)).ticket
        assert len(ticket.description) <= DESCRIPTION_MAX and RECORDING in ticket.description


class TestAtOnce:
    """Requests Twilio and operators send at the same moment, each with its own session (two real
    connections on PostgreSQL), as in test_concurrency."""

    def test_callbacks_of_one_voicemail_at_once_make_one_ticket(self, app, city):
        from tests.services.test_concurrency import run_in_threads

        logged("CA1")
        db.session.remove()

        def deliver(loaded):
            loaded.wait()
            return calls.record_voicemail("CA1", RECORDING, 20).ticket.id

        outcomes = run_in_threads(app, deliver, deliver, deliver)
        assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
        assert len(set(outcomes)) == 1
        assert db.session.scalars(select(Ticket.id)).all() == [outcomes[0]]
        assert db.session.scalar(select(Call.ticket_id).where(Call.call_sid == "CA1")) == outcomes[0]

    def test_two_operators_answering_at_once_one_gets_the_call(self, app, city):
        from hotline.models import User
        from tests.services.test_concurrency import run_in_threads

        logged("CA1")
        ids = [city.operator.id, factories.make_user("operator").id]
        db.session.remove()

        def answer(user_id):
            def action(loaded):
                operator = db.session.get(User, user_id)
                call = calls.find_call("CA1")
                loaded.wait()
                return calls.answer_call(operator, call).status

            return action

        outcomes = run_in_threads(app, answer(ids[0]), answer(ids[1]))
        assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Conflict", "str"]
