"""DeepExPo web app: ``python app.py`` (``--share`` for a public link).

Host and port default to Gradio's ``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT`` (as set on a
Hugging Face Space), else 127.0.0.1:7860. ``--auth USER:PASS`` (repeatable) or
``DEEPEXPO_AUTH=user1:pass1,user2:pass2`` puts a login page in front of it.
"""

import argparse
import logging
import os
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no network call at start
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # their notices are not the user's
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")

from deepexpo.errors import DeepExPoError  # noqa: E402
from deepexpo.runtime import quiet_native_stderr  # noqa: E402
from deepexpo.ui import build_demo, launch  # noqa: E402
from deepexpo.ui.access import credentials  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent / "assets" / "examples"

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default 7860)")
    parser.add_argument("--share", action="store_true", help="also serve a public gradio.live link")
    parser.add_argument("--auth", action="append", metavar="USER:PASS",
                        help="require this login (repeatable; also DEEPEXPO_AUTH)")
    args = parser.parse_args()
    try:
        logins = credentials(args.auth)
    except DeepExPoError as exc:
        parser.error(str(exc))
    # Warnings and errors, ours and third-party libraries' (per-request notes would drown them).
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    quiet_native_stderr()  # MediaPipe's C++ lines are not the app's log
    launch(build_demo(EXAMPLES), auth=logins, server_name=args.host, server_port=args.port,
           share=args.share)
