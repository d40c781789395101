"""The live workers beside the web server (`gisapp serve`, `make demo`): started with it, kept
running while it runs, stopped with it.

Three processes of `gisapp worker` (the rules would otherwise compete with the requests for the
server's interpreter): one for the parcels' own rules, one for the zones' and one for the whole
city's, so that an edit's findings wait neither for its zone's ranks nor for the city's ranking.
A worker that ends while the server runs (a crash, an out-of-memory kill, a database that went
away at its start) is started again: without it the findings would stay pending, silently, until
the next restart of the server.
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

#: the kinds of worker beside the server (gisapp.rules.worker.KINDS)
KINDS_BESIDE = ("parcels", "zones", "city")

#: the workers' CPU priority (nice, 19 the lowest): below the server's, so that the people
#: saving are never the ones who wait for them (the server's requests are a pipeline through one
#: interpreter, and a worker that takes its core holds every request up); under load the parcels
#: worker's rounds then take longer and gather more saves each
WORKER_NICENESS = 19
#: the workers that run only on cores nothing else wants (Linux's SCHED_IDLE), after the others:
#: the city's ranking of every zone, which nobody waits for (the zones worker stays at
#: WORKER_NICENESS: a parameter's or an import's own findings wait for its round)
IDLE_KINDS = ("city",)

#: how long after a worker ended another is started, the first time; doubled for each further
#: end within RESTART_CALM of the last start, up to RESTART_MAX (a worker that cannot start, e.g.
#: a database refusing its connections, is not re-run in a tight loop)
RESTART_FIRST = 2.0
RESTART_MAX = 60.0
RESTART_CALM = 120.0
#: how often the supervising thread looks at the workers
WATCH_SECONDS = 1.0


#: libc's prctl, looked up here: the child of a fork in a threaded server must not load
#: anything between fork and exec (another thread may have held the loader's lock at the fork)
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl


def _end_with_parent() -> None:
    """In a worker process before it starts (system calls only): the kernel sends it SIGTERM
    when the server that started it ends, however it ends (Linux's PR_SET_PDEATHSIG), so no
    worker is left behind."""
    _PRCTL(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    # Ctrl+C in a terminal reaches the whole process group: the server alone takes it and stops
    # the workers, which would otherwise end first and be reported as ended
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _in_background(kind: str) -> None:
    """:func:`_end_with_parent`, at the priority of ``kind`` (:data:`WORKER_NICENESS`,
    :data:`IDLE_KINDS`)."""
    _end_with_parent()
    os.nice(WORKER_NICENESS)
    if kind in IDLE_KINDS:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def start_worker(kind: str) -> subprocess.Popen:
    """`gisapp worker --kind <kind>` as a child of this process (ended with it)."""
    return subprocess.Popen([sys.executable, "-c", "from gisapp.cli import main; main()", "worker", "--kind", kind],
                            preexec_fn=functools.partial(_in_background, kind))


class Supervisor:
    """The workers of :data:`KINDS_BESIDE`, each started again when it ends before :meth:`stop`."""

    def __init__(self, say=None) -> None:
        self._say = say or (lambda line: print(f"gisapp: {line}", file=sys.stderr, flush=True))
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.procs: dict[str, subprocess.Popen] = {k: start_worker(k) for k in KINDS_BESIDE}
        self._started = {k: time.monotonic() for k in KINDS_BESIDE}
        self._delay: dict[str, float | None] = dict.fromkeys(KINDS_BESIDE)  # None: never ended
        self._due: dict[str, float] = {}
        self._thread = threading.Thread(target=self._watch, name="gisapp-worker-supervisor", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stopping.wait(WATCH_SECONDS):
            with self._lock:
                if self._stopping.is_set():
                    return
                for kind, proc in self.procs.items():
                    self._look_after(kind, proc)

    def _look_after(self, kind: str, proc: subprocess.Popen) -> None:
        now = time.monotonic()
        if proc.poll() is None:
            return
        if kind not in self._due:
            soon = self._delay[kind] is not None and now - self._started[kind] < RESTART_CALM
            self._delay[kind] = min(self._delay[kind] * 2, RESTART_MAX) if soon else RESTART_FIRST
            self._due[kind] = now + self._delay[kind]
            self._say(f"the {kind} worker ended (exit status {proc.returncode}); "
                      f"starting another in {self._delay[kind]:.1f} s")
        elif now >= self._due[kind]:
            del self._due[kind]
            self.procs[kind] = start_worker(kind)
            self._started[kind] = now
            self._say(f"the {kind} worker started again (process {self.procs[kind].pid})")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching, then end every worker (SIGTERM; killed after ``timeout``)."""
        with self._lock:
            self._stopping.set()
        self._thread.join()
        procs = list(self.procs.values())
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


@contextmanager
def workers_beside(start: bool) -> Iterator[Supervisor | None]:
    """The workers running (and kept running) for the life of the block; a SIGTERM (a service
    manager's stop) or Ctrl+C ends the block and them."""
    if not start:
        yield None
        return
    supervisor = Supervisor()
    # SIGTERM ends the server through the finally below, not past it
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield supervisor
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        supervisor.stop()
