"""The domain: each module owns one part of the hotline's rules and commits its work."""
