"""Writes of the credentialing app. Callers use `credentialing.services.<entity>_<verb>`;
the modules split the rule book by subject."""

from .applications import *  # noqa: F403
from .changes import *  # noqa: F403
from .decisions import *  # noqa: F403
from .monitoring import *  # noqa: F403
