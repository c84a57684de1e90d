"""api of the payouts app (see STYLE.md: the rooms of an app)."""
