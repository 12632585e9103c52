"""Lists at province scale: the rows of a list page turned into JSON-ready dicts without DRF's
per-row, per-field machinery — with exactly the output DRF would give.

DRF builds the fields of a serializer for every request (deep copies, model introspection,
querysets of relation fields) and then, per row and per field, walks a generator, catches
``SkipField``, checks ``PKOnlyObject``s and dispatches ``get_attribute`` / ``to_representation``
through several layers: about a millisecond a row. ``PlannedListSerializer`` (the list
serializer of every kernel ``ModelSerializer``) works out once per serializer class how each
field reads an instance (``RowPlan``) and then, per request, only asks the access policy once
per model whether identifiers are shown whole (``dinsos.scoping.sees_identifiers``) and binds
``SerializerMethodField`` methods to a serializer carrying the request's context.

Only what is known to be context-free is planned: model columns read by attribute,
primary-key relations, identifier fields (masked as ``mask_for`` says), method fields, and
the value converters of DRF's plain fields. Any other field (nested serializers, custom
fields) is read by DRF itself, and a serializer that changes its fields or its
``to_representation`` is serialized by DRF as a whole. The tests compare both outputs for
every list endpoint (tests/dinsos/test_rows.py).
"""

from operator import attrgetter

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.utils import timezone
from rest_framework import fields as drf_fields
from rest_framework import relations, serializers
from rest_framework.fields import SkipField
from rest_framework.settings import api_settings

from dinsos.api.fields import CodeListField, MaskedIdentifierField
from dinsos.scoping import mask, sees_identifiers

#: DRF fields whose ``to_representation`` reads nothing but the value and the field's own
#: settings (never the context, the parent or the request).
PURE_CONVERTERS = {
    getattr(drf_fields, name).to_representation
    for name in ("CharField", "EmailField", "RegexField", "SlugField", "URLField", "UUIDField",
                 "IPAddressField", "IntegerField", "BigIntegerField", "FloatField",
                 "DecimalField", "BooleanField", "DateTimeField", "DateField", "TimeField",
                 "DurationField", "ChoiceField", "JSONField", "ReadOnlyField")
    if hasattr(drf_fields, name)
}
PLAIN, METHOD, MASKED, DRF = "plain", "method", "masked", "drf"
#: A ``converter`` that stands for "DRF's DateTimeField in the request's time zone".
DATETIME = object()


def _datetime_in(zone):
    """DRF's ``DateTimeField.to_representation`` (ISO 8601, ``Z`` for UTC) for aware values,
    with the current time zone looked up once per request instead of once per value."""

    def convert(value, field):
        if not value or isinstance(value, str) or not timezone.is_aware(value):
            return field.to_representation(value)
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return convert


def _plain_datetime(field) -> bool:
    return (type(field) is drf_fields.DateTimeField and not hasattr(field, "timezone")
            and getattr(field, "format", api_settings.DATETIME_FORMAT) is not None
            and getattr(field, "format", api_settings.DATETIME_FORMAT).lower()
            == drf_fields.ISO_8601)


def _column(model, attr: str):
    """The attribute a model instance keeps ``attr``'s value under (its ``attname``), when
    ``attr`` is a concrete column; None otherwise (properties, methods, reverse relations)."""
    try:
        field = model._meta.get_field(attr)
    except FieldDoesNotExist:
        return None
    return field.attname if getattr(field, "concrete", False) else None


def _relation_path(field, model):
    """A getter for a dotted source that follows forward relations to a concrete column
    (``desa.nama``, ``head.name``) as DRF reads it: an empty relation gives None where the field
    defaults to None or allows null (or cannot be empty); None when DRF must read it itself."""
    source = field.source_attrs
    for position, attr in enumerate(source):
        try:
            step = model._meta.get_field(attr)
        except FieldDoesNotExist:
            return None
        if position < len(source) - 1:
            if not (step.concrete and (step.many_to_one or step.one_to_one)):
                return None
            # an empty relation: DRF gives None for a field that defaults to None or allows
            # null; otherwise it would skip the field
            if step.null and field.default is not None and not (
                    field.default is drf_fields.empty and field.allow_null):
                return None
            model = step.related_model
        elif not step.concrete or step.is_relation:
            return None

    def get(instance):
        for attr in source:
            instance = getattr(instance, attr)
            if instance is None:
                return None
        return instance

    return get


def _plain_step(field, model):
    """(getter, converter) for a field whose value can be read without DRF, else None."""
    source = field.source_attrs
    if isinstance(field, relations.PrimaryKeyRelatedField):
        if (type(field).to_representation is not relations.PrimaryKeyRelatedField
                .to_representation or field.pk_field is not None or len(source) != 1):
            return None
        column = _column(model, source[0])
        return (attrgetter(column), None) if column else None
    if isinstance(field, relations.RelatedField | serializers.BaseSerializer):
        return None
    if type(field) is CodeListField:  # its codes, read as the field reads them: a list already
        return field.get_attribute, None
    if type(field).to_representation not in PURE_CONVERTERS:
        return None
    if len(source) == 1 and _column(model, source[0]) == source[0]:
        getter = attrgetter(source[0])
    else:  # a column across relations; properties and the rest: DRF's own reading
        getter = _relation_path(field, model) or field.get_attribute
    if _plain_datetime(field):
        return getter, DATETIME
    converter = {drf_fields.CharField: str, drf_fields.IntegerField: int}.get(
        type(field), field.to_representation)  # DRF's own str()/int() without the call
    return getter, converter


class RowPlan:
    """How one serializer class turns an instance into its dict, worked out once."""

    _plans: dict[type, "RowPlan"] = {}
    _templates: dict[type, serializers.Serializer] = {}

    @classmethod
    def template_field(cls, serializer_class, name: str):
        return cls._templates[serializer_class].fields[name]

    def __init__(self, serializer_class):
        template = serializer_class()  # no context: nothing is queried, nothing depends on a user
        self._templates[serializer_class] = template
        model = serializer_class.Meta.model
        self.steps: list[tuple] = []
        self.masked_models = set()
        self.needs_fields = False
        for field in template._readable_fields:
            name = field.field_name
            if isinstance(field, serializers.SerializerMethodField):
                self.steps.append((METHOD, name, field.method_name, None))
            elif (isinstance(field, MaskedIdentifierField)
                  and type(field).to_representation is MaskedIdentifierField.to_representation
                  and len(field.source_attrs) == 1):
                owner = field.model or model
                self.masked_models.add(owner)
                self.steps.append((MASKED, name, field.get_attribute, owner))
            else:
                plain = _plain_step(field, model)
                if plain is None:
                    self.needs_fields = True
                    self.steps.append((DRF, name, None, None))
                else:
                    self.steps.append((PLAIN, name, *plain))

    @classmethod
    def of(cls, serializer_class) -> "RowPlan | None":
        """The plan of ``serializer_class``, or None when DRF must serialize it itself."""
        if serializer_class not in cls._plans:
            cls._plans[serializer_class] = cls(serializer_class) if plannable(
                serializer_class) else None
        return cls._plans[serializer_class]

    def rows(self, child):
        """A function instance → dict for this request (``child`` carries the context)."""
        request = child.context.get("request")
        user = getattr(request, "user", None)
        whole = {m: sees_identifiers(user, m) for m in self.masked_models}
        fields = child.fields if self.needs_fields else None
        to_datetime = _datetime_in(timezone.get_current_timezone()) if settings.USE_TZ else None
        steps = []
        for kind, name, a, b in self.steps:
            if kind == METHOD:
                steps.append((kind, name, getattr(child, a), None))
            elif kind == MASKED:
                steps.append((kind, name, a, whole[b]))
            elif kind == DRF:
                steps.append((kind, name, fields[name], None))
            elif b is DATETIME:
                field = RowPlan.template_field(type(child), name)
                steps.append((kind, name, a, (lambda v, f=field, c=to_datetime: c(v, f))
                              if to_datetime else field.to_representation))
            else:
                steps.append((kind, name, a, b))

        def row(instance) -> dict:
            out = {}
            for kind, name, a, b in steps:
                if kind == PLAIN:
                    try:
                        value = a(instance)
                    except ObjectDoesNotExist:
                        value = None
                    except SkipField:
                        continue
                    out[name] = value if value is None or b is None else b(value)
                elif kind == METHOD:
                    out[name] = a(instance)
                elif kind == MASKED:
                    try:
                        value = a(instance)
                    except SkipField:
                        continue
                    if value is None:
                        out[name] = None
                    else:
                        value = str(value)
                        out[name] = mask(name, value) if value and not b else value
                else:
                    try:
                        attribute = a.get_attribute(instance)
                    except SkipField:
                        continue
                    check = attribute.pk if isinstance(attribute, relations.PKOnlyObject) \
                        else attribute
                    out[name] = None if check is None else a.to_representation(attribute)
            return out

        return row


def plannable(serializer_class) -> bool:
    """Serializers that change their fields per instance or their representation are left to
    DRF (their output may depend on the request in ways a plan cannot see)."""
    from dinsos.api.serializers import ScopedSerializerMixin

    return (
        serializer_class.to_representation is serializers.Serializer.to_representation
        and serializer_class.get_fields is ScopedSerializerMixin.get_fields
        and serializer_class.__init__ is serializers.BaseSerializer.__init__
        and getattr(getattr(serializer_class, "Meta", None), "model", None) is not None
    )
