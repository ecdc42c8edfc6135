"""Where batch rows run: a local process pool or a Ray cluster, behind one interface so the
row function, the progress bar and the summary are shared."""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Protocol, TypeVar

from ..errors import InputError

logger = logging.getLogger("deepexpo")
T = TypeVar("T")
INSTALL_RAY = "--ray needs Ray: pip install -r requirements-cluster.txt"


class Executor(Protocol):
    """Runs ``function(*args)`` for every task and yields the results as they finish."""

    def map_unordered(self, function: Callable[..., T],
                      tasks: Sequence[tuple[Any, ...]]) -> Iterator[T]: ...


class LocalPool:
    """Worker processes on this machine, spawned, not forked: MediaPipe's and torch's threads
    do not survive a fork."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = max(1, workers)

    def map_unordered(self, function: Callable[..., T],
                      tasks: Sequence[tuple[Any, ...]]) -> Iterator[T]:
        if not tasks:
            return
        with ProcessPoolExecutor(self.workers,
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(function, *task) for task in tasks]
            for future in as_completed(futures):
                yield future.result()


class RayCluster:
    """Each task a Ray task (retried twice when its worker dies, run by a worker that keeps
    what it loaded for the next task), results streamed back with ``ray.wait`` as they
    finish. ``address`` ``None`` follows ``RAY_ADDRESS`` or starts a local Ray; a Ray already
    initialised in this process is used as it is."""

    def __init__(self, address: str | None = None, cpus_per_task: float = 1,
                 gpus_per_task: float = 0) -> None:
        try:
            import ray
        except ImportError:
            raise InputError(INSTALL_RAY) from None
        self.ray = ray
        self.address = address
        # max_calls 0: a worker runs any number of tasks, GPU tasks too (Ray's default for them
        # is one task per process), so the engine a worker loaded serves all its tasks
        self.options = {"num_cpus": cpus_per_task, "num_gpus": gpus_per_task, "max_retries": 2,
                        "max_calls": 0}

    def map_unordered(self, function: Callable[..., T],
                      tasks: Sequence[tuple[Any, ...]]) -> Iterator[T]:
        if not tasks:
            return
        ray = self.ray
        if not ray.is_initialized():
            # Ray's own notices (its start, its token) only with -v: they are not ours to show
            level = logging.INFO if logger.isEnabledFor(logging.INFO) else logging.ERROR
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                     logging_level=level)
        remote = ray.remote(**self.options)(function)
        pending = [remote.remote(*task) for task in tasks]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield from ray.get(done)
