from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from dinsos import audit
from dinsos.api.errors import Conflict
from dinsos.api.fields import query_params
from dinsos.api.idempotency import IdempotentCreateMixin, idempotent_action, run_idempotent
from dinsos.api.pagination import RowsPagination
from dinsos.api.permissions import ModelPermissions, ProvinceWide
from dinsos.api.schema import TABLE_FILE
from dinsos.api.sync import ChangesFeedMixin
from dinsos.api.viewsets import ScopedReadOnlyModelViewSet
from dinsos.tabular import FORMATS, table_response
from incentives import reports, selectors, services
from incentives.api.serializers import (
    AdjustmentSerializer,
    ApproveSerializer,
    BudgetCeilingSerializer,
    CancelSerializer,
    ComputeSerializer,
    MarkPaidSerializer,
    PayoutLineSerializer,
    PayoutRunSerializer,
    RateSerializer,
    RealisationQuerySerializer,
    RunDocumentSerializer,
    RunStatusSerializer,
)
from incentives.choices import RunStatus
from incentives.filters import PayoutLineFilterSet, RunStatusFilterSet
from incentives.models import BudgetCeiling, PayoutLine, PayoutRun, Rate, RunDocument
from incentives.reports import REPORT_KINDS

PROVINCE = [ModelPermissions, ProvinceWide]


class RateViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Effective-dated rates. A new rate closes the one in force the day before."""

    queryset = Rate.objects.all()
    serializer_class = RateSerializer
    permission_classes = PROVINCE
    filterset_fields = ["role", "component", "funding_source", "paid_by_province"]
    pagination_class = None

    def create(self, request, *args, **kwargs):
        return run_idempotent(request, lambda: super(RateViewSet, self).create(
            request, *args, **kwargs))

    def perform_create(self, serializer):
        serializer.instance = services.rate_create(actor=self.request.user,
                                                   **serializer.validated_data)


class BudgetCeilingViewSet(IdempotentCreateMixin, viewsets.ModelViewSet):
    """Pagu per year × component × funding source (province roles); writes go through the
    service, POST honours Idempotency-Key."""

    queryset = BudgetCeiling.objects.all()
    serializer_class = BudgetCeilingSerializer
    permission_classes = PROVINCE
    filterset_fields = ["year", "component", "funding_source"]

    def perform_create(self, serializer):
        serializer.instance = services.ceiling_save(actor=self.request.user,
                                                    **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.ceiling_save(
            actor=self.request.user, ceiling=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.ceiling_delete(actor=self.request.user, ceiling=instance)


class PayoutRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       viewsets.GenericViewSet):
    """Monthly runs. POST computes (or recomputes) the draft of a period; then verify (Keuangan,
    not the one who computed), approve (Pimpinan, not the verifier), mark-paid, or cancel.
    `runs/<id>/lines/` is readable by a kab/kota operator for the workers of its area."""

    queryset = PayoutRun.objects.all()
    serializer_class = PayoutRunSerializer
    permission_classes = PROVINCE
    filterset_fields = ["status", "period"]
    ordering = ["-period", "-id"]

    def get_queryset(self):
        return selectors.run_list(user=self.request.user)

    # The workflow actions check their own permission in the service (verify_run,
    # approve_run, mark_paid_run, change_payoutrun), so Pimpinan — who may not compute — can
    # still approve.
    SERVICE_CHECKED = {"verify", "approve", "mark_paid", "cancel", "adjustments"}

    def get_permissions(self):
        if self.action == "lines":
            return [IsAuthenticated()]
        if self.action in self.SERVICE_CHECKED:
            return [IsAuthenticated(), ProvinceWide()]
        return super().get_permissions()

    @extend_schema(request=ComputeSerializer, responses=PayoutRunSerializer)
    def create(self, request):
        def handle():
            body = ComputeSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            run = services.run_compute(actor=request.user, period=body.validated_data["period"])
            return Response(PayoutRunSerializer(run).data, status=status.HTTP_201_CREATED)

        return run_idempotent(request, handle)

    def _act(self, request, serializer_class, func):
        body = serializer_class(data=request.data) if serializer_class else None
        if body is not None:
            body.is_valid(raise_exception=True)
        run = func(actor=request.user, run=self.get_object(),
                   **(body.validated_data if body is not None else {}))
        return Response(PayoutRunSerializer(run).data)

    @extend_schema(request=None, responses=PayoutRunSerializer)
    @action(detail=True, methods=["post"])
    @idempotent_action
    def verify(self, request, pk=None):
        return self._act(request, None, services.run_verify)

    @extend_schema(request=ApproveSerializer, responses=PayoutRunSerializer)
    @action(detail=True, methods=["post"])
    @idempotent_action
    def approve(self, request, pk=None):
        return self._act(request, ApproveSerializer, services.run_approve)

    @extend_schema(request=MarkPaidSerializer, responses=PayoutRunSerializer)
    @action(detail=True, methods=["post"], url_path="mark-paid")
    @idempotent_action
    def mark_paid(self, request, pk=None):
        body = MarkPaidSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = services.run_mark_paid(actor=request.user, run=self.get_object(),
                                     reference=body.validated_data["reference"],
                                     line_references=body.validated_data["line_references"])
        return Response(PayoutRunSerializer(run).data)

    @extend_schema(request=CancelSerializer, responses=PayoutRunSerializer)
    @action(detail=True, methods=["post"])
    @idempotent_action
    def cancel(self, request, pk=None):
        return self._act(request, CancelSerializer, services.run_cancel)

    @extend_schema(request=AdjustmentSerializer, responses=PayoutLineSerializer)
    @action(detail=True, methods=["post"])
    @idempotent_action
    def adjustments(self, request, pk=None):
        body = AdjustmentSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        line = services.adjustment_add(actor=request.user, run=self.get_object(),
                                       **body.validated_data)
        return Response(PayoutLineSerializer(line, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(responses=PayoutLineSerializer(many=True),
                   parameters=[OpenApiParameter("status", OpenApiTypes.STR),
                               OpenApiParameter("wilayah", OpenApiTypes.STR)])
    @action(detail=True, methods=["get"])
    def lines(self, request, pk=None):
        run = get_object_or_404(PayoutRun, pk=pk)
        if not request.user.has_perm("incentives.view_payoutline"):
            self.permission_denied(request)
        qs = PayoutLineFilterSet(request.query_params,
                                 selectors.line_list(user=request.user, run_id=run.pk),
                                 request=request).qs
        page = self.paginate_queryset(qs)
        audit.log_read(PayoutLine, what="daftar", pks=[line.pk for line in page])  # as lines/
        return self.get_paginated_response(
            PayoutLineSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(parameters=[OpenApiParameter("kind", OpenApiTypes.STR, OpenApiParameter.PATH,
                                                enum=REPORT_KINDS)],
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY,
                              202: RunDocumentSerializer})
    @action(detail=True, methods=["get"], url_path=r"reports/(?P<kind>[a-z-]+)")
    def report(self, request, pk=None, kind=None):
        """The document when it is ready; otherwise 202 with its status URL (it is made in the
        background; ask again, or poll the status URL, then download). The bank file of a run
        not yet approved: 409 (the Daftar Nominatif of such a run is a draft)."""
        try:
            document = services.document_request(actor=request.user, run=self.get_object(),
                                                 kind=kind)
        except reports.NotApproved as exc:
            raise Conflict(str(exc)) from exc
        if document.status == RunDocument.Status.READY:
            response = FileResponse(document.file.open("rb"), as_attachment=True,
                                    filename=document.filename,
                                    content_type=document.content_type)
            return reports.control_headers(response, document.control)
        data = RunDocumentSerializer(document, context={"request": request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED,
                        headers={"Location": data["status_url"], "Retry-After": "2"})

    @extend_schema(parameters=[OpenApiParameter("year", OpenApiTypes.INT),
                               OpenApiParameter("fmt", OpenApiTypes.STR, enum=list(FORMATS))],
                   responses=TABLE_FILE)
    @action(detail=False, methods=["get"])
    def realisation(self, request):
        params = query_params(request, RealisationQuerySerializer)
        year = params.get("year") or timezone.localdate().year
        header, rows = reports.realisation_rows(year)
        return table_response(header, rows, fmt=params["fmt"],
                              filename=f"realisasi-insentif-{year}")


class PayoutLineViewSet(ChangesFeedMixin, ScopedReadOnlyModelViewSet):
    """Payout lines with their explanation ("why this amount"). Province roles see all; a
    kab/kota operator the lines of workers assigned in its area. Filter by `run`, `status`…"""

    queryset = PayoutLine.objects.all()
    serializer_class = PayoutLineSerializer
    filterset_class = PayoutLineFilterSet
    ordering = ["run", "area_id", "role", "id"]
    log_access = True  # each worker's name and account number (whole for Keuangan)

    def get_queryset(self):
        return selectors.line_list(user=self.request.user)


class RunStatusViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Is a month final? The runs covering the lines you may read (`dihitung`, `diverifikasi`,
    `disetujui`, `dibayar`), with the count and payable total of your lines only. Filter by
    `period` (YYYY-MM) or `status`."""

    serializer_class = RunStatusSerializer
    pagination_class = RowsPagination
    filterset_class = None
    ordering = None
    extra_query_params = ("period", "status")

    def get_permissions(self):
        return [IsAuthenticated()]

    def get_queryset(self):
        return PayoutLine.objects.none()

    @extend_schema(parameters=[OpenApiParameter("period", OpenApiTypes.STR,
                                                description="YYYY-MM"),
                               OpenApiParameter("status", OpenApiTypes.STR)])
    def list(self, request, *args, **kwargs):
        if not request.user.has_perm("incentives.view_payoutline"):
            self.permission_denied(request)
        self.filter_queryset(self.get_queryset())  # refuses unknown parameters
        filters = RunStatusFilterSet(request.query_params)
        if not filters.is_valid():
            raise ValidationError(filters.errors)
        rows = selectors.run_status_list(user=request.user, filters=request.query_params)
        page = self.paginate_queryset(rows)
        data = [{**row, "run": row["run_id"], "period": row["run_period"],
                 "status": row["run_status"],
                 "status_display": RunStatus(row["run_status"]).label} for row in page]
        return self.get_paginated_response(RunStatusSerializer(data, many=True).data)


class RunDocumentViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The status of a document being made (`menunggu`, `siap`, `gagal`) and, when ready, its
    `download_url`."""

    queryset = RunDocument.objects.select_related("run")
    serializer_class = RunDocumentSerializer
    permission_classes = PROVINCE
