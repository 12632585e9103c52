from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from dinsos import audit
from dinsos.api.exports import ExportMixin
from dinsos.api.idempotency import idempotent_action, run_idempotent
from dinsos.api.sync import (
    ChangesFeedMixin,
    batch_serializers,
    batch_upsert,
    check_if_match,
    with_etag,
)
from dinsos.api.viewsets import ScopedModelViewSet, ScopedReadOnlyModelViewSet
from dinsos.scoping import mask_for
from pmks import selectors, services
from pmks.api.serializers import (
    AssetSerializer,
    CaseDetailSerializer,
    CaseSerializer,
    CaseTransitionRequestSerializer,
    CategorySerializer,
    DuplicateCandidateSerializer,
    HouseholdDetailSerializer,
    HouseholdSerializer,
    HouseholdUpsertSerializer,
    MergeRequestSerializer,
    PersonMergeSerializer,
    PersonSerializer,
    PersonUpsertSerializer,
    ProgramSerializer,
    ServiceSerializer,
    ServiceTypeSerializer,
)
from pmks.filters import (
    CaseFilterSet,
    DuplicateCandidateFilterSet,
    HouseholdFilterSet,
    PersonFilterSet,
    ServiceFilterSet,
)
from pmks.models import (
    Asset,
    Case,
    Category,
    DuplicateCandidate,
    Household,
    Person,
    Program,
    Service,
    ServiceType,
)

HOUSEHOLD_BATCH = batch_serializers(HouseholdUpsertSerializer, "no_kk")
PERSON_BATCH = batch_serializers(PersonUpsertSerializer, "nik")


class HouseholdViewSet(ChangesFeedMixin, ExportMixin, ScopedModelViewSet):
    """Households (Kartu Keluarga). `?wilayah=<kode>` selects everything inside a region."""

    queryset = Household.objects.all()
    filterset_class = HouseholdFilterSet
    log_access = True
    ordering_fields = ["no_kk", "created_at", "decile"]
    ordering = ["no_kk"]

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.household_with_members(user=self.request.user)
        return selectors.household_list(user=self.request.user)

    def read_lists(self, household):
        return [(Person, "anggota keluarga", household.members.all())]

    def get_serializer_class(self):
        return HouseholdDetailSerializer if self.action == "retrieve" else HouseholdSerializer

    def perform_create(self, serializer):
        serializer.instance = services.household_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.household_update(
            actor=self.request.user, household=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.household_delete(actor=self.request.user, household=instance)

    def change_item_serializer(self):
        return HouseholdSerializer

    @extend_schema(request=HOUSEHOLD_BATCH[0], responses=HOUSEHOLD_BATCH[1])
    @action(detail=False, methods=["post"], url_path="batch", parser_classes=[JSONParser])
    def batch(self, request):
        """Upsert up to SYNC_BATCH_MAX_ROWS households by No. KK; a result per row."""
        return batch_upsert(self, request, key="no_kk", row_serializer=HouseholdUpsertSerializer,
                            upsert=services.household_upsert)


class PersonViewSet(ChangesFeedMixin, ExportMixin, ScopedModelViewSet):
    """Persons. Fetch and upsert by NIK at `persons/by-nik/<nik>/`."""

    queryset = Person.objects.all()
    serializer_class = PersonSerializer
    filterset_class = PersonFilterSet
    ordering_fields = ["name", "birth_date", "created_at"]
    ordering = ["name", "id"]
    log_access = True

    def get_queryset(self):
        persons = selectors.person_list(user=self.request.user)
        if self.action in ("list", "export"):  # of the desa only its name, no instance per row
            return persons.select_related(None).annotate(**selectors.PERSON_NAMES)
        return persons

    def perform_create(self, serializer):
        serializer.instance = services.person_register(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.person_update(
            actor=self.request.user, person=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.person_delete(actor=self.request.user, person=instance)

    @extend_schema(request=PERSON_BATCH[0], responses=PERSON_BATCH[1])
    @action(detail=False, methods=["post"], url_path="batch", parser_classes=[JSONParser])
    def batch(self, request):
        """Upsert up to SYNC_BATCH_MAX_ROWS persons by NIK; a result per row."""
        return batch_upsert(self, request, key="nik", row_serializer=PersonUpsertSerializer,
                            upsert=services.person_upsert, retry_refused=True)

    @extend_schema(methods=["GET"], responses=PersonSerializer)
    @extend_schema(methods=["PUT"], request=PersonUpsertSerializer, responses={
        200: OpenApiResponse(PersonSerializer, description="Diubah (atau sudah sama)."),
        201: OpenApiResponse(PersonSerializer, description="Dibuat."),
    })
    @action(detail=False, methods=["get", "put"], url_path=r"by-nik/(?P<nik>[0-9]{16})",
            serializer_class=PersonUpsertSerializer)
    def by_nik(self, request, nik=None):
        if request.method == "GET":
            person = selectors.person_get_by_nik(user=request.user, nik=nik)
            audit.log_access(person)
            return with_etag(Response(PersonSerializer(
                person, context=self.get_serializer_context()).data), person)

        def handle():
            existing = selectors.person_list(user=request.user).filter(nik=nik).first()
            if existing is not None:
                check_if_match(request, existing)
            serializer = PersonUpsertSerializer(data=request.data,
                                                context=self.get_serializer_context())
            serializer.is_valid(raise_exception=True)
            person, outcome = services.person_upsert(
                actor=request.user, nik=nik, **serializer.validated_data
            )
            body = PersonSerializer(person, context=self.get_serializer_context()).data
            created = outcome == services.UPSERT_CREATED
            return with_etag(Response(body, status=status.HTTP_201_CREATED if created
                                      else status.HTTP_200_OK), person)

        return run_idempotent(request, handle)


def _masked_nik(obj, request):
    return mask_for(request.user, Person, "nik", obj.nik)


PersonViewSet.export_name = "pmks-orang"
PersonViewSet.export_columns = [
    ("nik", _masked_nik),
    ("nama", lambda o, r: o.name),
    ("tempat_lahir", lambda o, r: o.birth_place),
    ("tanggal_lahir", lambda o, r: o.birth_date),
    ("jenis_kelamin", lambda o, r: o.sex),
    ("kode_desa", lambda o, r: o.desa_id),
    ("desa", lambda o, r: selectors.read_name(o, "desa", "nama")),
    ("status_kawin", lambda o, r: o.marital_status),
    ("disabilitas", lambda o, r: o.disability),
    ("penyakit_kronis", lambda o, r: o.chronic_illness),
    ("pendidikan", lambda o, r: o.schooling),
    ("pekerjaan", lambda o, r: o.occupation),
    ("status_hidup", lambda o, r: o.life_status),
]
HouseholdViewSet.export_name = "pmks-keluarga"
HouseholdViewSet.export_columns = [
    ("no_kk", lambda o, r: mask_for(r.user, Household, "no_kk", o.no_kk)),
    ("alamat", lambda o, r: o.address),
    ("rt", lambda o, r: o.rt),
    ("rw", lambda o, r: o.rw),
    ("kode_desa", lambda o, r: o.desa_id),
    ("desa", lambda o, r: selectors.read_name(o, "desa", "nama")),
    ("kepala_keluarga", lambda o, r: selectors.head_name(o, user=r.user) or ""),
    # codes separated by ";" (the list's annotation: no query per row)
    ("aset", lambda o, r: ";".join(selectors.household_codes(o, "assets"))),
    ("program", lambda o, r: ";".join(selectors.household_codes(o, "programs"))),
    ("jumlah_anggota", lambda o, r: o.member_count),
    ("desil", lambda o, r: o.decile),
]


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """The 26 PPKS categories (Permensos 08/2012), in official order."""

    queryset = Category.objects.all()
    serializer_class = CategorySerializer
    lookup_field = "slug"
    pagination_class = None


class AssetViewSet(viewsets.ReadOnlyModelViewSet):
    """The assets of the DTKS form (a household's `assets` are these codes)."""

    queryset = Asset.objects.all()
    serializer_class = AssetSerializer
    lookup_field = "code"
    pagination_class = None


class ProgramViewSet(viewsets.ReadOnlyModelViewSet):
    """The social protection programs of the DTKS form (a household's `programs`)."""

    queryset = Program.objects.all()
    serializer_class = ProgramSerializer
    lookup_field = "code"
    pagination_class = None


class ServiceTypeViewSet(viewsets.ReadOnlyModelViewSet):
    """Service types per pillar."""

    queryset = ServiceType.objects.all()
    serializer_class = ServiceTypeSerializer
    lookup_field = "code"
    filterset_fields = ["pillar", "active"]
    pagination_class = None


class CaseViewSet(ChangesFeedMixin, ExportMixin, ScopedModelViewSet):
    """Cases: a person or household × a PPKS category. Status changes only through
    `POST cases/<id>/transition/`."""

    queryset = Case.objects.all()
    filterset_class = CaseFilterSet
    ordering_fields = ["identified_on", "created_at", "status"]
    ordering = ["-identified_on", "-id"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    export_name = "pmks-kasus"
    export_columns = [
        ("id", lambda o, r: o.pk),
        ("kategori", lambda o, r: o.category.name),
        ("orang_id", lambda o, r: o.person_id),
        ("keluarga_id", lambda o, r: o.household_id),
        ("kode_desa", lambda o, r: o.desa_id),
        ("tanggal_identifikasi", lambda o, r: o.identified_on),
        ("sumber", lambda o, r: o.get_source_display()),
        ("status", lambda o, r: o.get_status_display()),
    ]

    def get_queryset(self):
        qs = selectors.case_list(user=self.request.user)
        return qs.prefetch_related("transitions__actor") if self.action == "retrieve" else qs

    def get_serializer_class(self):
        return CaseDetailSerializer if self.action == "retrieve" else CaseSerializer

    def change_item_serializer(self):
        return CaseSerializer

    def perform_create(self, serializer):
        serializer.instance = services.case_open(actor=self.request.user,
                                                 **serializer.validated_data)

    def perform_update(self, serializer):
        allowed = {"source_note", "description", "identified_on"}
        data = {k: v for k, v in serializer.validated_data.items() if k in allowed}
        serializer.instance = services.case_update(actor=self.request.user,
                                                   case=serializer.instance, **data)

    @extend_schema(request=CaseTransitionRequestSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    @idempotent_action
    def transition(self, request, pk=None):
        case = self.get_object()
        body = CaseTransitionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = services.case_transition(
            actor=request.user, case=case, to_status=body.validated_data["status"],
            reason=body.validated_data["reason"], close_reason=body.validated_data["close_reason"],
        )
        case = self.get_queryset().prefetch_related("transitions__actor").get(pk=case.pk)
        return Response(CaseDetailSerializer(case, context=self.get_serializer_context()).data)


class ServiceViewSet(ChangesFeedMixin, ExportMixin, ScopedModelViewSet):
    """Services delivered on a case, under one of the four pillars."""

    queryset = Service.objects.all()
    serializer_class = ServiceSerializer
    filterset_class = ServiceFilterSet
    ordering_fields = ["start_date", "created_at", "value_amount"]
    ordering = ["-start_date", "-id"]
    export_name = "pmks-layanan"
    export_columns = [
        ("id", lambda o, r: o.pk),
        ("kasus_id", lambda o, r: o.case_id),
        ("pilar", lambda o, r: o.get_pillar_display()),
        ("jenis_layanan", lambda o, r: o.service_type.name),
        ("mulai", lambda o, r: o.start_date),
        ("selesai", lambda o, r: o.end_date),
        ("nilai_rp", lambda o, r: o.value_amount),
        ("sumber_dana", lambda o, r: o.get_funding_source_display()),
        ("pemberi_layanan", lambda o, r: o.provider_name or (o.provider_office or "")),
    ]

    def get_queryset(self):
        return selectors.service_list(user=self.request.user).select_related("provider_office")

    def perform_create(self, serializer):
        serializer.instance = services.service_record(actor=self.request.user,
                                                      **serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("case", None)
        data.pop("service_type", None)
        serializer.instance = services.service_update(actor=self.request.user,
                                                      service=serializer.instance, **data)

    def perform_destroy(self, instance):
        services.service_delete(actor=self.request.user, service=instance)


class DuplicateCandidateViewSet(ScopedReadOnlyModelViewSet):
    """Likely duplicate persons with a score; review with `merge` or `dismiss`."""

    queryset = DuplicateCandidate.objects.all()
    serializer_class = DuplicateCandidateSerializer
    filterset_class = DuplicateCandidateFilterSet
    ordering_fields = ["score", "found_at"]
    ordering = ["-score", "id"]
    log_access = True  # both persons of each pair, with their NIK

    def get_queryset(self):
        return selectors.duplicate_list(user=self.request.user)

    @extend_schema(request=MergeRequestSerializer, responses={201: PersonMergeSerializer})
    @action(detail=True, methods=["post"])
    @idempotent_action
    def merge(self, request, pk=None):
        self.check_change_permission(request)
        candidate = self.get_object()
        body = MergeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        kept, merged = (candidate.person_a, candidate.person_b)
        if body.validated_data["keep"] == "b":
            kept, merged = merged, kept
        record = services.person_merge(actor=request.user, kept=kept, merged=merged,
                                       reason=body.validated_data["reason"])
        return Response(PersonMergeSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=DuplicateCandidateSerializer)
    @action(detail=True, methods=["post"])
    @idempotent_action
    def dismiss(self, request, pk=None):
        self.check_change_permission(request)
        candidate = services.duplicate_dismiss(actor=request.user, candidate=self.get_object())
        return Response(self.get_serializer(candidate).data)

    def check_change_permission(self, request):
        if not request.user.has_perm("pmks.change_person"):
            self.permission_denied(request, message="Anda tidak berwenang menggabungkan data.")
