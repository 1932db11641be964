"""The trained routing-suggestion model, stored and versioned (services/dispatch/suggestions.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from hotline.extensions import db
from hotline.models.types import UTCDateTime, utcnow


class RoutingClassifier(db.Model):
    """One training of the text classifier: what it learnt from, how well it did, and the model.

    Suggestions use the highest active version; an administrator can deactivate a
    bad one and the previous takes over. Old versions keep their figures as
    history, while their models are dropped to bound the table's size.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    trigger: Mapped[str] = mapped_column(
        String(20), default="manual"
    )  # schedule | admin | cli | manual | segmenter | demo
    sample_count: Mapped[int]
    # The newest acceptance trained on: a retraining with nothing newer is skipped.
    data_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    classes: Mapped[list[str]] = mapped_column(JSON)  # department codes
    left_out: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # too rare to learn: code -> tickets
    # Held-out figures (top1, top3, baseline, confident share...), when there was enough data.
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    library: Mapped[str] = mapped_column(String(40), default="")  # scikit-learn version that pickled it
    model_size: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True, index=True)
    # The pickled pipeline (our own data, trusted). Deferred: listing versions must not load it.
    model: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))

    def __repr__(self) -> str:
        return f"<RoutingClassifier v{self.version}{'' if self.active else ' inactive'}>"
