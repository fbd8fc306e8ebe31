"""`GET /notifications` (own, newest first, `unread=true`), `POST /notifications/{id}/read`,
`POST /notifications/read-all`. Another user's notification answers 404."""

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from notifications import serializers as s
from notifications.models import Notification
from strathwell.api.filters import StrictBooleanFilter

UUID_RE = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class NotificationFilter(django_filters.FilterSet):
    unread = StrictBooleanFilter(
        field_name="read_at",
        lookup_expr="isnull",
        help_text="true: only unread notifications; false: only read ones.",
    )

    class Meta:
        model = Notification
        fields = ["unread"]


@extend_schema_view(
    list=extend_schema(summary="My notifications, newest first", tags=["notifications"]),
)
class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = s.NotificationSerializer
    filterset_class = NotificationFilter
    lookup_value_regex = UUID_RE

    def get_queryset(self):
        return Notification.objects.filter(recipient_id=self.request.user.pk).order_by(
            "-created_at", "-id"
        )

    @extend_schema(
        summary="Mark one of my notifications read",
        request=None,
        responses={200: s.NotificationSerializer},
        tags=["notifications"],
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Idempotent: a notification already read keeps its first `read_at`."""
        notification = self.get_object()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        notification.refresh_from_db(fields=["read_at"])
        return Response(self.get_serializer(notification).data)

    @extend_schema(
        summary="Mark all my notifications read",
        request=None,
        responses={200: s.MarkedReadSerializer},
        tags=["notifications"],
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        marked = self.get_queryset().filter(read_at__isnull=True).update(read_at=timezone.now())
        return Response({"marked": marked})
