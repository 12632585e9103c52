"""The version of a record, in one place: the ``ETag`` the API answers and the ``If-Match`` it
honours, and the hidden version every staff-page write form carries (``dinsos.pages.IfMatchPage``).

A record with ``updated_at`` is versioned by it (model, id, updated_at); any other record by
the values of all its columns, so a run whose status moved or a duplicate pair that was decided
is a new version too. Several records (a page that shows a pair and both its persons) make one
version together.
"""

import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model


def has_updated_at(model) -> bool:
    return any(f.name == "updated_at" for f in model._meta.fields)


def _tag(text: str) -> str:
    return f'"{hashlib.sha256(text.encode()).hexdigest()[:32]}"'


def etag_for(model, pk, updated_at) -> str:
    return _tag(f"{model._meta.label_lower}:{pk}:{updated_at.isoformat()}")


def _row_tag(model, pk, values: dict) -> str:
    body = json.dumps(values, cls=DjangoJSONEncoder, sort_keys=True, default=str)
    return _tag(f"{model._meta.label_lower}:{pk}:{body}")


def current_version(instance: Model, *, lock: bool = False) -> str | None:
    """The stored version of ``instance`` (read from the database, not from the instance);
    ``lock`` holds the row until the transaction ends. None when the row is gone."""
    model = type(instance)
    qs = model._base_manager.filter(pk=instance.pk)
    if lock:
        qs = qs.select_for_update()
    if has_updated_at(model):
        updated_at = qs.values_list("updated_at", flat=True).first()
        return None if updated_at is None else etag_for(model, instance.pk, updated_at)
    names = [f.attname for f in model._meta.concrete_fields]
    values = qs.values(*names).first()
    return None if values is None else _row_tag(model, instance.pk, values)


def key(instance: Model) -> tuple[str, object]:
    return type(instance)._meta.label_lower, instance.pk


def current_versions(objects) -> dict[tuple[str, object], str]:
    """The stored versions of several records, read as ``current_version`` reads one but in
    one query per model: {``key(record)``: version}; a record that is gone has no entry. A
    page with a write form per case and per service reads them all at once."""
    by_model: dict[type, set] = {}
    for obj in objects:
        by_model.setdefault(type(obj), set()).add(obj.pk)
    found = {}
    for model, pks in by_model.items():
        qs = model._base_manager.filter(pk__in=pks).order_by()
        if has_updated_at(model):
            for pk, updated_at in qs.values_list("pk", "updated_at"):
                found[model._meta.label_lower, pk] = etag_for(model, pk, updated_at)
        else:
            names = [f.attname for f in model._meta.concrete_fields]
            for values in qs.values(*names):
                pk = values[model._meta.pk.attname]
                found[model._meta.label_lower, pk] = _row_tag(model, pk, values)
    return found


def combined_version(objects, *, lock: bool = False, known=None) -> str | None:
    """One version for several records (one record: exactly its ETag). ``known``: versions
    already read (``current_versions``) — a record found there is not read again."""
    known = {} if known is None or lock else known
    tags = [known[key(obj)] if key(obj) in known else current_version(obj, lock=lock)
            for obj in objects]
    if not tags or any(t is None for t in tags):
        return None
    return tags[0] if len(tags) == 1 else _tag("|".join(tags))
