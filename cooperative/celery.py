"""The Celery app. Every schedule lives here, in one place."""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cooperative.settings")

app = Celery("cooperative")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The beat schedule: one place for every periodic job of every app.
app.conf.beat_schedule = {
    "cooperative-heartbeat": {
        "task": "cooperative.heartbeat",
        "schedule": crontab(),  # every minute
        "options": {"expires": 50},
    },
    "providers-agreements-roll": {
        "task": "providers.agreements_roll",
        "schedule": crontab(hour=0, minute=10),  # just after midnight, America/Chicago
    },
    "providers-payer-contracts-roll": {
        "task": "providers.payer_contracts_roll",
        "schedule": crontab(hour=0, minute=15),  # renewal due, expired at term end
    },
    "members-daily": {
        "task": "members.memberships_daily",
        "schedule": crontab(hour=0, minute=20),  # activate, move plan versions, lapse
    },
    "members-enrollments-expire": {
        "task": "members.enrollments_expire",
        "schedule": crontab(minute=5),  # hourly: unconfirmed enrollments past their link's life
    },
    "credentialing-daily": {
        "task": "credentialing.monitoring_daily",
        "schedule": crontab(hour=0, minute=30),  # expirables, recredentialing, letters due
    },
    "credentialing-screening-monthly": {
        "task": "credentialing.screening_monthly",
        "schedule": crontab(day_of_month=2, hour=2, minute=0),  # after OIG's monthly update
    },
    "advocacy-daily": {
        "task": "advocacy.coordination_daily",
        "schedule": crontab(hour=1, minute=0),  # unanswered notices, missed plan reviews
    },
    "members-invoices-monthly": {
        "task": "members.invoices_generate",
        "schedule": crontab(day_of_month=1, hour=1, minute=0),
    },
}


@beat_init.connect
def _one_beat_per_deployment(sender: object = None, **kwargs: object) -> None:
    from .beat_lock import beat_lock_take

    beat_lock_take()
