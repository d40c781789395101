"""The collector pause is counted: overlapping pauses (threads of the web app) leave it as found."""

import gc
import threading

from gisapp.gc_pause import gc_paused


def test_the_collector_stays_paused_until_the_last_of_two_overlapping_pauses_ends():
    assert gc.isenabled()
    second_inside, first_done, seen = threading.Event(), threading.Event(), []

    @gc_paused
    def second():
        second_inside.set()
        first_done.wait(5)
        seen.append(gc.isenabled())  # the first pause has ended; this one still runs

    @gc_paused
    def first():
        t = threading.Thread(target=second)
        t.start()
        second_inside.wait(5)
        return t

    t = first()
    first_done.set()
    t.join(5)
    assert seen == [False]
    assert gc.isenabled()


def test_a_pause_keeps_the_collector_off_when_it_was_off():
    gc.disable()
    try:
        gc_paused(lambda: None)()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_exception_ends_the_pause():
    @gc_paused
    def fails():
        raise ValueError("x")

    try:
        fails()
    except ValueError:
        pass
    assert gc.isenabled()
