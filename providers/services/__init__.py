"""Writes of the providers app: the network and the rate agreements. Callers use
`providers.services.<entity>_<verb>`; the modules split the rule book by subject."""

from .agreements import *  # noqa: F403
from .network import *  # noqa: F403
from .offers import *  # noqa: F403
from .payers import *  # noqa: F403
