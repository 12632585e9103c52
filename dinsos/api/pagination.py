from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError

from dinsos.pagination import BoundedPaginator
from dinsos.validators import ascii_int

CURSOR = "cursor"
PAGE_SIZE = "page_size"


def parse_page_size(request, *, default: int, maximum: int) -> int:
    """``?page_size=`` of a list or a changes feed: a whole number in ASCII digits from 1 to
    ``maximum``, else 400 naming it (DRF ignored ``abc``, ``0`` or ``²`` and cut 501 to the
    maximum without a word); ``default`` when absent or empty."""
    value = request.query_params.get(PAGE_SIZE, "")
    if not value:
        return min(default, maximum)
    if (size := ascii_int(value)) is None or not 1 <= size <= maximum:
        raise ValidationError({PAGE_SIZE: [gettext("page_size harus 1 sampai %(max)s.") % {
            "max": maximum}]}, code="invalid_page_size")
    return size


def page_size_schema(maximum: int) -> dict:
    return {"type": "integer", "minimum": 1, "maximum": maximum}


class _PageSize:
    """``page_size`` read by ``parse_page_size`` and documented with its range."""

    page_size_query_param = PAGE_SIZE

    def get_page_size(self, request):
        return parse_page_size(request, default=self.page_size, maximum=self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == PAGE_SIZE:
                parameter["schema"] = page_size_schema(self.max_page_size)
        return parameters


class CursorPagination(_PageSize, pagination.CursorPagination):
    """Keyset pages in id order for machine clients that walk a whole list: each page is one
    indexed range scan after the last id seen, with no COUNT and no OFFSET, and rows added or
    removed meanwhile never make a page skip or repeat a row."""

    ordering = ("id",)  # the model's primary key, in get_ordering
    page_size = 50
    max_page_size = 500
    cursor_query_param = CURSOR
    invalid_cursor_message = _("Kursor tidak sah; mulai lagi dengan ?cursor= kosong.")

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound as exc:  # DRF answers 404 "Invalid cursor": it is bad input, named
            raise ValidationError({CURSOR: [self.invalid_cursor_message]},
                                  code="invalid") from exc

    def get_ordering(self, request, queryset, view):
        if request.query_params.get("ordering"):
            raise ValidationError({"ordering": [_(
                "Halaman kursor selalu berurutan menurut id; ordering tidak dapat dipakai "
                "bersama cursor.")]}, code="invalid_ordering")
        return (queryset.model._meta.pk.name,)  # id; a Wilayah's kode


class PageNumberPagination(_PageSize, pagination.PageNumberPagination):
    """Page numbers with a bounded COUNT (dinsos/pagination.py): above 10,000 rows ``count``
    is PostgreSQL's estimate and the body says so with ``count_is_estimate: true``.

    ``?cursor=`` (empty to start, then the ``next`` link) switches a list to keyset pages in id
    order (``CursorPagination``): for district sync clients that read a whole list."""

    page_size = 50
    max_page_size = 500
    cursor_query_param = CURSOR
    cursor = None
    count_key = None

    def django_paginator_class(self, queryset, page_size):
        return BoundedPaginator(queryset, page_size, count_key=self.count_key)

    def paginate_queryset(self, queryset, request, view=None):
        if self.cursor_query_param and self.cursor_query_param in request.query_params:
            self.cursor = CursorPagination()
            return self.cursor.paginate_queryset(queryset, request, view)
        # What the rows depend on: the list, the user (its scope) and the filters; not the page
        user = request.user
        self.count_key = repr((request.path, user.pk, getattr(user, "office_id", None),
                               sorted((name, values) for name, values in
                                      request.query_params.lists()
                                      if name not in (self.page_query_param,
                                                      self.page_size_query_param))))
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        if self.cursor is not None:
            return self.cursor.get_paginated_response(data)
        response = super().get_paginated_response(data)
        if self.page.paginator.estimated:
            response.data["count_is_estimate"] = True
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["required"] = ["results"]
        schema["properties"]["count"]["description"] = str(_(
            "Jumlah baris; tidak ada pada halaman kursor (?cursor=)."))
        schema["properties"]["count_is_estimate"] = {
            "type": "boolean",
            "description": "Ada dan bernilai true bila jumlah di atas 10.000 adalah perkiraan.",
        }
        return schema

    def get_schema_operation_parameters(self, view):
        if not self.cursor_query_param:
            return super().get_schema_operation_parameters(view)
        return [*super().get_schema_operation_parameters(view), {
            "name": CURSOR, "required": False, "in": "query", "schema": {"type": "string"},
            "description": str(_("Halaman kursor menurut id, tanpa jumlah: kosong untuk halaman "
                                 "pertama, lalu ikuti tautan next. Untuk klien yang membaca "
                                 "seluruh daftar.")),
        }]


class RowsPagination(PageNumberPagination):
    """Page numbers for a list computed as rows (dicts), not a queryset: keyset pages need a
    model's ordered id, so ``?cursor=`` is an unknown parameter there (400 naming it)."""

    cursor_query_param = None
