"""Contact with the citizen: texts in and out, the outbox and its senders, the survey, phone calls,
phone numbers."""
