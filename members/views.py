"""views of the members app (see STYLE.md: the rooms of an app)."""
