from rest_framework import serializers

from notifications.models import Notification
from strathwell.api.lean import LeanSerializerMixin


class NotificationSerializer(LeanSerializerMixin, serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=Notification.Kind.choices, read_only=True)
    booking_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "booking_id", "created_at", "read_at"]
        read_only_fields = fields


class MarkedReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many unread notifications were marked read.")
