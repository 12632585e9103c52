"""A unique index's refusal that escapes a service's checks, answered as the checks answer it.

Two requests registering the same NIK (No. KK, a worker's NIK, an enrolment per household and
cycle…) at once both pass the Python checks (a serializer's or ``full_clean``'s uniqueness
query) before either commits; the second INSERT meets the unique index and PostgreSQL refuses
it (SQLSTATE 23505). ``refusal(exc)`` turns that ``IntegrityError`` into the
``ValidationError`` the validators give for an existing value — the field named, the model's
own uniqueness message ("Orang dengan NIK telah ada.") — never the value, never where the
existing row lives. The API answers it 400 (``dinsos.api.errors``), a staff page's form shows
it next to its field (``dinsos.pages.REFUSALS``), the admin and any other page answer 409
(``dinsos.middleware.UniqueConflictMiddleware``); nothing was stored."""

import re

from django.apps import apps
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError
from django.db.models import UniqueConstraint
from django.utils.translation import gettext as _

UNIQUE_VIOLATION = "23505"
_KEY = re.compile(r"Key \((?P<columns>.*?)\)=\(")


def is_unique_violation(exc: BaseException) -> bool:
    return (isinstance(exc, IntegrityError)
            and getattr(exc.__cause__, "pgcode", None) == UNIQUE_VIOLATION)


def _model(table: str | None):
    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table == table:
            return model
    return None


def _field_names(model, diag) -> tuple[str, ...]:
    """The model's fields the violated constraint is on: a ``UniqueConstraint`` of its Meta
    by name, else the columns PostgreSQL names in its detail (``Key (nik)=(…)``)."""
    for constraint in model._meta.constraints:
        if isinstance(constraint, UniqueConstraint) and constraint.name == diag.constraint_name:
            return tuple(constraint.fields)
    match = _KEY.match(diag.message_detail or "")
    if not match:
        return ()
    by_column = {f.column: f.name for f in model._meta.concrete_fields}
    columns = [c.strip().strip('"') for c in match["columns"].split(",")]
    if not all(c in by_column for c in columns):
        return ()  # an expression index (lower(name), …): said without a field
    return tuple(by_column[c] for c in columns)


def _message(model, names: tuple[str, ...], constraint_name: str | None) -> str:
    for constraint in model._meta.constraints:
        if not (isinstance(constraint, UniqueConstraint) and constraint.name == constraint_name):
            continue
        if constraint.violation_error_message != constraint.default_violation_error_message:
            return str(constraint.get_violation_error_message())
        if constraint.condition is not None:  # one ACTIVE (open, unfinished) row, not one row
            return _("%(model)s lain yang masih berlaku untuk %(fields)s sudah ada; hanya satu "
                     "yang boleh berlaku sekaligus.") % {
                "model": str(model._meta.verbose_name).capitalize(),
                "fields": ", ".join(str(model._meta.get_field(n).verbose_name) for n in names)}
    if names:
        return model().unique_error_message(model, names).messages[0]
    return _("%(model)s dengan data yang sama sudah tercatat.") % {
        "model": str(model._meta.verbose_name).capitalize()}


def refusal(exc: BaseException) -> ValidationError | None:
    """The uniqueness refusal ``exc`` stands for (``None``: not a unique violation): keyed by
    the field when the constraint is on one, else a non-field error."""
    if not is_unique_violation(exc):
        return None
    diag = exc.__cause__.diag
    model = _model(diag.table_name)
    if model is None:
        return ValidationError({NON_FIELD_ERRORS: [_("Data yang sama sudah tercatat.")]})
    names = _field_names(model, diag)
    message = _message(model, names, diag.constraint_name)
    return ValidationError({names[0] if len(names) == 1 else NON_FIELD_ERRORS: [message]})
