"""A process's state as Linux reports it in /proc/<pid>/stat (proc(5)), for tests of the worker
processes and their database sessions."""

from __future__ import annotations


def proc_stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command's name (which may hold spaces and
    parentheses): index 0 is field 3 (the state), so field N of proc(5) is at N - 3."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def state(pid: int) -> str:
    """One letter: R running, S sleeping, Z zombie, ..."""
    return proc_stat(pid)[0]


def priority(pid: int) -> tuple[int, int]:
    """(nice, scheduling policy): fields 19 and 41."""
    fields = proc_stat(pid)
    return int(fields[19 - 3]), int(fields[41 - 3])
