"""Serializer base classes every app's API uses, and the kernel's serializers.

``ScopedSerializerMixin`` restricts the queryset of every relation field (primary key, slug,
many) to the rows the requesting user may see, through ``dinsos.scoping.restrict``: the
browsable API's forms never list another district's objects and an id from another district
answers "does not exist", exactly like a missing one. ``ModelSerializer`` also shows every
identifier field (``IDENTIFIER_FIELDS``) as the access policy says."""

from collections.abc import Mapping

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.relations import ManyRelatedField, RelatedField

from dinsos.api.fields import MaskedIdentifierField
from dinsos.api.rows import RowPlan
from dinsos.models import Office, Wilayah
from dinsos.scoping import IDENTIFIER_FIELDS, restrict, scope_fields, within_area


def restrict_relations(fields, user) -> None:
    """Narrow every writable relation field among ``fields`` to what ``user`` may see."""
    for field in fields.values():
        relation = field.child_relation if isinstance(field, ManyRelatedField) else field
        if isinstance(relation, RelatedField) and relation.queryset is not None:
            relation.queryset = restrict(relation.queryset, user)


class ScopedSerializerMixin:
    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        restrict_relations(fields, getattr(request, "user", None))
        return fields


class PlannedListSerializer(ScopedSerializerMixin, serializers.ListSerializer):
    """The list serializer of every ``ModelSerializer``: a list's rows through the ``RowPlan``
    of its child (``dinsos.api.rows``) — DRF's output, masking and all, in a fraction of the
    time. Its child carries the fields (and their scoped querysets)."""

    def to_representation(self, data):
        iterable = data.all() if isinstance(data, models.manager.BaseManager) else data
        request = self.context.get("request")
        if request is not None and self.parent is not None and self._rows_asked():
            iterable = [item for item in iterable if within_area(item, request.user)]
        return self.rows(iterable)

    def _rows_asked(self) -> bool:
        """Whether a nested list's rows are asked one by one (``within_area``) — a selector
        should have prefetched them scoped; this is the policy's last word. Under a parent
        without an area (a cycle's quotas) they came past any restricted queryset. Rows placed
        by a wilayah of their own (a household's members: a member may be registered in
        another kab/kota than his KK) are not the parent's rows either. Rows placed only
        through their parent (a case's transitions) are the parent's: asking them would read
        the parent again."""
        parent_model = getattr(getattr(self.parent, "Meta", None), "model", None)
        child_model = getattr(getattr(self.child, "Meta", None), "model", None)
        if not scope_fields(parent_model):
            return True
        return any("__" not in path for path in scope_fields(child_model))

    def rows(self, iterable) -> list:
        """The rows as JSON-ready dicts: by the plan, else by DRF's own machinery."""
        plan = RowPlan.of(type(self.child))
        if plan is None:
            return super().to_representation(iterable)
        row = plan.rows(self.child)
        return [row(item) for item in iterable]


class RequiredChoiceMixin:
    """A required choice sent empty or as spaces only ("   ") is answered "Bidang ini harus
    diisi." — DRF's ChoiceField does not strip, and answered '"   " bukan pilihan yang
    valid.' Every serializer of the project has it (``Serializer``, ``ModelSerializer``)."""

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):  # DRF answers it ("Invalid data"): a 400, never a 500
            return super().to_internal_value(data)
        missing = {
            field.field_name: [ErrorDetail(str(field.error_messages["required"]),
                                           code="required")]
            for field in self._writable_fields
            if isinstance(field, serializers.ChoiceField)
            and not isinstance(field, serializers.MultipleChoiceField)
            and field.required and not field.allow_blank
            and isinstance(value := field.get_value(data), str) and not value.strip()}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not missing or not isinstance(exc.detail, dict):
                raise
            raise serializers.ValidationError({**exc.detail, **missing}) from exc
        if missing:
            raise serializers.ValidationError(missing)
        return value


def takes_many(field) -> bool:
    """Whether a field reads a list of values from a request body: ids of related rows, nested
    rows, a list of values, or reference codes (``CodeListField.many_values``)."""
    return (isinstance(field, (ManyRelatedField, serializers.ListSerializer,
                               serializers.ListField))
            or getattr(field, "many_values", False))


class BoundedListMixin:
    """A list sent to a writable field of many values — ids of related rows (a meeting's
    attendees), nested rows (a visit's findings), a list of values — holds at most
    ``API_MAX_LIST_ITEMS``; a longer one is answered 400 naming the field before any item is
    read: DRF looks up each id of a related field with a query of its own, so 100,000 ids
    were 100,000 queries inside one request. Every serializer of the project has it."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            limit = settings.API_MAX_LIST_ITEMS
            too_long = {}
            for field in self._writable_fields:
                if not takes_many(field):
                    continue
                value = field.get_value(data)
                if isinstance(value, Mapping):  # DRF would read an object's keys as the ids
                    too_long[field.field_name] = [ErrorDetail(
                        _("Kirim daftar (list), bukan objek."), code="not_a_list")]
                elif (not isinstance(value, (str, bytes)) and hasattr(value, "__len__")
                      and len(value) > limit):
                    too_long[field.field_name] = [ErrorDetail(
                        _("Paling banyak %(max)d butir (dikirim %(n)d).")
                        % {"max": limit, "n": len(value)}, code="max_length")]
            if too_long:
                raise serializers.ValidationError(too_long)
        return super().to_internal_value(data)


class Serializer(BoundedListMixin, RequiredChoiceMixin, ScopedSerializerMixin,
                 serializers.Serializer):
    pass


class ModelSerializer(BoundedListMixin, RequiredChoiceMixin, ScopedSerializerMixin,
                      serializers.ModelSerializer):
    # Lists (many=True) are turned into JSON through dinsos.api.rows: DRF's output without its
    # per-row field machinery. (A comment, not a docstring: docstrings become schema text.)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        meta = getattr(cls, "Meta", None)
        if meta is not None and not hasattr(meta, "list_serializer_class"):
            meta.list_serializer_class = PlannedListSerializer

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if field_name in IDENTIFIER_FIELDS:
            field_class = MaskedIdentifierField
            kwargs.pop("allow_unicode", None)
        return field_class, kwargs


class WilayahSerializer(ModelSerializer):
    induk = serializers.CharField(source="induk_id", allow_null=True, read_only=True)

    class Meta:
        model = Wilayah
        fields = ["kode", "nama", "tingkat", "induk"]


class OfficeSerializer(ModelSerializer):
    wilayah = WilayahSerializer(read_only=True)

    class Meta:
        model = Office
        fields = ["id", "name", "wilayah"]


class MeSerializer(Serializer):
    username = serializers.CharField(source="user.username")
    full_name = serializers.CharField(source="user.get_full_name")
    email = serializers.EmailField(source="user.email", allow_blank=True)
    office = OfficeSerializer(allow_null=True)
    roles = serializers.ListField(child=serializers.CharField())
    area = WilayahSerializer(allow_null=True)
    province_wide = serializers.BooleanField()


class UserSerializer(ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username", "first_name", "last_name"]
