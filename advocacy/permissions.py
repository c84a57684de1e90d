"""Who may do what in advocacy: used by the services, the pages, the admin and the API alike."""

from __future__ import annotations

from typing import Any

WORK_PERMISSION = "advocacy.work_case"


def can_work_cases(user: Any) -> bool:
    """Open, read and work cases, requirements, disputes and reviews (advocates)."""
    return bool(getattr(user, "is_authenticated", False)) and user.has_perm(WORK_PERMISSION)


def is_system_or_advocate(user: Any) -> bool:
    """The system (a beat job, a trigger: passed as None) or an advocate; never an anonymous visitor."""
    return user is None or can_work_cases(user)
