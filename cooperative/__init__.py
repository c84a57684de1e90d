"""CoopCare's shared kernel: settings, root URLs, Celery app, roles, audit log, money and periods."""

from .celery import app as celery_app

__all__ = ["celery_app"]
