from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from dinsos.api.exports import ExportMixin
from dinsos.api.fields import MonthField
from dinsos.api.filters import KnownParametersFilter
from dinsos.api.idempotency import idempotent_action
from dinsos.api.serializers import Serializer
from dinsos.api.sync import ChangesFeedMixin
from dinsos.api.viewsets import ScopedGenericViewSet, ScopedModelViewSet
from dinsos.scoping import mask_for
from psks import selectors, services
from psks.api.serializers import (
    ActivityReportSerializer,
    AssignmentEndSerializer,
    AssignmentSerializer,
    BankAccountSerializer,
    BankAccountVerifySerializer,
    BankSerializer,
    CoverageSerializer,
    InstitutionSerializer,
    MeetingSerializer,
    ReportRejectSerializer,
    WorkerSerializer,
    WorkerStatusSerializer,
)
from psks.filters import (
    ActivityReportFilterSet,
    AssignmentFilterSet,
    BankAccountFilterSet,
    InstitutionFilterSet,
    MeetingFilterSet,
    WorkerFilterSet,
)
from psks.models import ActivityReport, Assignment, Bank, BankAccount, Institution, Meeting, Worker


class WorkerViewSet(ChangesFeedMixin, ExportMixin, ScopedModelViewSet):
    """Workers (tenaga). `?role=tksk` keeps those with an active assignment today (or `?on=`)."""

    queryset = Worker.objects.all()
    serializer_class = WorkerSerializer
    filterset_class = WorkerFilterSet
    ordering_fields = ["name", "created_at"]
    ordering = ["name", "id"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    log_access = True
    export_name = "psks-tenaga"
    export_columns = [
        ("nik", lambda o, r: mask_for(r.user, Worker, "nik", o.nik)),
        ("nama", lambda o, r: o.name),
        ("jenis_kelamin", lambda o, r: o.sex),
        ("pendidikan", lambda o, r: o.education),
        ("telepon", lambda o, r: o.phone),
        ("kode_desa", lambda o, r: o.desa_id),
        ("desa", lambda o, r: o.desa.nama),
        ("status", lambda o, r: o.get_status_display()),
    ]

    def get_queryset(self):
        return selectors.worker_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.worker_register(actor=self.request.user,
                                                       **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.worker_update(
            actor=self.request.user, worker=serializer.instance, **serializer.validated_data)

    @extend_schema(request=WorkerStatusSerializer, responses=WorkerSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    @idempotent_action
    def set_status(self, request, pk=None):
        body = WorkerStatusSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        worker = services.worker_set_status(actor=request.user, worker=self.get_object(),
                                            **body.validated_data)
        return Response(self.get_serializer(worker).data)


class AssignmentViewSet(ChangesFeedMixin, ExportMixin, ScopedModelViewSet):
    """Assignments by decree. Not deleted: ended with `POST assignments/<id>/end/`."""

    queryset = Assignment.objects.all()
    serializer_class = AssignmentSerializer
    filterset_class = AssignmentFilterSet
    ordering_fields = ["start_date", "end_date", "created_at"]
    ordering = ["-start_date", "id"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    export_name = "psks-penugasan"
    export_columns = [
        ("nama", lambda o, r: o.worker.name),
        ("peran", lambda o, r: o.get_role_display()),
        ("kode_wilayah_tugas", lambda o, r: o.area_id),
        ("wilayah_tugas", lambda o, r: o.area.nama),
        ("nomor_sk", lambda o, r: o.decree_number),
        ("tanggal_sk", lambda o, r: o.decree_date),
        ("mulai", lambda o, r: o.start_date),
        ("selesai", lambda o, r: o.end_date),
        ("sumber_dana", lambda o, r: o.get_funding_source_display()),
    ]

    def get_queryset(self):
        return selectors.assignment_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.assignment_create(actor=self.request.user,
                                                         **serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("worker", None)
        data.pop("role", None)
        serializer.instance = services.assignment_update(
            actor=self.request.user, assignment=serializer.instance, **data)

    @extend_schema(request=AssignmentEndSerializer, responses=AssignmentSerializer)
    @action(detail=True, methods=["post"])
    @idempotent_action
    def end(self, request, pk=None):
        body = AssignmentEndSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        assignment = services.assignment_end(actor=request.user, assignment=self.get_object(),
                                             end_date=body.validated_data["end_date"],
                                             reason=body.validated_data["reason"])
        return Response(self.get_serializer(assignment).data)


class BankViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Bank.objects.filter(active=True)
    serializer_class = BankSerializer
    lookup_field = "code"
    pagination_class = None


class BankAccountViewSet(ChangesFeedMixin, mixins.CreateModelMixin, mixins.ListModelMixin,
                         mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Accounts are added (never edited) and take effect after `verify` by another user."""

    queryset = BankAccount.objects.all()
    serializer_class = BankAccountSerializer
    log_access = True
    filterset_class = BankAccountFilterSet
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return selectors.bank_account_list(user=self.request.user)

    def create(self, request, *args, **kwargs):
        from dinsos.api.idempotency import run_idempotent

        return run_idempotent(request, lambda: super(BankAccountViewSet, self).create(
            request, *args, **kwargs))

    def perform_create(self, serializer):
        serializer.instance = services.bank_account_add(actor=self.request.user,
                                                        **serializer.validated_data)

    @extend_schema(request=BankAccountVerifySerializer, responses=BankAccountSerializer)
    @action(detail=True, methods=["post"])
    @idempotent_action
    def verify(self, request, pk=None):
        body = BankAccountVerifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        account = services.bank_account_verify(actor=request.user, account=self.get_object(),
                                               **body.validated_data)
        return Response(self.get_serializer(account).data)


class InstitutionViewSet(ChangesFeedMixin, ExportMixin, ScopedModelViewSet):
    queryset = Institution.objects.all()
    serializer_class = InstitutionSerializer
    filterset_class = InstitutionFilterSet
    ordering_fields = ["name", "created_at"]
    ordering = ["name", "id"]
    export_name = "psks-lembaga"
    export_columns = [
        ("jenis", lambda o, r: o.get_type_display()),
        ("nama", lambda o, r: o.name),
        ("kode_desa", lambda o, r: o.desa_id),
        ("desa", lambda o, r: o.desa.nama),
        ("akreditasi", lambda o, r: o.accreditation),
        ("narahubung", lambda o, r: o.contact_name),
        ("status", lambda o, r: o.get_status_display()),
    ]

    def get_queryset(self):
        return selectors.institution_list(user=self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        board = data.pop("board_members", None)
        serializer.instance = services.institution_create(actor=self.request.user, board=board,
                                                          **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        board = data.pop("board_members", None)
        serializer.instance = services.institution_update(
            actor=self.request.user, institution=serializer.instance, board=board, **data)

    def perform_destroy(self, instance):
        raise ValidationError("Lembaga tidak dihapus; ubah statusnya menjadi tidak aktif.")


class ActivityReportViewSet(ChangesFeedMixin, ExportMixin, ScopedModelViewSet):
    """Monthly reports: create/edit while draft or rejected, then submit; an operator of the
    worker's area accepts or rejects."""

    queryset = ActivityReport.objects.all()
    serializer_class = ActivityReportSerializer
    filterset_class = ActivityReportFilterSet
    ordering_fields = ["period", "created_at"]
    ordering = ["-period", "id"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    export_name = "psks-laporan-bulanan"
    export_columns = [
        ("nama", lambda o, r: o.worker.name),
        ("bulan", lambda o, r: f"{o.period:%Y-%m}"),
        ("rakor_dihadiri", lambda o, r: o.meetings_attended),
        ("rts_divalidasi", lambda o, r: o.households_validated),
        ("pmks_teridentifikasi", lambda o, r: o.pmks_identified),
        ("keluarga_dikunjungi", lambda o, r: o.households_visited),
        ("status", lambda o, r: o.get_status_display()),
    ]

    def get_queryset(self):
        return selectors.report_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.report_create(actor=self.request.user,
                                                     **serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("worker", None)
        data.pop("period", None)
        serializer.instance = services.report_update(actor=self.request.user,
                                                     report=serializer.instance, **data)

    @extend_schema(request=None, responses=ActivityReportSerializer)
    @action(detail=True, methods=["post"])
    @idempotent_action
    def submit(self, request, pk=None):
        report = services.report_submit(actor=request.user, report=self.get_object())
        return Response(self.get_serializer(report).data)

    @extend_schema(request=None, responses=ActivityReportSerializer)
    @action(detail=True, methods=["post"])
    @idempotent_action
    def accept(self, request, pk=None):
        report = services.report_accept(actor=request.user, report=self.get_object())
        return Response(self.get_serializer(report).data)

    @extend_schema(request=ReportRejectSerializer, responses=ActivityReportSerializer)
    @action(detail=True, methods=["post"])
    @idempotent_action
    def reject(self, request, pk=None):
        body = ReportRejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = services.report_reject(actor=request.user, report=self.get_object(),
                                        reason=body.validated_data["reason"])
        return Response(self.get_serializer(report).data)


class MeetingViewSet(ChangesFeedMixin, ExportMixin, ScopedModelViewSet):
    """Rakor and forum discussions at kecamatan level."""

    queryset = Meeting.objects.all()
    serializer_class = MeetingSerializer
    filterset_class = MeetingFilterSet
    ordering_fields = ["date", "created_at"]
    ordering = ["-date", "id"]
    export_name = "psks-rakor"
    export_columns = [
        ("kode_kecamatan", lambda o, r: o.kecamatan_id),
        ("kecamatan", lambda o, r: o.kecamatan.nama),
        ("tanggal", lambda o, r: o.date),
        ("jenis", lambda o, r: o.get_type_display()),
        ("agenda", lambda o, r: o.agenda),
        ("jumlah_peserta_tenaga", lambda o, r: len(o.attendees.all())),
    ]

    def get_queryset(self):
        return selectors.meeting_list(user=self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        attendees = data.pop("attendees", None)
        serializer.instance = services.meeting_create(actor=self.request.user,
                                                      attendees=attendees, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        attendees = data.pop("attendees", None)
        serializer.instance = services.meeting_update(
            actor=self.request.user, meeting=serializer.instance, attendees=attendees, **data)

    def perform_destroy(self, instance):
        services.meeting_delete(actor=self.request.user, meeting=instance)


class CoverageQuerySerializer(Serializer):
    on = serializers.DateField(required=False)
    month = MonthField(required=False)
    missing = serializers.ChoiceField(choices=["tksk", "rakor"], required=False)
    wilayah = serializers.CharField(required=False)


class CoverageViewSet(ExportMixin, viewsets.GenericViewSet):
    """Per kecamatan: the TKSK on a date (`on`, default today) and the rakor held in a month
    (`month`, YYYY-MM, default this month). `missing=tksk` lists kecamatan without a TKSK;
    `missing=rakor` those that held no rakor that month."""

    serializer_class = CoverageSerializer
    queryset = Meeting.objects.none()  # permissions: psks.view_meeting
    filter_backends = [KnownParametersFilter]  # its own parameters, validated in get_queryset
    extra_query_params = ("on", "month", "missing", "wilayah", "fmt")
    export_name = "psks-cakupan"
    export_columns = [
        ("kode_kecamatan", lambda o, r: o.kode),
        ("kecamatan", lambda o, r: o.nama),
        ("kab_kota", lambda o, r: o.induk.nama),
        ("tksk", lambda o, r: o.tksk_name or ""),
        ("jumlah_rakor", lambda o, r: o.rakor_count or 0),
    ]

    def get_queryset(self):
        params = CoverageQuerySerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        today = timezone.localdate()
        month = selectors.Month.of(data.get("month") or today)
        qs = selectors.kecamatan_coverage(user=self.request.user, on=data.get("on") or today,
                                          month=month, wilayah=data.get("wilayah"))
        if data.get("missing") == "tksk":
            qs = qs.filter(has_tksk=False)
        elif data.get("missing") == "rakor":
            qs = qs.filter(rakor_count__isnull=True)
        return qs

    @extend_schema(parameters=[
        OpenApiParameter("on", OpenApiTypes.DATE), OpenApiParameter("month", OpenApiTypes.STR),
        OpenApiParameter("missing", OpenApiTypes.STR, enum=["tksk", "rakor"]),
        OpenApiParameter("wilayah", OpenApiTypes.STR)])
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
