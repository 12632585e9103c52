from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from dinsos.api.exports import ExportMixin
from dinsos.api.fields import query_params
from dinsos.api.filters import KnownParametersFilter
from dinsos.api.idempotency import idempotent_action, refusal_response, run_idempotent
from dinsos.api.permissions import ModelPermissions, ProvinceWide, requires
from dinsos.api.schema import TABLE_FILE
from dinsos.api.sync import ChangesFeedMixin, check_if_match
from dinsos.api.viewsets import ScopedGenericViewSet, ScopedReadOnlyModelViewSet
from dinsos.tabular import FORMATS, table_response
from jamsosratu import banking, selectors, services
from jamsosratu.api.serializers import (
    AccountVerifySerializer,
    BankResultSerializer,
    CommitmentSerializer,
    CompanionRequestSerializer,
    CoverageQuerySerializer,
    CycleSerializer,
    EnrolmentDetailSerializer,
    EnrolmentSerializer,
    EnrolmentTransitionRequestSerializer,
    OverBudgetSerializer,
    PaymentMarkSerializer,
    PaymentSerializer,
    TrancheJobDetailSerializer,
    TrancheJobSerializer,
    VerificationSerializer,
)
from jamsosratu.choices import JobKind
from jamsosratu.filters import (
    CommitmentFilterSet,
    EnrolmentFilterSet,
    PaymentFilterSet,
    VerificationFilterSet,
)
from jamsosratu.models import (
    Commitment,
    Cycle,
    Enrolment,
    Payment,
    Tranche,
    TrancheJob,
    Verification,
)

PROVINCE = [ModelPermissions, ProvinceWide]
#: The transfer file holds every scheduled household's whole account number: only the roles
#: that work on payments (as its staff page, ``jamsosratu.change_payment``).
PAYMENT_WORK = [*PROVINCE, requires("change", "jamsosratu.Payment")]


def _job_accepted(request, job) -> Response:
    """202: the job is queued; its ``status_url`` tells its progress, then its result."""
    data = TrancheJobDetailSerializer(job, context={"request": request}).data
    return Response(data, status=status.HTTP_202_ACCEPTED,
                    headers={"Location": data["status_url"], "Retry-After": "2"})


class CycleViewSet(viewsets.ReadOnlyModelViewSet):
    """Program years with tranches, quotas and the commitment rule. `generate` queues a
    tranche's payment list as a job (province only)."""

    queryset = Cycle.objects.prefetch_related("tranches", "quotas", "condition_rules")
    serializer_class = CycleSerializer
    lookup_field = "year"

    @extend_schema(request=None, responses={202: TrancheJobDetailSerializer})
    @action(detail=True, methods=["post"], url_path=r"tranches/(?P<number>[0-9]+)/generate",
            permission_classes=PROVINCE)
    @idempotent_action
    def generate(self, request, year=None, number=None):
        """Queue the making of the tranche's payment list (a Celery task): 202 with the job
        and its `status_url`. Refused (400) while another job of the tranche is unfinished,
        and on `budget_ceiling` when the list would go over the pagu without Pimpinan's
        reason (that refusal is kept on the tahap, also under an Idempotency-Key)."""
        tranche = get_object_or_404(Tranche, cycle__year=year, number=number)
        try:
            job = services.tranche_job_start(actor=request.user, tranche=tranche,
                                             kind=JobKind.PENYALURAN)
        except DjangoValidationError as exc:
            if not services.over_pagu(exc):
                raise
            # recorded as a failed job (the tahap waits for Pimpinan): answered, not raised,
            # so the record commits with the key's stored 400 instead of being rolled back
            return refusal_response(self, exc)
        return _job_accepted(request, job)

    @extend_schema(request=OverBudgetSerializer, responses=None)
    @action(detail=True, methods=["post"], url_path=r"tranches/(?P<number>[0-9]+)/over-budget",
            permission_classes=[ProvinceWide])
    @idempotent_action
    def over_budget(self, request, year=None, number=None):
        """Pimpinan's recorded reason for this tahap's list to go over the cycle's pagu."""
        tranche = get_object_or_404(Tranche, cycle__year=year, number=number)
        body = OverBudgetSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.tranche_over_budget_allow(actor=request.user, tranche=tranche,
                                           reason=body.validated_data["over_budget_reason"])
        return Response(status=204)

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path=r"tranches/(?P<number>[0-9]+)/bank-file",
            permission_classes=PAYMENT_WORK)
    def bank_file(self, request, year=None, number=None):
        """A GET hands out the payments not yet sent (a new kiriman, named by ``X-Kiriman``);
        ``?salinan=<X-Kiriman>`` writes a handed-out kiriman again as a copy, sending
        nothing new; a HEAD request shows what the next file would carry."""
        tranche = get_object_or_404(Tranche, cycle__year=year, number=number)
        copy_of = (banking.parse_dispatch(request.query_params["salinan"])
                   if "salinan" in request.query_params else None)
        out = banking.transfer_download(tranche, copy_of=copy_of,
                                        hand_out=request.method != "HEAD")
        response = FileResponse(out.body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{out.name}"'
        response["X-Control-Count"] = str(out.count)
        response["X-Control-Total"] = f"{out.total:.0f}"
        if out.dispatch:
            response["X-Kiriman"] = out.dispatch.isoformat()
        return response


class EnrolmentViewSet(ChangesFeedMixin, ExportMixin, mixins.CreateModelMixin,
                       ScopedReadOnlyModelViewSet):
    """Enrolments; status changes through `transition`, pendamping through `companion`, the
    account's second pair of eyes through `verify-account`."""

    queryset = Enrolment.objects.all()
    log_access = True  # the household's account number (whole for the roles that see it)
    filterset_class = EnrolmentFilterSet
    ordering = ["cycle", "desa_id", "id"]
    export_name = "jamsosratu-peserta"
    export_columns = [
        ("tahun", lambda o, r: o.cycle.year),
        ("keluarga_id", lambda o, r: o.household_id),
        ("kode_desa", lambda o, r: o.desa_id),
        ("desa", lambda o, r: o.desa.nama),
        ("status", lambda o, r: o.get_status_display()),
        ("desil", lambda o, r: o.decile),
        ("saluran", lambda o, r: o.get_channel_display()),
    ]

    def get_queryset(self):
        user = self.request.user
        return (selectors.enrolment_with_members(user=user) if self.action == "retrieve"
                else selectors.enrolment_list(user=user))

    def get_serializer_class(self):
        return EnrolmentDetailSerializer if self.action == "retrieve" else EnrolmentSerializer

    def change_item_serializer(self):
        return EnrolmentSerializer

    def create(self, request, *args, **kwargs):
        return run_idempotent(request, lambda: super(EnrolmentViewSet, self).create(
            request, *args, **kwargs))

    def perform_create(self, serializer):
        serializer.instance = services.enrolment_propose(actor=self.request.user,
                                                         **serializer.validated_data)

    @extend_schema(request=EnrolmentTransitionRequestSerializer,
                   responses=EnrolmentDetailSerializer)
    @action(detail=True, methods=["post"])
    @idempotent_action
    def transition(self, request, pk=None):
        body = EnrolmentTransitionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        enrolment = services.enrolment_transition(
            actor=request.user, enrolment=self.get_object(),
            to_status=body.validated_data["status"], reason=body.validated_data["reason"],
            decree_number=body.validated_data["decree_number"])
        enrolment = selectors.enrolment_with_members(user=request.user).get(pk=enrolment.pk)
        return Response(EnrolmentDetailSerializer(
            enrolment, context=self.get_serializer_context()).data)

    @extend_schema(request=AccountVerifySerializer, responses=EnrolmentSerializer)
    @action(detail=True, methods=["post"], url_path="verify-account", honours_if_match=True)
    @idempotent_action
    def verify_account(self, request, pk=None):
        """Four eyes: another user than the one who recorded the account confirms it; until
        then the enrolment's payments stay out of the bank file. The body names the account
        confirmed (`account_number`, 400 unless it is the stored one); `If-Match` with the
        enrolment's ETag as read answers 412 when it changed since."""
        with transaction.atomic():  # the version checked under the row lock the write keeps
            enrolment = self.get_object()
            check_if_match(request, enrolment)
            body = AccountVerifySerializer(data=request.data)
            body.is_valid(raise_exception=True)
            enrolment = services.enrolment_account_verify(
                actor=request.user, enrolment=enrolment,
                account_number=body.validated_data["account_number"])
        return Response(EnrolmentSerializer(enrolment,
                                            context=self.get_serializer_context()).data)

    @extend_schema(request=CompanionRequestSerializer, responses={201: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    @idempotent_action
    def companion(self, request, pk=None):
        body = CompanionRequestSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        companion = services.companion_assign(actor=request.user, enrolment=self.get_object(),
                                              **body.validated_data)
        return Response({"enrolment": companion.enrolment_id, "worker": companion.worker_id,
                         "start_date": companion.start_date}, status=status.HTTP_201_CREATED)


class VerificationViewSet(ChangesFeedMixin, mixins.CreateModelMixin,
                          ScopedReadOnlyModelViewSet):
    queryset = Verification.objects.all()
    serializer_class = VerificationSerializer
    filterset_class = VerificationFilterSet
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    ordering = ["-visit_date", "-id"]

    def get_queryset(self):
        return selectors.verification_list(user=self.request.user).prefetch_related("findings")

    def create(self, request, *args, **kwargs):
        return run_idempotent(request, lambda: super(VerificationViewSet, self).create(
            request, *args, **kwargs))

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        findings = [dict(f) for f in data.pop("findings", [])]
        pregnant = [p.pk for p in data.pop("pregnant_persons", [])]
        serializer.instance = services.verification_record(
            actor=self.request.user, findings=findings, pregnant_person_ids=pregnant, **data)

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"], url_path="apply-findings")
    @idempotent_action
    def apply_findings(self, request, pk=None):
        applied = services.verification_apply_findings(actor=request.user,
                                                       verification=self.get_object())
        return Response({"applied": applied})


class CommitmentViewSet(ChangesFeedMixin, mixins.CreateModelMixin, ScopedReadOnlyModelViewSet):
    """Commitments per qualifying member and tranche (POST again to correct, until the
    tranche's payment exists)."""

    queryset = Commitment.objects.all()
    serializer_class = CommitmentSerializer
    filterset_class = CommitmentFilterSet
    ordering = ["id"]

    def get_queryset(self):
        return selectors.commitment_list(user=self.request.user)

    def create(self, request, *args, **kwargs):
        return run_idempotent(request, lambda: super(CommitmentViewSet, self).create(
            request, *args, **kwargs))

    def perform_create(self, serializer):
        serializer.instance = services.commitment_record(actor=self.request.user,
                                                         **serializer.validated_data)


class PaymentViewSet(ChangesFeedMixin, ExportMixin, ScopedReadOnlyModelViewSet):
    queryset = Payment.objects.all()
    log_access = True  # each payment's account number
    serializer_class = PaymentSerializer
    filterset_class = PaymentFilterSet
    ordering = ["tranche", "desa_id", "id"]
    export_name = "jamsosratu-penyaluran"
    export_columns = [
        ("id", lambda o, r: o.pk),
        ("tahun", lambda o, r: o.tranche.cycle.year),
        ("tahap", lambda o, r: o.tranche.number),
        ("kode_desa", lambda o, r: o.desa_id),
        ("nilai", lambda o, r: o.amount),
        ("hasil_komitmen", lambda o, r: o.get_outcome_display()),
        ("status", lambda o, r: o.get_status_display()),
        ("referensi", lambda o, r: o.reference),
    ]

    def get_queryset(self):
        return selectors.payment_list(user=self.request.user).select_related("tranche__cycle")

    @extend_schema(request=PaymentMarkSerializer, responses=PaymentSerializer)
    @action(detail=True, methods=["post"])
    @idempotent_action
    def mark(self, request, pk=None):
        body = PaymentMarkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        payment = services.payment_mark(actor=request.user, payment=self.get_object(),
                                        **body.validated_data)
        return Response(self.get_serializer(payment).data)

    @extend_schema(request=None, responses=PaymentSerializer)
    @action(detail=True, methods=["post"], permission_classes=PAYMENT_WORK)
    @idempotent_action
    def reschedule(self, request, pk=None):
        """Jadwalkan ulang a failed transfer with the enrolment's current account."""
        payment = services.payment_reschedule(actor=request.user, payment=self.get_object())
        return Response(self.get_serializer(payment).data)

    @extend_schema(request=BankResultSerializer, responses={202: TrancheJobDetailSerializer})
    @action(detail=False, methods=["post"], url_path="bank-result",
            parser_classes=[MultiPartParser, FormParser], permission_classes=PROVINCE)
    @idempotent_action
    def bank_result(self, request):
        """Store the bank's result file and queue its applying (a Celery task): 202 with the
        job and its `status_url`, where every line's outcome appears when it is done."""
        body = BankResultSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        return _job_accepted(request, services.tranche_job_start(
            actor=request.user, tranche=body.validated_data["tranche"],
            kind=JobKind.HASIL_BANK, upload=body.validated_data["file"]))


class TrancheJobViewSet(ScopedReadOnlyModelViewSet):
    """The province's jobs on a tranche (the payment list, a bank result file), made by a
    Celery task: `status` and progress (`done` of `total`), then the result — on the detail,
    for a bank result, every line and what became of it (`lines`)."""

    queryset = TrancheJob.objects.all()
    permission_classes = PROVINCE
    filterset_fields = ["tranche", "kind", "status"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return selectors.job_list(user=self.request.user)

    def get_serializer_class(self):
        return TrancheJobDetailSerializer if self.action == "retrieve" else TrancheJobSerializer

    def read_lists(self, job):
        return [(Payment, "hasil bank", banking.payments_shown(job.lines))]


class CoverageViewSet(ScopedGenericViewSet):
    """Coverage of a cycle by kab/kota or kecamatan: quota, proposed, verified, decreed,
    active, paid per tranche, graduated; budget used against pagu. `fmt=xlsx` downloads it."""

    queryset = Enrolment.objects.none()  # permissions: jamsosratu.view_enrolment
    filter_backends = [KnownParametersFilter]  # its own parameters, read in list()
    extra_query_params = ("cycle", "level", "fmt")
    pagination_class = None

    @extend_schema(parameters=[
        OpenApiParameter("cycle", OpenApiTypes.INT, required=True),
        OpenApiParameter("level", OpenApiTypes.STR, enum=["kab_kota", "kecamatan"]),
        OpenApiParameter("fmt", OpenApiTypes.STR, enum=["json", *FORMATS])],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, **TABLE_FILE})
    def list(self, request):
        self.filter_queryset(self.get_queryset())  # refuses unknown parameters
        params = query_params(request, CoverageQuerySerializer)
        cycle = get_object_or_404(Cycle, year=params["cycle"])
        level, fmt = params["level"], params["fmt"]
        rows = selectors.coverage(user=request.user, cycle=cycle, level=level)
        if fmt in FORMATS:
            numbers = sorted({n for r in rows for n in r["paid_per_tranche"]})
            header = ["kode", "nama", "kuota", "diusulkan", "terverifikasi", "ditetapkan",
                      "aktif", "graduasi", "dikeluarkan",
                      *[f"disalurkan_tahap_{n}" for n in numbers], "total_disalurkan"]
            table = [[r["kode"], r["nama"], r["quota"], r["proposed"], r["verified"],
                      r["decreed"], r["active"], r["graduated"], r["excluded"],
                      *[Decimal(r["paid_per_tranche"].get(n, {}).get("amount", 0))
                        for n in numbers],
                      Decimal(r["paid_total"])] for r in rows]
            budget = selectors.budget_used(user=request.user, cycle=cycle)
            return table_response(header, table, fmt=fmt,
                                  filename=f"cakupan-jamsosratu-{cycle.year}-{level}",
                                  extra_sheets={"Anggaran": [["pagu", "terpakai", "sisa"], [
                                      *(None if v is None else Decimal(v) for v in (
                                          budget["pagu"], budget["used"], budget["remaining"]))
                                  ]]})
        return Response({"cycle": cycle.year, "level": level, "rows": rows,
                         "budget": selectors.budget_used(user=request.user, cycle=cycle),
                         "caseloads": selectors.caseloads(user=request.user, cycle=cycle)})
