"""The domain, one package per part; each module owns one part of the hotline's rules and commits
its work. The packages, what each owns and who may import whom: docs/layout.md. `errors`: the errors
every part raises."""
