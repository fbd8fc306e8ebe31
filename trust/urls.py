"""Routes of the moderation endpoints (mounted under /api/v1/ with the other apps)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from trust import views

router = SimpleRouter(trailing_slash=False)
router.register(
    "admin/moderation-events", views.AdminModerationEventViewSet, basename="admin-moderation-event"
)

urlpatterns = [
    path(
        "trust/moderation-events",
        views.ModerationEventCreateView.as_view(),
        name="trust-moderation-events",
    ),
    *router.urls,
]
