"""The background producer behind video loops: order, errors and early stops."""

import threading

import pytest

from deepexpo.prefetch import prefetch


def test_items_arrive_in_order_from_another_thread():
    threads = set()

    def numbers():
        for i in range(50):
            threads.add(threading.current_thread().name)
            yield i

    assert list(prefetch(numbers(), depth=3)) == list(range(50))
    assert threads == {"deepexpo-prefetch"}


def test_a_producer_error_is_raised_at_the_item_it_failed_on():
    def failing():
        yield 1
        yield 2
        raise ValueError("bad frame")

    got = []
    with pytest.raises(ValueError, match="bad frame"):
        for item in prefetch(failing()):
            got.append(item)
    assert got == [1, 2]


def test_stopping_early_stops_the_producer_and_runs_its_cleanup():
    closed = threading.Event()
    made = []

    def endless():
        try:
            i = 0
            while True:
                made.append(i)
                yield i
                i += 1
        finally:
            closed.set()

    for item in prefetch(endless(), depth=2):
        if item == 3:
            break
    assert closed.wait(5.0)
    assert len(made) <= 3 + 1 + 2 + 1  # what was taken, the buffer and one in hand
