"""Page routes of the advocacy app."""

app_name = "advocacy"

urlpatterns: list = []
