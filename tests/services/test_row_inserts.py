"""`row_inserts.insert_row`: one plain INSERT whose returned instance holds exactly the row
written, defaults included; a call-time default left out is refused before anything is written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import OutboundMessage
from hotline.models.types import utcnow
from hotline.services.platform.row_inserts import insert_row, insert_rows

VALUES = {"kind": "created", "to": "+8613800138000", "body": "您的诉求已受理。", "status": "queued"}


def test_the_instance_holds_the_row_as_written_with_its_defaults() -> None:
    at = utcnow().replace(microsecond=0)
    written = insert_row(db.session.connection(), OutboundMessage, {**VALUES, "created_at": at})
    db.session.commit()

    stored = db.session.get(OutboundMessage, written.id)
    assert written not in db.session
    assert (written.attempts, written.channel, written.sent_at) == (0, "sms", None)  # scalar defaults, none
    columns = [column.name for column in OutboundMessage.__table__.columns]
    assert {c: getattr(written, c) for c in columns} == {c: getattr(stored, c) for c in columns}


def test_a_call_time_default_must_be_given() -> None:
    with pytest.raises(ValueError, match="outbound_message: give created_at"):
        insert_row(db.session.connection(), OutboundMessage, VALUES)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboundMessage)) == 0


def test_many_rows_come_back_as_ids_in_their_order_with_their_defaults() -> None:
    at = utcnow().replace(microsecond=0)
    rows = [{**VALUES, "body": f"第 {n} 条", "created_at": at} for n in range(5)]
    ids = insert_rows(db.session.connection(), OutboundMessage, rows)
    db.session.commit()

    stored = [db.session.get(OutboundMessage, i) for i in ids]
    assert [m.body for m in stored] == [f"第 {n} 条" for n in range(5)]
    assert all((m.attempts, m.channel, m.sent_at) == (0, "sms", None) for m in stored)
    with pytest.raises(ValueError, match="outbound_message: give created_at"):
        insert_rows(db.session.connection(), OutboundMessage, [*rows, VALUES])
    assert insert_rows(db.session.connection(), OutboundMessage, []) == []
