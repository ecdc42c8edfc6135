"""Two threads running video transfers at once (the app's two job slots) never deadlock: numpy's
OpenBLAS 0.3.23 can hang when two threads multiply matrices while it runs its own thread pool,
and ``import deepexpo`` bounds it to one thread (``deepexpo/runtime.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]

_TWO_THREADS = textwrap.dedent("""
    import sys, threading
    import numpy as np
    from PIL import Image
    import deepexpo
    from threadpoolctl import threadpool_info

    source = np.asarray(Image.open(sys.argv[1]).convert("RGB"))
    driving, out, jobs = sys.argv[2], sys.argv[3], int(sys.argv[4])
    print("blas threads", sorted({i["num_threads"] for i in threadpool_info()
                                  if i["user_api"] == "blas"}), flush=True)
    done = []

    def work(k):
        for i in range(jobs):
            deepexpo.transfer_video(source, driving, f"{out}/{k}-{i}.mp4", keep_audio=False)
            done.append((k, i))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("jobs done", len(done), flush=True)
""")


def test_two_threads_of_video_transfers_finish(tmp_path, astronaut, driving_video):
    """Run in a child process with a timeout, so that a deadlock fails the test instead of
    hanging the suite; the child's environment sets no BLAS threads of its own."""
    source = tmp_path / "source.png"
    Image.fromarray(astronaut).save(source)
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    jobs = 5
    done = subprocess.run([sys.executable, "-c", _TWO_THREADS, str(source), str(driving_video),
                           str(tmp_path), str(jobs)],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "blas threads [1]" in done.stdout
    assert f"jobs done {2 * jobs}" in done.stdout
    assert len(list(tmp_path.glob("*.mp4"))) == 2 * jobs


def test_blas_threads_are_bounded_after_numpy_was_imported_first():
    """A program that imported numpy (with its default pool) before DeepExPo is bounded too."""
    code = ("import numpy\nfrom threadpoolctl import threadpool_info\n"
            "before = max(i['num_threads'] for i in threadpool_info())\n"
            "import deepexpo\n"
            "after = max(i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas')\n"
            "print(before, after)")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env=env, check=True).stdout.split()
    assert out[1] == "1"
    # A user's own setting wins.
    env["OPENBLAS_NUM_THREADS"] = "2"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env=env, check=True).stdout.split()
    assert out[1] == "2" or os.cpu_count() == 1
