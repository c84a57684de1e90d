"""Queue work from a page without letting a slow or down broker block the page.

`enqueue` publishes with the bounded retry policy of the settings (one quick retry, short
socket timeouts) and does not wait on the result backend; if the broker still cannot take the
message, the work is done by the fallback instead (by default: the task runs here, inline), so
a person is answered in bounded time and the work is not lost."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

BROKER_ERRORS: tuple[type[BaseException], ...] = (OperationalError, RedisError, OSError)


def enqueue(
    task: Any, *, args: Sequence[Any] = (), fallback: Callable[[], Any] | None = None
) -> bool:
    """Send `task(*args)` to the workers; True when queued. When the broker refuses within the
    bound, run `fallback` (default: the task itself, inline) and return False."""
    try:
        task.apply_async(
            args=list(args),
            retry=True,
            retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY,
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
