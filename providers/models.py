"""models of the providers app (see STYLE.md: the rooms of an app)."""
