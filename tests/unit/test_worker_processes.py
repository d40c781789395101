"""The supervision of the workers beside the server: one that ends is started again, later each
time it keeps ending, and none is started after the server stopped them."""

from __future__ import annotations

import re
import subprocess
import sys
import time

from gisapp.rules import worker_processes


def test_a_worker_that_keeps_ending_is_started_again_later_each_time(monkeypatch):
    started: list[str] = []

    def short_lived(kind):
        started.append(kind)
        code = "import sys; sys.exit(3)" if kind == "zones" else "import time; time.sleep(60)"
        return subprocess.Popen([sys.executable, "-c", code])

    monkeypatch.setattr(worker_processes, "start_worker", short_lived)
    monkeypatch.setattr(worker_processes, "RESTART_FIRST", 0.2)
    monkeypatch.setattr(worker_processes, "RESTART_MAX", 0.8)
    monkeypatch.setattr(worker_processes, "WATCH_SECONDS", 0.05)
    said: list[str] = []
    supervisor = worker_processes.Supervisor(say=said.append)
    try:
        deadline = time.monotonic() + 30
        while started.count("zones") < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        supervisor.stop(timeout=5)
    ends = [line for line in said if line.startswith("the zones worker ended")]
    assert len(ends) >= 4, said
    assert all("(exit status 3)" in line for line in ends)
    delays = [float(re.search(r"in ([\d.]+) s", line).group(1)) for line in ends]
    assert delays[:4] == [0.2, 0.4, 0.8, 0.8], "each end soon after a start waits twice as long, up to the most"
    assert started.count("parcels") == 1 and started.count("city") == 1, "the others are left running"
    assert all(p.poll() is not None for p in supervisor.procs.values()), "stop ends every worker"
    n = len(started)
    time.sleep(0.5)
    assert len(started) == n, "no worker is started after stop"
