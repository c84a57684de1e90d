"""Required care coordination: utilization events, the requirements they trigger, the written
notice, the member's response, the 40% benefit penalty and treatment plans.

Every write checks the actor (an advocate, or the system passed as None), locks rows in one
fixed order (requirement → plan → review / notice / expense → accumulator → case), writes a
`CaseEvent(kind="requirement")` on the requirement's case for every change of the requirement's
status and an audit row for every change of a member's record. Idempotency lives here, backed
by the database: one event per natural key (`dedupe_key`), one requirement per member and
reason, one penalty line per expense, one accumulator per member and year.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from .common import REQUIREMENT_TRANSITIONS, long_date
from .plans import (
    plan_review_complete,
    plan_review_confirm_failure,
    plan_review_excuse,
    plan_reviews_mark_missed,
    treatment_plan_create,
)
from .requirements import RESPONSES as RESPONSES
from .requirements import (
    expense_add,
    notice_mark_sent,
    notice_render,
    notice_request,
    penalty_apply,
    requirement_record_response,
    requirements_mark_no_response,
)
from .triggers import requirements_evaluate
from .utilization import (
    IMPORT_COLUMNS,
    normalized_provider_name,
    utilization_dedupe_key,
    utilization_import,
    utilization_record,
)
from .utilization import IMPORT_MAX_BYTES as IMPORT_MAX_BYTES


def coordination_daily(*, today: date | None = None) -> dict[str, int]:
    """Daily (beat, 01:00): unanswered notices past their deadline, then missed plan reviews."""
    today = today or timezone.localdate()
    return {
        "no_response": requirements_mark_no_response(today=today),
        "reviews_missed": plan_reviews_mark_missed(today=today),
    }


__all__ = [
    "IMPORT_COLUMNS", "REQUIREMENT_TRANSITIONS",
    "coordination_daily", "expense_add", "long_date", "normalized_provider_name",
    "notice_mark_sent", "notice_render", "notice_request", "penalty_apply",
    "plan_review_complete", "plan_review_confirm_failure", "plan_review_excuse",
    "plan_reviews_mark_missed", "requirement_record_response", "requirements_evaluate",
    "requirements_mark_no_response", "treatment_plan_create", "utilization_dedupe_key",
    "utilization_import", "utilization_record",
]  # fmt: skip
