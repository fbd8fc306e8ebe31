"""The moderation endpoints: `POST /trust/moderation-events` (any signed-in user screens a
piece of text; the result is logged) and the staff's read-only `admin/moderation-events`."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from strathwell.api.permissions import IsAdmin
from strathwell.api.throttling import ModerationRateThrottle, UserRateThrottle
from trust import serializers as s
from trust.models import ModerationEvent
from trust.services import record_screening


class ModerationEventCreateView(APIView):
    """Screen a piece of text and log the result (masked excerpt only). Its own, tighter
    throttle (THROTTLE_MODERATION_RATE): screening costs grow with the text."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [UserRateThrottle, ModerationRateThrottle]

    @extend_schema(
        request=s.ModerationEventCreateSerializer,
        responses={201: s.ModerationEventSerializer},
        tags=["trust"],
    )
    def post(self, request):
        serializer = s.ModerationEventCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        _, event = record_screening(
            user=request.user,
            text=data["text"],
            context_type=data["context_type"],
            context_id=data["context_id"],
        )
        return Response(s.ModerationEventSerializer(event).data, status=status.HTTP_201_CREATED)


class ModerationEventFilter(django_filters.FilterSet):
    action = django_filters.ChoiceFilter(choices=ModerationEvent.Action.choices)
    context_type = django_filters.ChoiceFilter(choices=ModerationEvent.ContextType.choices)
    user_id = django_filters.UUIDFilter(field_name="user_id")

    class Meta:
        model = ModerationEvent
        fields = ["action", "context_type", "user_id"]


@extend_schema_view(
    list=extend_schema(tags=["admin", "trust"]),
    retrieve=extend_schema(tags=["admin", "trust"]),
)
class AdminModerationEventViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAdmin]
    staff_operations = {"list": "moderation_event.view", "retrieve": "moderation_event.view"}
    serializer_class = s.AdminModerationEventSerializer
    queryset = ModerationEvent.objects.order_by("-created_at", "id")
    filterset_class = ModerationEventFilter
