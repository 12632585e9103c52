from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dinsos.api.fields import MonthField, YearField
from dinsos.api.serializers import ModelSerializer, Serializer
from dinsos.tabular import FORMATS
from dinsos.validators import ascii_int, validate_whole_rupiah
from incentives.models import BudgetCeiling, PayoutLine, PayoutRun, Rate, RunDocument


class RupiahField(serializers.DecimalField):
    """A money input in whole rupiah, with Indonesian messages."""

    default_error_messages = {
        "invalid": _("Harus berupa angka rupiah, mis. 1500000."),
        "max_digits": _("Paling banyak {max_digits} digit."),
        "max_decimal_places": _("Harus dalam rupiah penuh (tanpa sen), mis. 1500000."),
        "max_whole_digits": _("Paling banyak {max_whole_digits} digit sebelum koma."),
        "min_value": _("Tidak boleh kurang dari {min_value}."),
        "max_string_length": _("Teks terlalu panjang."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 15)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)
        self.validators.append(validate_whole_rupiah)


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-11"})
class PeriodField(MonthField):
    """A payout period as ``YYYY-MM`` (``YYYY-MM-01`` accepted) → the first day of the month;
    the kernel's month parser with the word "Periode" in its message."""

    label_text = _("Periode")


class RateSerializer(ModelSerializer):
    amount = RupiahField(min_value=0)

    class Meta:
        model = Rate
        fields = ["id", "role", "component", "amount", "unit", "schedule", "schedule_month",
                  "funding_source", "paid_by_province", "requires_report", "withhold_tax",
                  "valid_from", "valid_to", "legal_basis"]
        read_only_fields = ["valid_to"]
        validators = []  # one tariff per start date: checked by services.rate_create


class BudgetCeilingSerializer(ModelSerializer):
    amount = RupiahField(min_value=0)

    class Meta:
        model = BudgetCeiling
        fields = ["id", "year", "component", "funding_source", "amount", "legal_basis"]
        validators = []  # one pagu per year × component × funding source: the service checks


class PayoutRunSerializer(ModelSerializer):
    computed_by = serializers.CharField(source="computed_by.username", allow_null=True,
                                        read_only=True)
    verified_by = serializers.CharField(source="verified_by.username", allow_null=True,
                                        read_only=True)
    approved_by = serializers.CharField(source="approved_by.username", allow_null=True,
                                        read_only=True)
    stale = serializers.BooleanField(source="is_stale", read_only=True, help_text=(
        "Dihitung dengan tarif lama (tarif baru ditambahkan sesudahnya): hitung ulang sebelum "
        "verifikasi dan persetujuan; stale_reason menyebut tarifnya."))

    class Meta:
        model = PayoutRun
        fields = ["id", "period", "status", "computed_by", "computed_at", "verified_by",
                  "verified_at", "approved_by", "approved_at", "paid_at", "paid_reference",
                  "cancelled_at", "cancel_reason", "ceiling_exceeded", "ceiling_details",
                  "ceiling_override_reason", "summary", "reports_sent_at", "stale",
                  "stale_since", "stale_reason"]
        read_only_fields = fields


class ComputeSerializer(Serializer):
    period = PeriodField(help_text="YYYY-MM, mis. 2026-11")


class RealisationQuerySerializer(Serializer):
    year = YearField(required=False)
    fmt = serializers.ChoiceField(choices=list(FORMATS), default="xlsx")


class ApproveSerializer(Serializer):
    override_reason = serializers.CharField(required=False, allow_blank=True, default="")


class MarkPaidSerializer(Serializer):
    reference = serializers.CharField(max_length=100)
    line_references = serializers.DictField(child=serializers.CharField(max_length=100),
                                            required=False, default=dict)

    def validate_line_references(self, value: dict) -> dict[int, str]:
        """Keys are line ids (ASCII digits); a key that is not one is refused by name."""
        lines = {}
        for key, reference in value.items():
            if (line := ascii_int(key)) is None:
                raise serializers.ValidationError(_(
                    "Kunci '%(key)s' bukan id baris; tulis id baris perhitungan, mis. "
                    "{\"123\": \"TRF-001\"}.") % {"key": key})
            lines[line] = reference
        return lines


class CancelSerializer(Serializer):
    reason = serializers.CharField()


class AdjustmentSerializer(Serializer):
    corrects = serializers.PrimaryKeyRelatedField(queryset=PayoutLine.objects.all())
    amount = RupiahField()
    reason = serializers.CharField()


class PayoutLineSerializer(ModelSerializer):
    worker_name = serializers.CharField(source="worker.name", read_only=True)
    kab_kota = serializers.SerializerMethodField()
    run_period = serializers.DateField(source="run.period", read_only=True)
    run_status = serializers.CharField(source="run.status", read_only=True,
                                       help_text="dihitung, diverifikasi, disetujui, dibayar")

    class Meta:
        model = PayoutLine
        fields = ["id", "run", "kind", "worker", "worker_name", "role", "component", "period",
                  "area", "kab_kota", "rate", "rate_amount", "unit", "base_amount",
                  "days_active", "days_in_window", "factor", "schedule_rule", "gross_amount",
                  "tax_amount", "net_amount", "funding_source", "status", "hold_reason",
                  "bank_name", "account_number", "account_holder", "arrears_of", "corrects",
                  "recovers", "note", "explanation", "paid_reference", "run_period",
                  "run_status"]
        read_only_fields = fields

    def get_kab_kota(self, obj) -> str:
        return obj.area_id[:5]

class RunStatusSerializer(Serializer):
    """A run seen from one area: its status and the totals of the lines the user may read."""

    run = serializers.IntegerField()
    period = PeriodField()
    status = serializers.CharField()
    status_display = serializers.CharField()
    computed_at = serializers.DateTimeField(allow_null=True)
    verified_at = serializers.DateTimeField(allow_null=True)
    approved_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    lines = serializers.IntegerField()
    payable = serializers.IntegerField()
    held = serializers.IntegerField()
    net_payable = serializers.DecimalField(max_digits=15, decimal_places=2)


class RunDocumentSerializer(ModelSerializer):
    status_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = RunDocument
        fields = ["id", "run", "kind", "status", "filename", "control", "error", "created_at",
                  "finished_at", "status_url", "download_url"]
        read_only_fields = fields

    def _url(self, name, obj):
        from django.urls import reverse

        url = reverse(f"incentives-api:{name}", args=[obj.run_id, obj.kind])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def get_status_url(self, obj) -> str:
        from django.urls import reverse

        url = reverse("incentives-api:document-detail", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def get_download_url(self, obj) -> str | None:
        if obj.status != RunDocument.Status.READY:
            return None
        return self._url("run-report", obj)
