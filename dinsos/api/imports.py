from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from dinsos import importing
from dinsos.api.idempotency import run_idempotent
from dinsos.api.schema import TABLE_FILE
from dinsos.api.serializers import ModelSerializer, Serializer
from dinsos.api.viewsets import ScopedGenericViewSet
from dinsos.models import ImportBatch
from dinsos.tabular import FORMATS, TableError


class ImportBatchSerializer(ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    file_kept = serializers.SerializerMethodField(
        help_text="Berkas asli masih disimpan; dihapus IMPORT_FILE_DAYS hari setelah impor "
                  "selesai, lalu laporan (report) hanya memuat baris yang ditolak.")

    class Meta:
        model = ImportBatch
        fields = ["id", "kind", "filename", "dry_run", "status", "message", "totals", "errors",
                  "rows_done", "rows_total", "area", "created_by", "created_at", "file_kept"]
        read_only_fields = fields

    def get_file_kept(self, instance) -> bool:
        return importing.file_kept(instance)

    def to_representation(self, instance):
        """``errors`` as the requesting user may read them (``importing.errors_as_seen``:
        numbers quoted in messages masked for a role that sees the records masked)."""
        data = super().to_representation(instance)
        if "errors" in data:
            request = self.context.get("request")
            data["errors"] = importing.errors_as_seen(instance, getattr(request, "user", None))
        return data


class ImportUploadSerializer(Serializer):
    kind = serializers.ChoiceField(choices=[])
    file = serializers.FileField()
    dry_run = serializers.BooleanField(default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, i.label) for k, i in importing.IMPORTERS.items()]


def _fmt(request) -> str:
    fmt = request.query_params.get("fmt", "csv")
    if fmt not in FORMATS:
        raise ValidationError({"fmt": [_("Format harus csv atau xlsx.")]})
    return fmt


class ImportBatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Uploads of CSV/XLSX files. POST a file (dry_run=true first), read the result, download
    the rows with their errors, then POST again with dry_run=false."""

    queryset = ImportBatch.objects.select_related("created_by")
    serializer_class = ImportBatchSerializer
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["kind", "status", "dry_run"]

    @extend_schema(request=ImportUploadSerializer, responses={202: ImportBatchSerializer})
    def create(self, request):
        def handle():
            upload = ImportUploadSerializer(data=request.data)
            upload.is_valid(raise_exception=True)
            try:
                data = upload.validated_data
                batch = importing.import_submit(actor=request.user, kind=data["kind"],
                                                upload=data["file"], dry_run=data["dry_run"])
            except TableError as exc:
                raise ValidationError({"file": [str(exc)]}) from exc
            batch.refresh_from_db()
            return Response(self.get_serializer(batch).data, status=status.HTTP_202_ACCEPTED)

        return run_idempotent(request, handle)

    @extend_schema(parameters=[OpenApiParameter("fmt", OpenApiTypes.STR, enum=list(FORMATS))],
                   responses=TABLE_FILE)
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        """The uploaded rows with a "kesalahan" column."""
        return importing.report_response(self.get_object(), user=request.user, fmt=_fmt(request))

    @extend_schema(parameters=[OpenApiParameter("fmt", OpenApiTypes.STR, enum=list(FORMATS))],
                   responses=TABLE_FILE)
    @action(detail=False, methods=["get"], url_path=r"template/(?P<kind>[a-z_]+)")
    def template(self, request, kind=None):
        """The empty template (with an example row and, in XLSX, a sheet of instructions)."""
        if kind not in importing.IMPORTERS:
            raise Http404
        return importing.template_response(kind, _fmt(request))
