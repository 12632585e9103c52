"""API base classes. Every domain viewset derives from these, so scoping (and the permission
and error conventions from settings) hold for every endpoint without being repeated."""

from rest_framework import mixins, viewsets

from dinsos import audit
from dinsos.api.idempotency import IdempotentCreateMixin


class ScopedGenericViewSet(viewsets.GenericViewSet):
    """The queryset is narrowed to the user's area: out-of-area objects answer 404 and never
    appear in lists. Subclasses that use a selector override ``get_queryset`` and pass
    ``user=self.request.user`` (selectors call ``for_user`` themselves)."""

    def get_queryset(self):
        return super().get_queryset().for_user(self.request.user)


class ScopedReadOnlyModelViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet
):
    #: Personal data (UU 27/2022): reading one record is written to the audit trail.
    log_access = False

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        if self.log_access:
            audit.log_access(self.get_object())
        return response


class ScopedModelViewSet(
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScopedReadOnlyModelViewSet,
):
    """Writes go through services: subclasses implement ``perform_create`` / ``perform_update``
    / ``perform_destroy`` by calling one service with ``actor=self.request.user``."""
