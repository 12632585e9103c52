import django_filters

from dinsos.filters import FilterSet, IntegerFilter, WilayahCodeFilter
from jamsosratu import choices
from jamsosratu.models import Commitment, Enrolment, Payment, Verification


class EnrolmentFilterSet(FilterSet):
    wilayah = WilayahCodeFilter(field_name="desa")
    cycle = IntegerFilter(field_name="cycle__year", label="Tahun siklus")
    status = django_filters.MultipleChoiceFilter(choices=choices.EnrolmentStatus.choices)

    class Meta:
        model = Enrolment
        fields = ["wilayah", "cycle", "status", "channel", "household"]


class VerificationFilterSet(FilterSet):
    wilayah = WilayahCodeFilter(field_name="enrolment__desa")
    date_from = django_filters.DateFilter(field_name="visit_date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="visit_date", lookup_expr="lte")

    class Meta:
        model = Verification
        fields = ["wilayah", "result", "enrolment", "verifier"]


class CommitmentFilterSet(FilterSet):
    wilayah = WilayahCodeFilter(field_name="member__enrolment__desa")

    class Meta:
        model = Commitment
        fields = ["wilayah", "tranche", "kind", "status"]


class PaymentFilterSet(FilterSet):
    wilayah = WilayahCodeFilter(field_name="desa")
    cycle = IntegerFilter(field_name="tranche__cycle__year")
    tranche = IntegerFilter(field_name="tranche__number")
    status = django_filters.MultipleChoiceFilter(choices=choices.PaymentStatus.choices)

    class Meta:
        model = Payment
        fields = ["wilayah", "cycle", "tranche", "status", "channel", "outcome"]
