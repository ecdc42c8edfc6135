"""Who may use the app: passwords for a shared link, and a warning when it is open to others.

A Hugging Face Space is the other way round: its visibility (public or private) is set on the
Space's page; ``DEEPEXPO_AUTH`` as a Space secret adds a login page in front of a public one.
"""

from __future__ import annotations

import ipaddress
import os

from .. import hub
from ..errors import InputError

AUTH_ENV = "DEEPEXPO_AUTH"
LOOPBACK_NAMES = {"localhost", "ip6-localhost"}

Credentials = list[tuple[str, str]]


def parse_credentials(values: list[str]) -> Credentials:
    """``USER:PASS`` pairs (the password may contain ``:``); a one-line :class:`InputError`
    for one without a user or a password."""
    pairs = []
    for value in values:
        user, colon, password = value.partition(":")
        if not (user.strip() and colon and password):
            raise InputError(f"'{user.strip() or value}': give a login as USER:PASS")
        pairs.append((user.strip(), password))
    return pairs


def credentials(from_args: list[str] | None = None) -> Credentials:
    """The logins given with ``--auth`` (repeatable) and in ``DEEPEXPO_AUTH``
    (``user1:pass1,user2:pass2``), together."""
    from_env = [v for v in os.environ.get(AUTH_ENV, "").split(",") if v.strip()]
    return parse_credentials([*(from_args or []), *from_env])


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str | None, share: bool, protected: bool) -> str | None:
    """One line when the app is open to others without a password: a public link, or an
    address beyond this machine (``0.0.0.0``, as in the Docker image). Not on a Space, whose
    own visibility setting decides who reaches it."""
    if protected or hub.on_space():
        return None
    host = host or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    if share:
        where = "serves a public gradio.live link"
    elif not is_loopback(host):
        where = f"listens on {host}, beyond this machine,"
    else:
        return None
    return (f"the app {where} without a password: anyone who reaches it can use it; "
            f"add --auth USER:PASS or set {AUTH_ENV}=USER:PASS")
