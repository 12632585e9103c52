"""API base classes. Every domain viewset derives from these, so the access policy (and the
permission and error conventions from settings) hold for every endpoint without being
repeated."""

from rest_framework import mixins, viewsets
from rest_framework.response import Response

from dinsos import audit
from dinsos.api.idempotency import IdempotentCreateMixin
from dinsos.api.sync import ETagMixin, IfMatchMixin
from dinsos.scoping import restrict


class ScopedGenericViewSet(viewsets.GenericViewSet):
    """The queryset is narrowed to the user's rows: out-of-area objects answer 404 and never
    appear in lists. Subclasses that use a selector override ``get_queryset`` and pass
    ``user=self.request.user`` (selectors call ``for_user`` themselves)."""

    #: Personal data (UU 27/2022): reading a record, a list page or an export is written to
    #: the audit trail (one ACCESS entry per read).
    log_access = False

    def get_queryset(self):
        return restrict(super().get_queryset(), self.request.user)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if self.log_access and page is not None:
            audit.log_read(queryset.model, what="daftar", pks=[obj.pk for obj in page])
        return page


class ScopedReadOnlyModelViewSet(
    ETagMixin,
    mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet
):
    def list(self, request, *args, **kwargs):
        """DRF's list, on the queryset this request's permission check already built
        (``ModelPermissions`` asks ``get_queryset`` for the model and keeps the answer): a
        selector's queryset (scope, annotations, ``only``) is built once, not twice."""
        queryset = getattr(self, "_permission_queryset", None)
        if queryset is None:
            queryset = self.get_queryset()
        queryset = self.filter_queryset(queryset)
        page = self.paginate_queryset(queryset)
        if page is not None:
            serializer = self.get_serializer(page, many=True)
            return self.get_paginated_response(serializer.data)
        return Response(self.get_serializer(queryset, many=True).data)

    def read_lists(self, instance) -> list:
        """(model, what, records) of the rows a detail answer lists beside its record (a
        household's members, with their NIK): ONE ACCESS entry naming them, as the staff
        page's (``dinsos.pages.ReadLoggedPage.read_lists``) — never one INSERT per row."""
        return []

    def retrieve(self, request, *args, **kwargs):
        """…and its reads: the record's own (``log_access``) and, whatever the record, the
        personal data it lists beside it (``read_lists``: a tranche job's lines name payments'
        account numbers; the job itself is no personal data)."""
        response = super().retrieve(request, *args, **kwargs)
        # the record shown, as ``ETagMixin.get_object`` kept it (not read a second time)
        record = getattr(self, "_conditional_object", None) or self.get_object()
        if self.log_access:
            audit.log_access(record)
        for model, what, rows in self.read_lists(record):
            if rows:
                audit.log_read(model, what=what, pks=[row.pk for row in rows])
        return response


class ReadBackUpdateMixin(mixins.UpdateModelMixin):
    """The answer to an update shows the record as the list does: an update service returns
    the stored row it re-read under lock (``dinsos.services.locked``), without the list's
    annotations and prefetches (a household's ``member_count``), so the answer reads it back
    through ``get_queryset`` — one query — or, should it have left the user's reach, answers
    what the service returned."""

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        self.perform_update(serializer)
        serializer.instance = (self.get_queryset().filter(pk=serializer.instance.pk).first()
                               or serializer.instance)
        return Response(serializer.data)


class ScopedModelViewSet(
    IfMatchMixin,
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    ReadBackUpdateMixin,
    mixins.DestroyModelMixin,
    ScopedReadOnlyModelViewSet,
):
    """Writes go through services: subclasses implement ``perform_create`` / ``perform_update``
    / ``perform_destroy`` by calling one service with ``actor=self.request.user``."""
