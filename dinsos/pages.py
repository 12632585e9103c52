"""The base of every staff page: logged in, the role's permission (403 otherwise), province-only
pages answer 404 to a kab/kota user; which records is left to the scoped selectors (an
out-of-area object is a 404, like a missing one). Views stay thin: parse, call one service or
selector, render."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from dinsos import audit, unique
from dinsos.scoping import ALL, user_area
from dinsos.versions import combined_version


class StaffPage(LoginRequiredMixin, PermissionRequiredMixin):
    permission_required: tuple[str, ...] = ()
    province_only = False
    raise_exception = False

    def handle_no_permission(self):
        if self.request.user.is_authenticated:
            raise PermissionDenied
        return super().handle_no_permission()

    def dispatch(self, request, *args, **kwargs):
        if (request.user.is_authenticated and self.province_only
                and user_area(request.user) is not ALL):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


class ReadLoggedPage:
    """A staff page that shows personal data writes its ACCESS entry when it is opened (UU
    27/2022), as the API and the admin do: a list page ONE entry naming the rows of the page
    it shows (``read_model``, the context's ``page``; none while it lists nothing — the
    search form before a search, an empty result), a record page one entry per record it
    shows in full (``read_records``). One INSERT per list page, whatever its length. Listed
    before the view class whose ``get`` it wraps (``TemplateView``); ``StaffPage.dispatch``
    has checked the permission before."""

    #: the model whose rows the context's ``page`` lists (None: the page lists none)
    read_model = None

    def read_records(self, context) -> list:
        """The records the page shows in full (each gets its own entry, in its history)."""
        return []

    def read_lists(self, context) -> list:
        """(model, what, records) of the rows a record page lists beside it (a household's
        members): ONE entry naming them, as a list page's — never one INSERT per row."""
        return []

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        context = getattr(response, "context_data", None) or {}
        page = context.get("page") if self.read_model is not None else None
        if page:  # the page's rows, read once: the template iterates the same list
            audit.log_read(self.read_model, what="daftar", pks=[obj.pk for obj in page])
        for record in self.read_records(context):
            audit.log_access(record)
        for model, what, rows in self.read_lists(context):
            if rows:
                audit.log_read(model, what=what, pks=[row.pk for row in rows])
        return response


#: what a page's write may be refused with: a service's ValidationError, a refusal
#: (PermissionDenied), and a unique index met after the checks passed (the same NIK sent by
#: another officer in the same instant, ``dinsos.unique``), told as the check would tell it
REFUSALS = (ValidationError, PermissionDenied, IntegrityError)


def _refusal(exc):
    """``exc`` as the page tells it; an IntegrityError that is no unique violation is raised
    again (a 500: a defect, not the user's input)."""
    if isinstance(exc, IntegrityError):
        refusal = unique.refusal(exc)
        if refusal is None:
            raise exc
        return refusal
    return exc


def form_errors_from(form, exc: ValidationError | PermissionDenied | IntegrityError) -> None:
    """Put a service's ValidationError next to the fields it names (others on top); a refusal
    (PermissionDenied) on top of the form; a late unique violation next to its field."""
    exc = _refusal(exc)
    if isinstance(exc, PermissionDenied):
        form.add_error(None, str(exc) or "Anda tidak berwenang melakukan ini.")
        return
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def notify_refusal(request, exc: ValidationError | PermissionDenied | IntegrityError) -> None:
    exc = _refusal(exc)
    text = str(exc) if isinstance(exc, PermissionDenied) else " ".join(exc.messages)
    messages.error(request, text)


# --- optimistic locking of staff-page writes ----------------------------------------------------

#: the hidden field every write form carries (rendered by ``{% if_match_field obj %}``)
IF_MATCH_FIELD = "if_match"
STALE_MESSAGE = _("Data ini sudah diubah pengguna lain sejak halaman dibuka. Muat ulang halaman "
                  "lalu ulangi.")


class StaleVersion(ValidationError):
    """The form was rendered from an older version of the record (or carries none)."""

    def __init__(self):
        super().__init__(STALE_MESSAGE, code="stale")


class IfMatchPage:
    """Optimistic locking for a staff page that writes (the page twin of the API's If-Match).

    How to use it — every staff view with a ``post`` is one of these, or declares
    ``writes_without_version = "<why>"`` (a pure create: nothing to be stale against);
    ``tests/web/test_if_match_pages.py`` walks the URLconf and holds every view to it:

    1. In the template, inside the ``<form>``, render the version of the record(s) the form
       changes, as the page shows them::

           {% load dinsos_format %}
           <form method="post">{% csrf_token %}{% if_match_field case %} … </form>

       (several records: ``{% if_match_field pair pair.person_a pair.person_b %}``). The value
       is the record's API ``ETag`` (``dinsos.versions``).
    2. In ``post``, check it in the same transaction as the write, inside the ``try`` that
       already turns a service's ``ValidationError`` into form errors::

           try:
               with transaction.atomic():
                   self.check_if_match(case, pair.person_a)   # same records, same order
                   services.case_transition(...)
           except REFUSALS as exc:
               form_errors_from(form, exc)     # → STALE_MESSAGE on top of the form

       ``check_if_match`` locks the rows (``SELECT … FOR UPDATE``) until the write commits and
       raises ``StaleVersion`` (a ``ValidationError`` whose message is ``STALE_MESSAGE``) when
       the posted version is missing or no longer current: nothing is written, the page is
       rendered again (status 409) with the message next to the form and the current data.
    """

    if_match_field = IF_MATCH_FIELD

    def check_if_match(self, *objects) -> None:
        posted = self.request.POST.get(self.if_match_field, "").strip()
        current = combined_version(objects, lock=True)
        if not posted or current is None or posted != current:
            self.if_match_stale = True
            raise StaleVersion()

    def render_to_response(self, context, **response_kwargs):
        if getattr(self, "if_match_stale", False):
            response_kwargs["status"] = 409
        return super().render_to_response(context, **response_kwargs)


class RecordFormPage(IfMatchPage):
    """A staff page's POST that writes to one record as the page showed it (its version),
    through one service. The shape is here once; a view says only what differs:

    * ``get_record(**kwargs)`` — the record, from a scoped selector (outside the user's area:
      404, like a missing one);
    * ``get_form(record, **kwargs)`` — the form, bound to the request;
    * ``perform(record, form, **kwargs)`` — the one service call;
    * ``done(record, form, **kwargs)`` — the answer after the write (a redirect);
    * ``bound_form_context`` — the ``get_context_data`` argument that puts the bound form back
      on the page when the form or the service refuses (status 400; 409 when stale).

    ``kwargs`` are the URL's. The version check (``check_if_match``) and the service share one
    transaction; a service's ``ValidationError`` or ``PermissionDenied`` lands on the form
    (``form_errors_from``). A page whose write has nothing to be stale against (it starts a
    job, it creates) declares ``writes_without_version = "<why>"`` and is not checked."""

    bound_form_context = "form"

    def get_record(self, **kwargs):
        raise NotImplementedError

    def get_form(self, record, **kwargs):
        raise NotImplementedError

    def perform(self, record, form, **kwargs) -> None:
        raise NotImplementedError

    def done(self, record, form, **kwargs):
        raise NotImplementedError

    def post(self, request, **kwargs):
        record = self.get_record(**kwargs)
        form = self.get_form(record, **kwargs)
        if form.is_valid():
            try:
                with transaction.atomic():
                    if not getattr(self, "writes_without_version", ""):
                        self.check_if_match(record)
                    self.perform(record, form, **kwargs)
            except REFUSALS as exc:
                form_errors_from(form, exc)
            else:
                return self.done(record, form, **kwargs)
        return self.render_to_response(
            self.get_context_data(**kwargs, **{self.bound_form_context: form}), status=400)


class TransitionPage(RecordFormPage):
    """A ``RecordFormPage`` that moves the record to the status ``target`` named in its URL
    (with what the service asks for: a reason, a decree number…); ``targets`` are the statuses
    that exist, another ``target`` is a 404."""

    targets: tuple[str, ...] = ()
    bound_form_context = "bound"

    def post(self, request, **kwargs):
        if kwargs.get("target") not in self.targets:
            raise Http404
        return super().post(request, **kwargs)
