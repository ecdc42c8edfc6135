"""Who may use the Live tab now. One machine renders every visitor's frames, so it serves a few
live sessions at once, each for a limited time. A visitor beyond them waits in line and is told
their place and about how long, rather than left waiting without a word.

Gradio gives nothing to wait on: a webcam stream simply keeps sending frames (and starts over
when its event ends). So each frame claims its visitor's place: a visitor is in line, or holds
a slot, for as long as their frames keep coming.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from ..errors import BusyError


class Closable(Protocol):
    def close(self) -> None: ...


T = TypeVar("T", bound=Closable)


@dataclass
class _Lease(Generic[T]):
    session: T
    started: float
    seen: float  # when its last frame came


class LiveSlots(Generic[T]):
    """At most ``count`` sessions at once; a free slot goes to whoever has waited longest. A
    session keeps its slot for ``session_s`` seconds, and beyond that only while no one waits.
    A visitor whose frames stop for ``idle_s`` (a closed tab, a stopped webcam) leaves the line
    or frees their slot; a session is closed when it loses its slot."""

    def __init__(self, count: int, session_s: float, idle_s: float,
                 clock: Callable[[], float] = time.monotonic):
        self.count, self.session_s, self.idle_s = count, session_s, idle_s
        self._clock = clock
        self._leases: dict[str, _Lease[T]] = {}
        self._waiting: dict[str, float] = {}  # in order of arrival: when each was last seen
        self._lock = threading.Lock()

    def claim(self, holder: str, start: Callable[[], T]) -> T:
        """``holder``'s session (``start()`` makes it when they get a slot), or a
        :class:`BusyError` that says their place in line and about how long they will wait."""
        with self._lock:
            now = self._clock()
            self._forget_idle(now)
            lease = self._leases.get(holder)
            if lease is not None and now - lease.started > self.session_s:
                if self._waiting:  # the slot goes to the next in line; this one joins it
                    self._end(holder)
                    self._waiting[holder] = now
                    raise BusyError(f"Your live session reached its {self.session_s:.0f} s "
                                    f"limit and another visitor is waiting: you are in line "
                                    f"after them.")
                lease.started = now  # no one waits: a new session at once
            if lease is None:
                self._waiting[holder] = now
                place = list(self._waiting).index(holder)
                if place >= self.count - len(self._leases):
                    raise BusyError(self._busy_message(place, now))
                del self._waiting[holder]
                lease = self._leases[holder] = _Lease(start(), now, now)
            lease.seen = now
            return lease.session

    def session(self, holder: str) -> T | None:
        """``holder``'s session while it holds a slot."""
        with self._lock:
            lease = self._leases.get(holder)
            return None if lease is None else lease.session

    def release(self, holder: str) -> None:
        """``holder`` stopped: their slot (or place in line) is free at once."""
        with self._lock:
            self._waiting.pop(holder, None)
            self._end(holder)

    def _forget_idle(self, now: float) -> None:
        for holder in [h for h, seen in self._waiting.items() if now - seen > self.idle_s]:
            del self._waiting[holder]
        for holder in [h for h, lease in self._leases.items() if now - lease.seen > self.idle_s]:
            self._end(holder)

    def _end(self, holder: str) -> None:
        lease = self._leases.pop(holder, None)
        if lease is not None:
            lease.session.close()

    def _busy_message(self, place: int, now: float) -> str:
        """Where ``place`` (0: next) stands: slots free as sessions reach their limit."""
        ends = sorted(max(lease.started + self.session_s - now, 0.0)
                      for lease in self._leases.values()) or [0.0]  # those ahead claim now
        wait = ends[place % len(ends)] + (place // len(ends)) * self.session_s
        people = "one visitor" if self.count == 1 else f"{self.count} visitors"
        where = "You are next" if place == 0 else f"You are number {place + 1} in line"
        return (f"The live view is busy: it serves {people} at a time, for up to "
                f"{self.session_s:.0f} s each. {where}; your stream starts by itself in about "
                f"{max(wait, 1):.0f} s (keep the webcam on).")
