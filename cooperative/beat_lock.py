"""One Celery beat per deployment, enforced: beat takes a Redis lock as it starts and renews it
while it runs. A second beat (on this host or any other) finds the lock held and exits with a
line saying which process holds it, so no schedule ever fires twice; when the holder stops,
its lock is released (or expires after BEAT_LOCK_SECONDS if the host died) and a new beat may
start. The lock is a token in one key: only its holder may renew or release it (compare-and-set
in Lua, atomic in Redis)."""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
import uuid
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

# Renew the key's life if it still holds our token; 1 when renewed, 0 when it is not ours.
RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
# Delete the key only if it still holds our token.
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class BeatLockHeld(SystemExit):
    """Another beat holds the lock: this one must not schedule anything."""


def _client() -> Any:
    from .health import redis_client

    return redis_client()


def token_new() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lock_acquire(token: str) -> str | None:
    """Take the lock for `token`; None when taken, else the holder's token."""
    client = _client()
    if client.set(settings.BEAT_LOCK_KEY, token, nx=True, ex=settings.BEAT_LOCK_SECONDS):
        return None
    holder = client.get(settings.BEAT_LOCK_KEY)
    return holder.decode() if holder else "another beat (its lock just expired; try again)"


def lock_renew(token: str) -> bool:
    """Extend our lock's life; False when the key no longer holds our token."""
    milliseconds = settings.BEAT_LOCK_SECONDS * 1000
    return bool(_client().eval(RENEW, 1, settings.BEAT_LOCK_KEY, token, milliseconds))


def lock_release(token: str) -> bool:
    return bool(_client().eval(RELEASE, 1, settings.BEAT_LOCK_KEY, token))


def _keep_renewing(token: str, stop: threading.Event) -> None:
    """Renew every third of the lock's life. Losing the lock (another beat took it after a long
    Redis outage, or someone deleted it) stops this process at once: two schedulers are worse
    than none for a minute. A Redis error is retried at the next turn."""
    interval = max(settings.BEAT_LOCK_SECONDS / 3, 0.5)
    while not stop.wait(interval):
        try:
            if lock_renew(token):
                continue
            if lock_acquire(token) is None:  # expired while Redis was away; nobody took it
                continue
        except Exception:
            logger.warning("beat lock: could not renew; retrying", exc_info=True)
            continue
        logger.critical("beat lock lost to another beat: this beat stops now")
        os._exit(3)


def beat_lock_take(**_: Any) -> None:
    """The `beat_init` receiver: take the lock or exit; then renew it in a daemon thread and
    release it when the process exits."""
    token = token_new()
    holder = lock_acquire(token)
    if holder is not None:
        message = (
            f"Another Celery beat is running ({holder} holds {settings.BEAT_LOCK_KEY}). "
            "Run one beat per deployment; this one exits."
        )
        logger.error(message)
        raise BeatLockHeld(message)
    logger.info("beat lock %s taken by %s", settings.BEAT_LOCK_KEY, token)
    stop = threading.Event()
    threading.Thread(
        target=_keep_renewing, args=(token, stop), name="beat-lock", daemon=True
    ).start()

    def release() -> None:
        stop.set()
        try:
            lock_release(token)
        except Exception:
            logger.warning("beat lock: could not release (it expires by itself)", exc_info=True)

    atexit.register(release)
