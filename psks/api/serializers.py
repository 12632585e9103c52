from rest_framework import serializers

from dinsos.api.fields import (
    DesaField,
    KecamatanField,
    MaskedIdentifierField,
    area_codes,
)
from dinsos.api.serializers import ModelSerializer, Serializer
from dinsos.choices import DESA_KELURAHAN, Tingkat
from dinsos.models import Office, Wilayah
from psks.models import (
    ActivityReport,
    Assignment,
    Bank,
    BankAccount,
    BoardMember,
    Institution,
    Meeting,
    Worker,
)


class WorkerSerializer(ModelSerializer):
    nik = MaskedIdentifierField(max_length=16)
    npwp = MaskedIdentifierField(max_length=20, required=False,
                                 allow_blank=True)
    desa = DesaField()
    kecamatan = serializers.SerializerMethodField()
    kab_kota = serializers.SerializerMethodField()

    class Meta:
        model = Worker
        fields = ["id", "nik", "name", "sex", "birth_date", "education", "phone", "address",
                  "desa", "kecamatan", "kab_kota", "npwp", "status", "status_date",
                  "status_reason", "created_at", "updated_at"]
        read_only_fields = ["status", "status_date", "status_reason", "created_at",
                            "updated_at"]

    def get_kecamatan(self, obj) -> str | None:
        return area_codes(obj.desa_id)["kecamatan"]

    def get_kab_kota(self, obj) -> str | None:
        return area_codes(obj.desa_id)["kab_kota"]


class WorkerStatusSerializer(Serializer):
    status = serializers.ChoiceField(choices=Worker._meta.get_field("status").choices)
    on = serializers.DateField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class AssignmentSerializer(ModelSerializer):
    worker = serializers.PrimaryKeyRelatedField(queryset=Worker.objects.all())
    worker_name = serializers.CharField(source="worker.name", read_only=True)
    area = serializers.PrimaryKeyRelatedField(queryset=Wilayah.objects.filter(
        tingkat__in=(Tingkat.KECAMATAN, *DESA_KELURAHAN)))
    decree_office = serializers.PrimaryKeyRelatedField(queryset=Office.objects.all())
    kab_kota = serializers.SerializerMethodField()

    class Meta:
        model = Assignment
        fields = ["id", "worker", "worker_name", "role", "area", "kab_kota", "decree_number",
                  "decree_date", "decree_office", "start_date", "end_date", "funding_source",
                  "end_reason", "created_at", "updated_at"]
        read_only_fields = ["end_reason", "created_at", "updated_at"]

    def get_kab_kota(self, obj) -> str | None:
        return area_codes(obj.area_id)["kab_kota"]


class AssignmentEndSerializer(Serializer):
    end_date = serializers.DateField()
    reason = serializers.CharField()


class BankSerializer(ModelSerializer):
    class Meta:
        model = Bank
        fields = ["code", "name"]


class BankAccountSerializer(ModelSerializer):
    worker = serializers.PrimaryKeyRelatedField(queryset=Worker.objects.all())
    bank = serializers.SlugRelatedField(slug_field="code", queryset=Bank.objects.filter(
        active=True))
    account_number = MaskedIdentifierField(max_length=20)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    verified_by = serializers.CharField(source="verified_by.username", read_only=True,
                                        allow_null=True)

    class Meta:
        model = BankAccount
        fields = ["id", "worker", "bank", "account_number", "holder_name", "created_by",
                  "created_at", "verified_by", "verified_at", "effective_from"]
        read_only_fields = ["created_at", "verified_at", "effective_from"]


class BankAccountVerifySerializer(Serializer):
    effective_from = serializers.DateField(required=False, allow_null=True, default=None)


class BoardMemberSerializer(ModelSerializer):
    class Meta:
        model = BoardMember
        fields = ["name", "position"]


class InstitutionSerializer(ModelSerializer):
    desa = DesaField()
    board_members = BoardMemberSerializer(many=True, required=False)

    class Meta:
        model = Institution
        fields = ["id", "type", "name", "desa", "address", "registration_number",
                  "accreditation", "contact_name", "phone", "status", "board_members",
                  "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        validators = []  # one active Karang Taruna per desa: the model's Indonesian message


class ActivityReportSerializer(ModelSerializer):
    worker = serializers.PrimaryKeyRelatedField(queryset=Worker.objects.all())
    worker_name = serializers.CharField(source="worker.name", read_only=True)
    submitted_by = serializers.CharField(source="submitted_by.username", read_only=True,
                                         allow_null=True)
    reviewed_by = serializers.CharField(source="reviewed_by.username", read_only=True,
                                        allow_null=True)

    class Meta:
        model = ActivityReport
        fields = ["id", "worker", "worker_name", "period", "meetings_attended",
                  "households_validated", "pmks_identified", "households_visited", "notes",
                  "attachment", "status", "submitted_at", "submitted_by", "reviewed_by",
                  "reviewed_at", "rejection_reason", "created_at", "updated_at"]
        read_only_fields = ["status", "submitted_at", "submitted_by", "reviewed_by", "reviewed_at",
                            "rejection_reason", "created_at", "updated_at"]
        validators = []  # one report per month: refused by the service, in Indonesian


class ReportRejectSerializer(Serializer):
    reason = serializers.CharField()


class MeetingSerializer(ModelSerializer):
    kecamatan = KecamatanField()
    attendees = serializers.PrimaryKeyRelatedField(many=True, queryset=Worker.objects.all(),
                                             required=False)

    class Meta:
        model = Meeting
        fields = ["id", "kecamatan", "date", "type", "agenda", "minutes", "attendees",
                  "other_attendees", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class CoverageSerializer(Serializer):
    kode = serializers.CharField()
    nama = serializers.CharField()
    kab_kota = serializers.CharField(source="induk_id")
    kab_kota_nama = serializers.CharField(source="induk.nama")
    has_tksk = serializers.BooleanField()
    tksk_name = serializers.CharField(allow_null=True)
    tksk_worker_id = serializers.IntegerField(allow_null=True)
    rakor_count = serializers.IntegerField(allow_null=True)


