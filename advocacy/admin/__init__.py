"""The advocacy admin: cases with their timeline, priority targets, required care coordination,
claim disputes, bill reviews and referrals.

Every write goes through advocacy.services (the case form, its inlines and the actions alike), so
the admin, the workspace and the API share one rule book: a service's refusal shows next to the
field (the services run once as a rolled-back dry run while the form is validated) and nothing is
written. Nothing here is ever deleted (history is kept), notes and events are never edited, and
every staff view of a member's record writes an audit row.
"""

# Importing the modules registers their ModelAdmins (in this order) with the admin site.
from . import cases, coordination, reviews  # noqa: F401
