"""`make run`: the development web server and one task worker, started together and stopped together.

Ctrl-C (SIGINT) or SIGTERM stops both; if either exits, the other is stopped too and this exits with its status.
Each child leads its own process group, so a signal reaches the autoreloader's child processes as well.

    python scripts/run.py [--port 8000]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRACE = 10  # seconds a child has to exit after the signal before it is killed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-reload", action="store_true", help="no autoreloader for the server and the worker")
    options = parser.parse_args(argv)

    manage = [sys.executable, str(ROOT / "manage.py")]
    reload = [] if options.no_reload else ["--reload"]
    commands = {
        "web": [*manage, "runserver", f"127.0.0.1:{options.port}", *(["--noreload"] if options.no_reload else [])]
    }
    if os.environ.get("TASKS_BACKEND", "database") != "immediate":  # immediate: tasks run in the web process
        commands["worker"] = [*manage, "worker", *reload]

    stop = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda signum, frame: stop.append(signum))
    children = {name: subprocess.Popen(command, cwd=ROOT, process_group=0) for name, command in commands.items()}
    print(f"run: {', '.join(f'{name} (pid {p.pid})' for name, p in children.items())}; Ctrl-C stops both", flush=True)

    status = 0
    while not stop:
        ended = [(name, p.returncode) for name, p in children.items() if p.poll() is not None]
        if ended:
            name, status = ended[0]
            print(f"run: the {name} process exited ({status}); stopping the rest", file=sys.stderr, flush=True)
            break
        time.sleep(0.2)
    for p in children.values():
        _signal_group(p, stop[0] if stop else signal.SIGTERM)
    deadline = time.monotonic() + GRACE
    for p in children.values():
        try:
            p.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            _signal_group(p, signal.SIGKILL)
            p.wait()
    return status


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)  # the child leads its group (process_group=0)
    except ProcessLookupError:
        pass  # already gone, with its group


if __name__ == "__main__":
    sys.exit(main())
