"""Learned routing suggestions: which department would most likely accept this ticket.

A text classifier trained on the history of dispatched tickets (the department
that finally accepted each one). Until a model is trained, there are no
suggestions and routing relies on rules and category defaults alone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Suggestion:
    department: str  # code
    confidence: float


def suggest(text: str, limit: int = 3) -> list[Suggestion]:
    """The most likely departments for this text, best first; empty without a trained model."""
    return []
