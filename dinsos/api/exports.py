"""``GET <list>/export/?fmt=csv|xlsx&<filters>`` for any list endpoint, in one place: the same
queryset (scope + FilterSet + ordering) as the list, streamed, formula-safe."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError

from dinsos import audit
from dinsos.api.schema import TABLE_FILE
from dinsos.tabular import FORMATS, table_response


class ExportMixin:
    #: [(header, callable(obj, request) -> value)]
    export_columns: list = []
    export_name = "ekspor"

    @extend_schema(
        parameters=[OpenApiParameter("fmt", OpenApiTypes.STR, enum=list(FORMATS), default="csv")],
        responses=TABLE_FILE,
    )
    @action(detail=False, methods=["get"])
    def export(self, request, *args, **kwargs):
        fmt = request.query_params.get("fmt", "csv")
        if fmt not in FORMATS:
            raise ValidationError({"fmt": ["Format ekspor harus csv atau xlsx."]})
        queryset = self.filter_queryset(self.get_queryset())
        if getattr(self, "log_access", False):
            audit.log_read(queryset.model, what="ekspor", query=request.query_params.dict())
        header = [h for h, _f in self.export_columns]
        rows = ([f(obj, request) for _h, f in self.export_columns]
                for obj in queryset.iterator(chunk_size=2000))
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return table_response(header, rows, fmt=fmt, filename=f"{self.export_name}-{stamp}")
