"""Queue work from a page without letting a slow or down broker block the page.

`enqueue` publishes on its own short-lived broker connection with tight socket timeouts and
one quick retry (workers keep Celery's usual, patient settings), and never waits on the result
backend; if the broker cannot take the message within that bound, the work is done by the
fallback instead (by default: the task runs here, inline), so a person is answered in bounded
time and the work is not lost."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

BROKER_ERRORS: tuple[type[BaseException], ...] = (OperationalError, RedisError, OSError)
# Seconds to connect to, and then to hear back from, the broker for one publish from a page.
PUBLISH_SOCKET_TIMEOUT = 0.4
# One quick retry (a broker restarting), then the fallback: at most about a second in all.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.1, "interval_step": 0, "interval_max": 0.1}  # fmt: skip


def enqueue(
    task: Any, *, args: Sequence[Any] = (), fallback: Callable[[], Any] | None = None
) -> bool:
    """Send `task(*args)` to the workers; True when queued. When the broker refuses or does not
    answer within the bound, run `fallback` (default: the task itself, inline); False."""
    app = task.app
    try:
        with app.connection_for_write(
            connect_timeout=PUBLISH_SOCKET_TIMEOUT,
            transport_options={
                "socket_connect_timeout": PUBLISH_SOCKET_TIMEOUT,
                "socket_timeout": PUBLISH_SOCKET_TIMEOUT,
                "max_retries": 0,
            },
        ) as connection:
            task.apply_async(
                args=list(args),
                connection=connection,
                producer=app.amqp.Producer(connection, auto_declare=False),
                retry=True,
                retry_policy=PUBLISH_RETRY_POLICY,
                ignore_result=True,  # never subscribe to the result backend from a page
            )
    except BROKER_ERRORS as error:
        logger.warning("broker unavailable (%s): running %s here instead", error, task.name)
        if fallback is not None:
            fallback()
        else:
            task.apply(args=list(args))
        return False
    return True
