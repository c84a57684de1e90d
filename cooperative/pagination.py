"""API pagination (kept apart from cooperative.api so DRF settings import it without cycles)."""

from rest_framework.pagination import PageNumberPagination


class DefaultPagination(PageNumberPagination):
    """Every list is paginated: ?page=N&page_size=M (max 200)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
