"""admin of the advocacy app (see STYLE.md: the rooms of an app)."""
