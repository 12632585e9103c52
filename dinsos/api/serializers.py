from django.contrib.auth import get_user_model
from rest_framework import serializers

from dinsos.models import Office, Wilayah


class WilayahSerializer(serializers.ModelSerializer):
    induk = serializers.CharField(source="induk_id", allow_null=True, read_only=True)

    class Meta:
        model = Wilayah
        fields = ["kode", "nama", "tingkat", "induk"]


class OfficeSerializer(serializers.ModelSerializer):
    wilayah = WilayahSerializer(read_only=True)

    class Meta:
        model = Office
        fields = ["id", "name", "wilayah"]


class MeSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    full_name = serializers.CharField(source="user.get_full_name")
    email = serializers.EmailField(source="user.email")
    office = OfficeSerializer(allow_null=True)
    roles = serializers.ListField(child=serializers.CharField())
    area = WilayahSerializer(allow_null=True)
    province_wide = serializers.BooleanField()


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username", "first_name", "last_name"]
