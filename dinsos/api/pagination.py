from rest_framework import pagination

from dinsos.pagination import BoundedPaginator


class PageNumberPagination(pagination.PageNumberPagination):
    """Page numbers with a bounded COUNT (dinsos/pagination.py): above 10,000 rows ``count``
    is PostgreSQL's estimate and the body says so with ``count_is_estimate: true``."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    django_paginator_class = BoundedPaginator

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        if self.page.paginator.estimated:
            response.data["count_is_estimate"] = True
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_is_estimate"] = {
            "type": "boolean",
            "description": "Ada dan bernilai true bila jumlah di atas 10.000 adalah perkiraan.",
        }
        return schema
