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


def combined_version(objects, *, lock: bool = False) -> str | None:
    """One version for several records (one record: exactly its ETag)."""
    tags = [current_version(obj, lock=lock) for obj in objects]
    if not tags or any(t is None for t in tags):
        return None
    return tags[0] if len(tags) == 1 else _tag("|".join(tags))
