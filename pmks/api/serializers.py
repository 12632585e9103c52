from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from dinsos.api.fields import (
    CodeListField,
    DesaField,
    MaskedIdentifierField,
    area_codes,
)
from dinsos.api.serializers import ModelSerializer, Serializer
from dinsos.nik_region import region_name_for_nik
from pmks.choices import CaseStatus, CloseReason
from pmks.models import (
    Asset,
    Case,
    CaseTransition,
    Category,
    DuplicateCandidate,
    Household,
    Person,
    PersonMerge,
    Program,
    Service,
    ServiceType,
)
from pmks.selectors import head_name, household_codes, read_name


class PersonSerializer(ModelSerializer):
    nik = MaskedIdentifierField(required=False, allow_null=True,
                                allow_blank=True, max_length=16)
    desa = DesaField()
    kecamatan = serializers.SerializerMethodField()
    kab_kota = serializers.SerializerMethodField()
    desa_nama = serializers.SerializerMethodField()
    tanpa_nik = serializers.BooleanField(read_only=True)
    nik_region = serializers.SerializerMethodField()
    household = serializers.PrimaryKeyRelatedField(
        queryset=Household.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Person
        fields = [
            "id", "nik", "tanpa_nik", "nik_region", "name", "birth_place", "birth_date", "sex",
            "household", "relationship", "desa", "desa_nama", "kecamatan", "kab_kota",
            "marital_status", "disability", "chronic_illness", "schooling", "occupation",
            "life_status", "life_status_date",
            "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_desa_nama(self, obj) -> str:
        return read_name(obj, "desa", "nama")

    def get_kecamatan(self, obj) -> str | None:
        return area_codes(obj.desa_id)["kecamatan"]

    def get_kab_kota(self, obj) -> str | None:
        return area_codes(obj.desa_id)["kab_kota"]

    def get_nik_region(self, obj) -> str | None:
        """Where the NIK was first issued (by its code; may differ from today's address)."""
        return region_name_for_nik(obj.nik) if obj.nik else None


class PersonUpsertSerializer(PersonSerializer):
    """PUT /persons/by-nik/<nik>/ and a row of persons/batch/: the NIK is the key."""

    nik = MaskedIdentifierField(read_only=True)

    class Meta(PersonSerializer.Meta):
        read_only_fields = ["nik", "created_at", "updated_at"]


class HouseholdMemberSerializer(ModelSerializer):
    nik = MaskedIdentifierField(read_only=True, allow_null=True)  # an infant has none yet

    class Meta:
        model = Person
        fields = ["id", "nik", "name", "birth_date", "sex", "relationship", "life_status"]


class HouseholdSerializer(ModelSerializer):
    no_kk = MaskedIdentifierField(max_length=16)
    desa = DesaField()
    desa_nama = serializers.SerializerMethodField()
    kecamatan = serializers.SerializerMethodField()
    kab_kota = serializers.SerializerMethodField()
    head_name = serializers.SerializerMethodField()
    member_count = serializers.IntegerField(read_only=True, default=0)
    head = serializers.PrimaryKeyRelatedField(queryset=Person.objects.all(), required=False,
                                              allow_null=True)
    assets = CodeListField(
        queryset=Asset.objects.all(), noun=_("aset"), example="sepeda-motor",
        read=household_codes, help_text=_("Kode aset yang dimiliki (GET /api/v1/pmks/assets/); "
                                          "daftar yang dikirim menggantikan yang tercatat."))
    programs = CodeListField(
        queryset=Program.objects.all(), noun=_("program bantuan"), example="pkh",
        read=household_codes, help_text=_("Kode program bantuan yang diikuti (GET "
                                          "/api/v1/pmks/programs/); daftar yang dikirim "
                                          "menggantikan yang tercatat."))

    class Meta:
        model = Household
        fields = [
            "id", "no_kk", "address", "rt", "rw", "desa", "desa_nama", "kecamatan", "kab_kota",
            "head", "head_name", "member_count", "decile", "floor", "wall", "water_source",
            "lighting", "cooking_fuel", "toilet", "assets", "programs", "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_desa_nama(self, obj) -> str:
        return read_name(obj, "desa", "nama")

    def get_head_name(self, obj) -> str | None:
        """None when the head is registered outside the user's area."""
        return head_name(obj, user=getattr(self.context.get("request"), "user", None))

    def get_kecamatan(self, obj) -> str | None:
        return area_codes(obj.desa_id)["kecamatan"]

    def get_kab_kota(self, obj) -> str | None:
        return area_codes(obj.desa_id)["kab_kota"]


class HouseholdUpsertSerializer(HouseholdSerializer):
    """A row of households/batch/: the No. KK is the key, not a change."""

    no_kk = MaskedIdentifierField(read_only=True)

    class Meta(HouseholdSerializer.Meta):
        read_only_fields = ["no_kk", "created_at", "updated_at"]


class HouseholdDetailSerializer(HouseholdSerializer):
    members = HouseholdMemberSerializer(many=True, read_only=True)

    class Meta(HouseholdSerializer.Meta):
        fields = [*HouseholdSerializer.Meta.fields, "members"]


class CategorySerializer(ModelSerializer):
    class Meta:
        model = Category
        fields = ["number", "slug", "name", "household_level", "minimum_service"]


class AssetSerializer(ModelSerializer):
    class Meta:
        model = Asset
        fields = ["code", "name", "order"]


class ProgramSerializer(ModelSerializer):
    class Meta:
        model = Program
        fields = ["code", "name", "order"]


class ServiceTypeSerializer(ModelSerializer):
    class Meta:
        model = ServiceType
        fields = ["code", "name", "pillar", "active"]


class CaseTransitionSerializer(ModelSerializer):
    actor = serializers.CharField(source="actor.username", allow_null=True, read_only=True)

    class Meta:
        model = CaseTransition
        fields = ["from_status", "to_status", "reason", "actor", "at"]


class CaseSerializer(ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", queryset=Category.objects.all())
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.filter(
        merged_into__isnull=True), required=False, allow_null=True)
    household = serializers.PrimaryKeyRelatedField(queryset=Household.objects.all(),
                                             required=False, allow_null=True)
    kecamatan = serializers.SerializerMethodField()
    kab_kota = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = ["id", "person", "household", "category", "desa", "kecamatan", "kab_kota",
                  "identified_on", "source", "source_note", "description", "status",
                  "close_reason", "created_at", "updated_at"]
        read_only_fields = ["desa", "status", "close_reason", "created_at", "updated_at"]

    def get_kecamatan(self, obj) -> str | None:
        return area_codes(obj.desa_id)["kecamatan"]

    def get_kab_kota(self, obj) -> str | None:
        return area_codes(obj.desa_id)["kab_kota"]


class CaseDetailSerializer(CaseSerializer):
    transitions = CaseTransitionSerializer(many=True, read_only=True)

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "transitions"]


class CaseTransitionRequestSerializer(Serializer):
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    close_reason = serializers.ChoiceField(choices=CloseReason.choices, required=False,
                                           allow_blank=True, default="")


class ServiceSerializer(ModelSerializer):
    service_type = serializers.SlugRelatedField(
        slug_field="code", queryset=ServiceType.objects.filter(active=True)
    )
    case = serializers.PrimaryKeyRelatedField(queryset=Case.objects.all())
    value_amount = serializers.DecimalField(max_digits=15, decimal_places=2, required=False,
                                            allow_null=True, min_value=0)

    class Meta:
        model = Service
        fields = ["id", "case", "pillar", "service_type", "start_date", "end_date",
                  "value_amount", "funding_source", "provider_office", "provider_name", "note",
                  "created_at", "updated_at"]
        read_only_fields = ["pillar", "created_at", "updated_at"]


class DuplicatePersonSerializer(ModelSerializer):
    nik = MaskedIdentifierField(read_only=True, allow_null=True)  # a person without NIK

    class Meta:
        model = Person
        fields = ["id", "nik", "name", "birth_date", "sex", "desa", "household"]


class DuplicateCandidateSerializer(ModelSerializer):
    person_a = DuplicatePersonSerializer(read_only=True)
    person_b = DuplicatePersonSerializer(read_only=True)
    reviewed_by = serializers.CharField(source="reviewed_by.username", allow_null=True,
                                        read_only=True)

    class Meta:
        model = DuplicateCandidate
        fields = ["id", "person_a", "person_b", "score", "reasons", "status", "found_at",
                  "reviewed_by", "reviewed_at"]


class MergeRequestSerializer(Serializer):
    keep = serializers.ChoiceField(choices=[("a", "person_a"), ("b", "person_b")])
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class PersonMergeSerializer(ModelSerializer):
    class Meta:
        model = PersonMerge
        fields = ["id", "kept", "merged", "reason", "at"]
