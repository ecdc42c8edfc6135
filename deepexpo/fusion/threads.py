"""The CPU threads generation runs on: as many as this process may really use. A container (a
Hugging Face Space, a cluster job) often shows every core of its host while its quota allows
two; PyTorch, sized to the host, would then run far more threads than cores and slow down."""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")  # cgroup v2: "<quota> <period>" or "max ..."


def usable_cpus() -> int:
    """The cores this process may run on (its affinity), capped by its cgroup CPU quota."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    count = count or 1
    try:
        quota, period = CGROUP_CPU_MAX.read_text().split()[:2]
        if quota != "max":
            count = min(count, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return count


def size_torch_threads() -> int:
    """Set PyTorch's intra-op threads to :func:`usable_cpus` (it is process-wide); returns it."""
    threads = usable_cpus()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads
