"""Page routes of the credentialing app."""

app_name = "credentialing"

urlpatterns: list = []
