"""Serializers of the moderation endpoints: the text to screen in, the screening result out
(masked excerpt only, never the raw text)."""

from rest_framework import serializers

from strathwell.api.fields import StrictCharField
from trust.models import ModerationEvent

MAX_SCREENED_TEXT = 20_000


class ModerationEventCreateSerializer(serializers.Serializer):
    context_type = serializers.ChoiceField(choices=ModerationEvent.ContextType.choices)
    context_id = StrictCharField(max_length=64, required=False, allow_blank=True, default="")
    text = StrictCharField(max_length=MAX_SCREENED_TEXT, trim_whitespace=False)

    def validate_text(self, value):
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        return value


class ModerationEventSerializer(serializers.ModelSerializer):
    """A screening result: the masked excerpt only, never the raw text."""

    # A JSONField: declared so the schema says what it holds (sorted, unique signal names).
    signals = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ModerationEvent
        fields = ["id", "action", "signals", "excerpt", "context_type", "context_id", "created_at"]
        read_only_fields = fields


class AdminModerationEventSerializer(ModerationEventSerializer):
    user_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta(ModerationEventSerializer.Meta):
        fields = [*ModerationEventSerializer.Meta.fields, "user_id"]
        read_only_fields = fields
