from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from dinsos import selectors
from dinsos.api.serializers import MeSerializer, WilayahSerializer
from dinsos.filters import WilayahFilterSet
from dinsos.models import Wilayah


class WilayahViewSet(viewsets.ReadOnlyModelViewSet):
    """Kemendagri regions of Banten. Reference data, readable by every authenticated user."""

    queryset = Wilayah.objects.all()
    serializer_class = WilayahSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = WilayahFilterSet
    ordering_fields = ["kode", "nama"]
    lookup_field = "kode"
    lookup_value_regex = r"[0-9.]+"


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        profile = selectors.user_profile(user=request.user)
        return Response(MeSerializer(profile).data)
