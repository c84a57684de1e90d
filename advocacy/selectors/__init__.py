"""Selectors of the advocacy app: every non-trivial read (see STYLE.md)."""

from .cases import *  # noqa: F403
from .cases import __all__ as _cases
from .coordination import *  # noqa: F403
from .coordination import __all__ as _coordination
from .disputes import *  # noqa: F403
from .disputes import __all__ as _disputes

__all__ = [*_cases, *_coordination, *_disputes]
