"""Models of the credentialing app: applications and their form data, verification and
decisions, and ongoing monitoring (tasks, exclusion screening, change requests)."""

from .applications import *  # noqa: F403
from .applications import __all__ as _applications
from .monitoring import *  # noqa: F403
from .monitoring import __all__ as _monitoring
from .verification import *  # noqa: F403
from .verification import __all__ as _verification

__all__ = [*_applications, *_monitoring, *_verification]
