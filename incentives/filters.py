import django_filters
from django import forms
from django.core.exceptions import ValidationError

from dinsos.filters import FilterSet, WilayahCodeFilter
from dinsos.periods import parse_month
from incentives.choices import RunStatus
from incentives.models import PayoutLine, PayoutRun


class PeriodFormField(forms.CharField):
    """``YYYY-MM`` (as ``POST runs/`` takes it) or ``YYYY-MM-01`` → the first day of the month."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return parse_month(value)
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from exc


class PeriodFilter(django_filters.Filter):
    field_class = PeriodFormField


class PayoutLineFilterSet(FilterSet):
    wilayah = WilayahCodeFilter(field_name="area")
    period = PeriodFilter(field_name="period")
    run_period = PeriodFilter(field_name="run__period")
    run_status = django_filters.ChoiceFilter(field_name="run__status",
                                             choices=RunStatus.choices)

    class Meta:
        model = PayoutLine
        fields = ["wilayah", "run", "status", "kind", "component", "role", "worker",
                  "funding_source", "hold_reason"]


class RunStatusFilterSet(FilterSet):
    period = PeriodFilter(field_name="period")
    status = django_filters.ChoiceFilter(field_name="status", choices=RunStatus.choices)

    class Meta:
        model = PayoutRun
        fields = ["period", "status"]
