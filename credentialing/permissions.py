"""Who may do what in credentialing: used by the services, the admin and the API alike."""

from __future__ import annotations

from typing import Any

DECIDE_PERMISSION = "credentialing.decide_credentialingapplication"
DOWNLOAD_PERMISSION = "credentialing.download_attachment"


def can_decide_application(user: Any) -> bool:
    """Record a committee decision (provider services)."""
    return bool(getattr(user, "is_authenticated", False)) and user.has_perm(DECIDE_PERMISSION)


def can_download_attachment(user: Any) -> bool:
    """Open an applicant's documents (provider services); every download is audited."""
    return bool(getattr(user, "is_authenticated", False)) and user.has_perm(DOWNLOAD_PERMISSION)
