from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from dinsos.api.fields import YearField
from dinsos.api.serializers import ModelSerializer, Serializer
from dinsos.tabular import FORMATS
from jamsosratu import banking, selectors
from jamsosratu.choices import (
    BankLineOutcome,
    CommitmentKind,
    CommitmentStatus,
    EnrolmentStatus,
    Finding,
)
from jamsosratu.models import (
    Commitment,
    ConditionRule,
    Cycle,
    Enrolment,
    EnrolmentMember,
    EnrolmentTransition,
    Payment,
    Quota,
    Tranche,
    TrancheJob,
    Verification,
    VerificationFinding,
)
from pmks.models import Household, Person
from psks.models import Worker


class TrancheSerializer(ModelSerializer):
    class Meta:
        model = Tranche
        fields = ["id", "number", "share", "planned_month"]


class QuotaSerializer(ModelSerializer):
    class Meta:
        model = Quota
        fields = ["kab_kota", "quota"]


class ConditionRuleSerializer(ModelSerializer):
    class Meta:
        model = ConditionRule
        fields = ["min_unmet_ratio", "outcome", "reduction_share"]


class CycleSerializer(ModelSerializer):
    tranches = TrancheSerializer(many=True, read_only=True)
    quotas = QuotaSerializer(many=True, read_only=True)
    condition_rules = ConditionRuleSerializer(many=True, read_only=True)

    class Meta:
        model = Cycle
        fields = ["id", "year", "name", "legal_basis", "benefit_amount", "budget_ceiling",
                  "max_caseload", "qualifying_conditions", "child_max_age", "school_max_age",
                  "elderly_min_age", "tranches", "quotas", "condition_rules"]


class EnrolmentMemberSerializer(ModelSerializer):
    name = serializers.CharField(source="person.name", read_only=True)

    class Meta:
        model = EnrolmentMember
        fields = ["id", "person", "name", "condition"]


class EnrolmentTransitionSerializer(ModelSerializer):
    actor = serializers.CharField(source="actor.username", allow_null=True, read_only=True)

    class Meta:
        model = EnrolmentTransition
        fields = ["from_status", "to_status", "reason", "actor", "at"]


class EnrolmentSerializer(ModelSerializer):
    household = serializers.PrimaryKeyRelatedField(queryset=Household.objects.all())
    cycle = serializers.SlugRelatedField(slug_field="year", queryset=Cycle.objects.all())

    class Meta:
        model = Enrolment
        fields = ["id", "household", "cycle", "desa", "status", "source", "decile",
                  "decree_number", "exit_reason", "channel", "account_number",
                  "account_verified_at", "created_at", "updated_at"]
        read_only_fields = ["desa", "status", "decile", "decree_number", "exit_reason",
                            "account_verified_at", "created_at", "updated_at"]
        validators = []  # one enrolment per household and cycle: the service says it in Indonesian


class EnrolmentDetailSerializer(EnrolmentSerializer):
    members = EnrolmentMemberSerializer(many=True, read_only=True)
    transitions = EnrolmentTransitionSerializer(many=True, read_only=True)

    class Meta(EnrolmentSerializer.Meta):
        fields = [*EnrolmentSerializer.Meta.fields, "members", "transitions"]


class EnrolmentTransitionRequestSerializer(Serializer):
    status = serializers.ChoiceField(choices=EnrolmentStatus.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    decree_number = serializers.CharField(required=False, allow_blank=True, default="")


class CompanionRequestSerializer(Serializer):
    worker = serializers.PrimaryKeyRelatedField(queryset=Worker.objects.all())
    start_date = serializers.DateField()


class FindingSerializer(ModelSerializer):
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.all(), required=False,
                                                allow_null=True)
    finding = serializers.ChoiceField(choices=Finding.choices)

    class Meta:
        model = VerificationFinding
        fields = ["person", "finding", "note", "applied"]
        read_only_fields = ["applied"]


class VerificationSerializer(ModelSerializer):
    enrolment = serializers.PrimaryKeyRelatedField(queryset=Enrolment.objects.all())
    verifier = serializers.PrimaryKeyRelatedField(queryset=Worker.objects.all())
    findings = FindingSerializer(many=True, required=False)
    pregnant_persons = serializers.PrimaryKeyRelatedField(
        queryset=Person.objects.all(), many=True, required=False, write_only=True)
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)

    class Meta:
        model = Verification
        fields = ["id", "enrolment", "verifier", "visit_date", "result", "notes", "photo",
                  "findings", "pregnant_persons", "recorded_by", "created_at"]
        read_only_fields = ["created_at"]


class CommitmentSerializer(ModelSerializer):
    member = serializers.PrimaryKeyRelatedField(queryset=EnrolmentMember.objects.all())
    tranche = serializers.PrimaryKeyRelatedField(queryset=Tranche.objects.all())
    kind = serializers.ChoiceField(choices=CommitmentKind.choices)
    status = serializers.ChoiceField(choices=CommitmentStatus.choices)

    class Meta:
        model = Commitment
        fields = ["id", "member", "tranche", "kind", "status", "recorded_at"]
        read_only_fields = ["recorded_at"]
        validators = []  # POST again to correct: the service updates the existing commitment

    def get_fields(self):
        # a member registered in another kab/kota answers like a missing one
        # (``selectors.member_shown``; ``services.commitment_record`` refuses it too)
        fields = super().get_fields()
        member = fields["member"]
        request = self.context.get("request")
        member.queryset = member.queryset.filter(
            selectors.member_shown(getattr(request, "user", None)))
        return fields


class PaymentSerializer(ModelSerializer):
    cycle = serializers.IntegerField(source="tranche.cycle.year", read_only=True)
    tranche_number = serializers.IntegerField(source="tranche.number", read_only=True)

    class Meta:
        model = Payment
        fields = ["id", "enrolment", "cycle", "tranche", "tranche_number", "desa",
                  "tranche_amount", "amount", "outcome", "channel", "account_number", "status",
                  "paid_on", "reference", "failure_reason", "explanation"]
        read_only_fields = fields


class PaymentMarkSerializer(Serializer):
    status = serializers.ChoiceField(choices=["disalurkan", "gagal"])
    paid_on = serializers.DateField(required=False, allow_null=True, default=None)
    reference = serializers.CharField(required=False, allow_blank=True, default="")
    failure_reason = serializers.CharField(required=False, allow_blank=True, default="")


class AccountVerifySerializer(Serializer):
    account_number = serializers.CharField(max_length=20, help_text=_(
        "Rekening yang dikonfirmasi (dari buku tabungan atau surat bank); harus sama dengan "
        "rekening yang tersimpan."))


class OverBudgetSerializer(Serializer):
    over_budget_reason = serializers.CharField()


class BankResultSerializer(Serializer):
    tranche = serializers.PrimaryKeyRelatedField(queryset=Tranche.objects.all())
    file = serializers.FileField()


class TrancheJobSerializer(ModelSerializer):
    """A job of the province on a tranche, made by a Celery task: its progress (``done`` of
    ``total``), then its result."""

    cycle = serializers.IntegerField(source="tranche.cycle.year", read_only=True)
    tranche_number = serializers.IntegerField(source="tranche.number", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    percent = serializers.IntegerField(read_only=True)
    totals = serializers.DictField(child=serializers.IntegerField(), read_only=True,
                                   help_text="created (daftar penyaluran); rows, accepted, "
                                             "rejected, disalurkan, gagal, sudah_tercatat "
                                             "(hasil bank)")
    status_url = serializers.SerializerMethodField()

    class Meta:
        model = TrancheJob
        fields = ["id", "tranche", "cycle", "tranche_number", "kind", "status", "done", "total",
                  "percent", "totals", "message", "filename", "requested_by", "created_at",
                  "finished_at", "status_url"]
        read_only_fields = fields

    def get_status_url(self, obj) -> str:
        from django.urls import reverse

        url = reverse("jamsosratu-api:job-detail", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class JobLineSerializer(Serializer):
    row = serializers.IntegerField(help_text="baris pada berkas hasil bank")
    id = serializers.CharField(help_text="id_penyaluran seperti tertulis pada berkas")
    outcome = serializers.ChoiceField(choices=BankLineOutcome.choices)
    detail = serializers.CharField(allow_blank=True, help_text="alasan penolakan atau kegagalan")

    def to_representation(self, instance):
        request = self.context.get("request")
        [line] = banking.lines_as_seen(getattr(request, "user", None), [instance])
        return super().to_representation(line)


class TrancheJobDetailSerializer(TrancheJobSerializer):
    """…with what became of every line of a bank result file."""

    lines = JobLineSerializer(many=True, read_only=True)

    class Meta(TrancheJobSerializer.Meta):
        fields = [*TrancheJobSerializer.Meta.fields, "lines"]
        read_only_fields = fields


class CoverageQuerySerializer(Serializer):
    cycle = YearField(error_messages={"required": "Isi tahun siklus, mis. ?cycle=2019."})
    level = serializers.ChoiceField(choices=["kab_kota", "kecamatan"], default="kecamatan")
    fmt = serializers.ChoiceField(choices=["json", *FORMATS], default="json")
