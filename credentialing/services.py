"""services of the credentialing app (see STYLE.md: the rooms of an app)."""
