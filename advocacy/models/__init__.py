"""Models of the advocacy app: cases and their timeline, required care coordination, and
claim disputes, billing reviews and referrals."""

from .cases import *  # noqa: F403
from .cases import __all__ as _cases
from .coordination import *  # noqa: F403
from .coordination import __all__ as _coordination
from .disputes import *  # noqa: F403
from .disputes import __all__ as _disputes

__all__ = [*_cases, *_coordination, *_disputes]
