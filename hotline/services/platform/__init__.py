"""What the domain runs on: the job queue port, health, Redis guard, rate limits, storage rules,
backup, fast inserts and SQLite write turns, counting lists, spreadsheet-safe cells."""
