"""Every RQ job, in one package that services never import.

A job is a function that takes ids, reloads rows and calls a service; it runs in the app
context that the worker entry point (`workers/worker.py`) pushes. Services enqueue a job by
its dotted path through one port, `hotline.services.platform.queueing` (e.g. `"hotline.tasks.routing.
route_ticket"`), so this package may import the services and never the other way round
(tests/test_tasks_port.py checks both).

- `routing`: route a ticket, a batch, intake's drain (urgent queue, "hotline");
- `texts`: send the outbox's messages (urgent);
- `duty`: the duty rota's out-of-hours alerts, step by step (urgent);
- `sweep`: the periodic sweep (urgent), and the report days' refresh (bulk);
- `hotspots`, `suggestions`: hotspot detection and the routing model's training (bulk);
- `schedule`: the one table of periodic jobs and what keeps each one running.
"""
