from django.conf import settings
from rest_framework import serializers

from strathwell.api.fields import StrictCharField, StrictIntegerField
from strathwell.uploads.models import Upload
from strathwell.uploads.services import allowed_mime_types, media_type


class PresignRequestSerializer(serializers.Serializer):
    filename = StrictCharField(max_length=255)
    content_type = StrictCharField(max_length=100)
    size_bytes = StrictIntegerField(min_value=1)

    def validate_content_type(self, value):
        value = media_type(value)
        allowed = allowed_mime_types()
        if value not in allowed:
            raise serializers.ValidationError(
                f"{value or 'This type'} is not accepted; allowed: {', '.join(sorted(allowed))}."
            )
        return value

    def validate_size_bytes(self, value):
        if value > settings.MAX_UPLOAD_BYTES:
            raise serializers.ValidationError(
                f"Ensure this value is less than or equal to {settings.MAX_UPLOAD_BYTES}."
            )
        return value


class PresignResponseSerializer(serializers.Serializer):
    key = serializers.CharField()
    upload_url = serializers.URLField()
    method = serializers.ChoiceField(choices=["PUT", "POST"])
    headers = serializers.DictField(child=serializers.CharField())
    fields = serializers.DictField(
        child=serializers.CharField(),
        help_text="Form fields to send before the file (S3 presigned POST); empty for PUT.",
    )
    expires_in = serializers.IntegerField(help_text="Seconds the URL stays valid.")


class UploadSerializer(serializers.ModelSerializer):
    class Meta:
        model = Upload
        fields = ["id", "key", "filename", "content_type", "size_bytes", "status", "created_at"]
        read_only_fields = fields
