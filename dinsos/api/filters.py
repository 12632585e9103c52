"""Filter backends of every list, in one place (settings ``DEFAULT_FILTER_BACKENDS``):
unknown query parameters and unknown ordering fields are refused (400 naming them) instead of
silently returning everything, and ``?updated_since=`` works on every record with an
``updated_at``."""

import datetime

from django.forms import MultiWidget
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings

from dinsos.scoping import IDENTIFIER_FIELDS, ordering_as_seen, sees_identifiers

UPDATED_SINCE = "updated_since"
#: accepted everywhere: renderer choice
COMMON_PARAMS = {api_settings.URL_FORMAT_OVERRIDE}


def has_updated_at(model) -> bool:
    return any(f.name == "updated_at" for f in model._meta.fields)


def parse_since(value: str):
    """ISO 8601 date or date-time (server time zone when none is given)."""
    from django.utils import timezone

    try:  # well-formed but impossible (2026-02-30, 25:00, a year past 9999 in UTC) raises
        moment = parse_datetime(value.strip().replace(" ", "+"))
        if moment is None and (day := parse_date(value.strip())) is not None:
            moment = timezone.datetime.combine(day, timezone.datetime.min.time())
        if moment is not None:
            moment = timezone.make_aware(moment) if timezone.is_naive(moment) else moment
            offset = moment.utcoffset()
            if abs(offset) > datetime.timedelta(hours=14):  # no zone is further from UTC
                raise ValueError(offset)
            moment.astimezone(datetime.UTC)
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        raise ValidationError({UPDATED_SINCE: [_(
            "updated_since harus tanggal-waktu ISO 8601, misalnya 2026-11-30T02:00:00+07:00."
        )]}, code="invalid")
    return moment


_PARAMS_CACHE: dict[tuple, frozenset[str]] = {}


def _filterset_key(view, filterset_class) -> tuple:
    """What a view's filter parameters depend on: its FilterSet class, or — for
    ``filterset_fields``, where django-filter makes a new class per request — the fields."""
    fields = getattr(view, "filterset_fields", None)
    if getattr(view, "filterset_class", None) is None and fields:
        return (type(view), tuple(fields))
    return (filterset_class,)


def _filterset_params(backend, request, queryset, view) -> frozenset[str]:
    """The query parameters of the view's FilterSet, worked out once per FilterSet (building
    a FilterSet and its form costs more than the rest of a list request's filtering)."""
    filterset_class = backend.get_filterset_class(view, queryset)
    if filterset_class is None:
        return frozenset()
    key = _filterset_key(view, filterset_class)
    if key not in _PARAMS_CACHE:
        _PARAMS_CACHE[key] = frozenset(_form_params(filterset_class))
    return _PARAMS_CACHE[key]


def _form_params(filterset_class) -> set[str]:
    names = set()
    for name, field in filterset_class().form.fields.items():
        widget = field.widget
        if isinstance(widget, MultiWidget):
            suffixes = getattr(widget, "suffixes", None) or [str(i) for i in
                                                              range(len(widget.widgets))]
            names |= {f"{name}_{s}" if s else name for s in suffixes}
        else:
            names.add(name)
    return names


def known_params(request, queryset, view) -> set[str]:
    names = set(COMMON_PARAMS) | set(getattr(view, "extra_query_params", ()))
    if has_updated_at(queryset.model):
        names.add(UPDATED_SINCE)
    paginator = getattr(view, "paginator", None)
    for attr in ("page_query_param", "page_size_query_param", "cursor_query_param",
                 "limit_query_param", "offset_query_param"):
        if paginator is not None and getattr(paginator, attr, None):
            names.add(getattr(paginator, attr))
    for backend_class in view.filter_backends:
        backend = backend_class()
        if isinstance(backend, DjangoFilterBackend):
            names |= _filterset_params(backend, request, queryset, view)
        for attr in ("ordering_param", "search_param"):
            if getattr(backend, attr, None):
                names.add(getattr(backend, attr))
    return names


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, except that a request naming none of the FilterSet's parameters
    is not filtered at all: with no data every filter of a FilterSet keeps all rows, so building
    the FilterSet and validating its empty form would only cost time."""

    def filter_queryset(self, request, queryset, view):
        if not _filterset_params(self, request, queryset, view) & set(request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)


class KnownParametersFilter(filters.BaseFilterBackend):
    """On lists: 400 for a query parameter the list does not know; ``updated_since`` (ISO
    date-time, inclusive) keeps records changed at or after it, ordered by (updated_at, id)
    unless ``ordering`` says otherwise."""

    def filter_queryset(self, request, queryset, view):
        action = getattr(view, "action", None)
        if action not in ("list", "export"):  # an export is its list, as a file
            return queryset
        known = known_params(request, queryset, view) | ({"fmt"} if action == "export" else set())
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            raise ValidationError(
                {name: [_("Parameter '%(name)s' tidak dikenal untuk daftar ini.") % {"name": name}]
                 for name in unknown}, code="unknown_parameter",
            )
        value = request.query_params.get(UPDATED_SINCE)
        if value and has_updated_at(queryset.model):
            queryset = queryset.filter(updated_at__gte=parse_since(value))
        return queryset


class OrderingFilter(filters.OrderingFilter):
    """DRF's ordering, but an unknown field is refused (400) instead of silently ignored.
    ``updated_at`` and ``id`` are always allowed when the model has them."""

    def get_valid_fields(self, queryset, view, context=None):
        context = context or {}
        fields = super().get_valid_fields(queryset, view, context)
        request = context.get("request")
        if request is not None and not sees_identifiers(request.user, queryset.model):
            # the order of masked numbers tells what the mask hides
            fields = [(name, label) for name, label in fields if name not in IDENTIFIER_FIELDS]
        names = {name for name, _label in fields}
        extra = [f for f in ("updated_at", "id") if f not in names
                 and any(m.name == f for m in queryset.model._meta.fields)]
        return [*fields, *((f, f) for f in extra)]

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params:
            fields = [param.strip() for param in params.split(",") if param.strip()]
            valid = {name for name, _label in self.get_valid_fields(queryset, view,
                                                                   {"request": request})}
            unknown = [f for f in fields if f.lstrip("-") not in valid]
            if unknown:
                raise ValidationError({self.ordering_param: [
                    _("Urutan tidak dikenal: %(fields)s. Pilihan: %(valid)s.")
                    % {"fields": ", ".join(unknown), "valid": ", ".join(sorted(valid))}
                ]}, code="invalid_ordering")
            if fields:
                return fields
        if request.query_params.get(UPDATED_SINCE) and has_updated_at(queryset.model):
            return ["updated_at", "id"]
        return self.default_ordering_as_seen(request, queryset, view)

    def default_ordering_as_seen(self, request, queryset, view):
        """The view's default ordering (else the queryset's own: its ``order_by`` or the
        model's ``Meta.ordering``) without the identifiers the user sees masked, which it
        refuses as ``?ordering=`` too (``scoping.ordering_as_seen``). None: the queryset's
        order stands."""
        default = self.get_default_ordering(view)
        if default is not None:
            return ordering_as_seen(request.user, queryset.model, default)
        query = queryset.query
        current = list(query.order_by or (queryset.model._meta.ordering
                                          if query.default_ordering else ()))
        shown = ordering_as_seen(request.user, queryset.model, current)
        return shown if shown != current else None
