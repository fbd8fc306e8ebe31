from rest_framework import serializers

from disputes.models import Dispute
from strathwell.api.fields import StrictCharField, StrictUUIDField


class DisputeCreateSerializer(serializers.Serializer):
    booking_id = StrictUUIDField()
    reason = StrictCharField(max_length=200)
    description = StrictCharField(max_length=5000)


class DisputeSerializer(serializers.ModelSerializer):
    booking_id = serializers.UUIDField(read_only=True)
    opened_by_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Dispute
        fields = [
            "id",
            "booking_id",
            "opened_by_id",
            "reason",
            "description",
            "status",
            "resolution_note",
            "created_at",
            "updated_at",
            "resolved_at",
        ]
        read_only_fields = fields


class AdminDisputeUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[s for s in Dispute.Status.choices if s[0] != Dispute.Status.OPEN]
    )
    resolution_note = StrictCharField(max_length=5000, required=False, allow_blank=True, default="")
