"""Process-wide settings that keep DeepExPo's work safe and what reaches the terminal its own.

BLAS threads. numpy 1.26's wheel bundles OpenBLAS 0.3.23, which can deadlock when two Python
threads multiply matrices at once while it runs its own thread pool (the app's job threads,
a video's decode-ahead thread): both threads wait inside OpenBLAS for good. DeepExPo's matrix
products are small (478 landmarks), so one BLAS thread costs nothing measurable and rules the
deadlock out. ``OPENBLAS_NUM_THREADS`` acts only if set before numpy is imported, so
:func:`bound_blas_threads` sets it (a value the user set wins) and also applies it at run time
with ``threadpoolctl``, for a program that imported numpy before DeepExPo.

MediaPipe's C++ logging. MediaPipe and TFLite write straight to file descriptor 2 from their
own threads (``W0000 ... inference_feedback_manager.cc``, ``INFO: Created TensorFlow Lite
XNNPACK delegate``), before absl's logging is set up, so ``GLOG_minloglevel`` and
``TF_CPP_MIN_LOG_LEVEL`` change nothing (measured with mediapipe 0.10.21), and the lines come
at a graph's first frame, not at its creation. :func:`quiet_native_stderr` is for programs
(the command line, the app): Python's own ``sys.stderr`` keeps the terminal, and descriptor 2,
which only native code writes to directly, goes to ``/dev/null``.
"""

from __future__ import annotations

import io
import os
import sys

BLAS_THREADS_ENV = "OPENBLAS_NUM_THREADS"


def bound_blas_threads() -> None:
    """At most ``OPENBLAS_NUM_THREADS`` (default 1) BLAS threads, from now on and in child
    processes. Must run before numpy is imported to act on its start as well."""
    os.environ.setdefault(BLAS_THREADS_ENV, "1")
    try:
        limit = max(1, int(os.environ[BLAS_THREADS_ENV]))
    except ValueError:
        limit = 1
    import numpy  # noqa: F401  (loads the BLAS library that threadpoolctl then finds)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limit, user_api="blas")


def fork_ffmpeg_safely() -> None:
    """FFmpeg started without imageio-ffmpeg's ``preexec_fn`` (a user's setting wins).

    That hook, which keeps Ctrl-C away from FFmpeg, makes Python run code in the forked child
    before it execs; in a process with many threads (the app's jobs, a test session) that child
    can hang for good in ``PyOS_AfterFork_Child``, and the job waiting on it with it
    (imageio-ffmpeg's issue #58; seen here in a full test run). Read at each start, so setting
    it at import covers every reader and writer."""
    os.environ.setdefault("IMAGEIO_FFMPEG_NO_PREVENT_SIGINT", "1")


def quiet_native_stderr() -> None:
    """Native libraries' writes to descriptor 2 are discarded; Python's ``sys.stderr``
    (logging, progress bars, errors, tracebacks) still reaches the terminal. Call once, in a
    program's entry point: it changes the whole process and the processes it starts. Does
    nothing where ``sys.stderr`` is redirected already (under pytest, say)."""
    if sys.stderr is not sys.__stderr__ or sys.stderr is None:  # already redirected (a test)
        return
    sys.stderr.flush()
    try:
        terminal = os.dup(2)
    except OSError:  # no descriptor 2 at all: nothing would be printed anyway
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    stream = io.TextIOWrapper(io.FileIO(terminal, "w"), encoding=sys.stderr.encoding,
                              errors="backslashreplace", line_buffering=True)
    sys.stderr = stream
