from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from dinsos.api.idempotency import run_idempotent
from dinsos.api.viewsets import ScopedModelViewSet
from pmks import selectors, services
from pmks.api.serializers import (
    HouseholdDetailSerializer,
    HouseholdSerializer,
    PersonSerializer,
    PersonUpsertSerializer,
)
from pmks.filters import HouseholdFilterSet, PersonFilterSet
from pmks.models import Household, Person


class HouseholdViewSet(ScopedModelViewSet):
    """Households (Kartu Keluarga). `?wilayah=<kode>` selects everything inside a region."""

    queryset = Household.objects.all()
    filterset_class = HouseholdFilterSet
    ordering_fields = ["no_kk", "created_at", "decile"]
    ordering = ["no_kk"]

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.household_list(user=self.request.user).prefetch_related("members")
        return selectors.household_list(user=self.request.user)

    def get_serializer_class(self):
        return HouseholdDetailSerializer if self.action == "retrieve" else HouseholdSerializer

    def perform_create(self, serializer):
        serializer.instance = services.household_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.household_update(
            actor=self.request.user, household=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.household_delete(actor=self.request.user, household=instance)


class PersonViewSet(ScopedModelViewSet):
    """Persons. Fetch and upsert by NIK at `persons/by-nik/<nik>/`."""

    queryset = Person.objects.all()
    serializer_class = PersonSerializer
    filterset_class = PersonFilterSet
    ordering_fields = ["name", "birth_date", "created_at"]
    ordering = ["name", "id"]
    log_access = True

    def get_queryset(self):
        return selectors.person_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.person_register(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.person_update(
            actor=self.request.user, person=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.person_delete(actor=self.request.user, person=instance)

    @extend_schema(request=PersonUpsertSerializer, responses=PersonSerializer)
    @action(detail=False, methods=["get", "put"], url_path=r"by-nik/(?P<nik>[0-9]{16})",
            serializer_class=PersonUpsertSerializer)
    def by_nik(self, request, nik=None):
        if request.method == "GET":
            person = selectors.person_get_by_nik(user=request.user, nik=nik)
            from dinsos.audit import log_access

            log_access(person)
            return Response(PersonSerializer(person, context=self.get_serializer_context()).data)

        def handle():
            serializer = PersonUpsertSerializer(data=request.data,
                                                context=self.get_serializer_context())
            serializer.is_valid(raise_exception=True)
            person, created = services.person_upsert(
                actor=request.user, nik=nik, **serializer.validated_data
            )
            body = PersonSerializer(person, context=self.get_serializer_context()).data
            return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

        return run_idempotent(request, handle)
