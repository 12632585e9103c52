import django_filters

from dinsos.filters import WilayahCodeFilter
from incentives.models import PayoutLine


class PayoutLineFilterSet(django_filters.FilterSet):
    wilayah = WilayahCodeFilter(field_name="area")
    period = django_filters.DateFilter(field_name="period")

    class Meta:
        model = PayoutLine
        fields = ["wilayah", "run", "status", "kind", "component", "role", "worker",
                  "funding_source", "hold_reason"]
