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


# Tasks that send one email each: a short queue of their own, so that a month's payout run or a
# big screening never keeps a member waiting for the enrollment link.
EMAIL_TASK_SUFFIX = "_send"
# Long batch jobs that read imported files (the exclusion lists).
IMPORT_TASKS = frozenset({"credentialing.screening_run_execute", "credentialing.screening_monthly"})


def queue_for(task_name: str) -> str | None:
    """The queue a task goes to: payouts' rendering, email and imports each have their own (names
    from settings, so a deployment or a test can point them elsewhere); None for the default
    queue (settings.CELERY_TASK_DEFAULT_QUEUE), where everything else waits."""
    from django.conf import settings

    if task_name.startswith("payouts."):
        return str(settings.PAYOUTS_QUEUE)
    if task_name.endswith(EMAIL_TASK_SUFFIX):
        return str(settings.EMAIL_QUEUE)
    if task_name in IMPORT_TASKS:
        return str(settings.IMPORTS_QUEUE)
    return None


def route_task(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **kw: Any) -> Any:
    """Celery's router (settings.CELERY_TASK_ROUTES): see `queue_for`."""
    queue = queue_for(name)
    return {"queue": queue} if queue else None
