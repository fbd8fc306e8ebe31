from django.urls import path
from rest_framework.routers import SimpleRouter

from disputes import views

router = SimpleRouter(trailing_slash=False)
router.register("disputes", views.DisputeViewSet, basename="dispute")
router.register("admin/disputes", views.AdminDisputeViewSet, basename="admin-dispute")
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
