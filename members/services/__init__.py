"""Writes of the members app. Callers use `members.services.<entity>_<verb>`; the modules
split the rule book by subject: enrollment, memberships (PCP change, cancel, contact, plan
versions, status machine) and billing (invoices, payments, imports, lapsing)."""

from .billing import *  # noqa: F403
from .employers import *  # noqa: F403
from .enrollment import *  # noqa: F403
from .enrollment_pending import *  # noqa: F403
from .memberships import *  # noqa: F403
from .standing import *  # noqa: F403
