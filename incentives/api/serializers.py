from rest_framework import serializers

from incentives.models import BudgetCeiling, PayoutLine, PayoutRun, Rate


class RateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Rate
        fields = ["id", "role", "component", "amount", "unit", "schedule", "schedule_month",
                  "funding_source", "paid_by_province", "requires_report", "withhold_tax",
                  "valid_from", "valid_to", "legal_basis"]
        read_only_fields = ["valid_to"]


class BudgetCeilingSerializer(serializers.ModelSerializer):
    class Meta:
        model = BudgetCeiling
        fields = ["id", "year", "component", "funding_source", "amount", "legal_basis"]


class PayoutRunSerializer(serializers.ModelSerializer):
    computed_by = serializers.CharField(source="computed_by.username", default=None,
                                        read_only=True)
    verified_by = serializers.CharField(source="verified_by.username", default=None,
                                        read_only=True)
    approved_by = serializers.CharField(source="approved_by.username", default=None,
                                        read_only=True)

    class Meta:
        model = PayoutRun
        fields = ["id", "period", "status", "computed_by", "computed_at", "verified_by",
                  "verified_at", "approved_by", "approved_at", "paid_at", "paid_reference",
                  "cancelled_at", "cancel_reason", "ceiling_exceeded", "ceiling_details",
                  "ceiling_override_reason", "summary", "reports_sent_at"]
        read_only_fields = fields


class ComputeSerializer(serializers.Serializer):
    period = serializers.RegexField(r"^\d{4}-(0[1-9]|1[0-2])$",
                                    help_text="YYYY-MM, mis. 2026-11")


class ApproveSerializer(serializers.Serializer):
    override_reason = serializers.CharField(required=False, allow_blank=True, default="")


class MarkPaidSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=100)
    line_references = serializers.DictField(child=serializers.CharField(max_length=100),
                                            required=False, default=dict)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField()


class AdjustmentSerializer(serializers.Serializer):
    corrects = serializers.PrimaryKeyRelatedField(queryset=PayoutLine.objects.all())
    amount = serializers.DecimalField(max_digits=15, decimal_places=2)
    reason = serializers.CharField()


class PayoutLineSerializer(serializers.ModelSerializer):
    worker_name = serializers.CharField(source="worker.name", read_only=True)
    kab_kota = serializers.SerializerMethodField()
    account_number = serializers.SerializerMethodField()

    class Meta:
        model = PayoutLine
        fields = ["id", "run", "kind", "worker", "worker_name", "role", "component", "period",
                  "area", "kab_kota", "rate", "rate_amount", "unit", "base_amount",
                  "days_active", "days_in_window", "factor", "schedule_rule", "gross_amount",
                  "tax_amount", "net_amount", "funding_source", "status", "hold_reason",
                  "bank_name", "account_number", "account_holder", "arrears_of", "corrects",
                  "note", "explanation", "paid_reference"]
        read_only_fields = fields

    def get_kab_kota(self, obj) -> str:
        return obj.area_id[:5]

    def get_account_number(self, obj) -> str:
        request = self.context.get("request")
        number = obj.account_number
        if number and request and not request.user.has_perm("incentives.verify_run"):
            return "*" * max(len(number) - 4, 0) + number[-4:]
        return number
