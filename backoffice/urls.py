from django.urls import path
from rest_framework.routers import SimpleRouter

from backoffice import views

router = SimpleRouter(trailing_slash=False)
router.register("admin/bookings", views.AdminBookingViewSet, basename="admin-booking")
router.register("admin/payments", views.AdminPaymentViewSet, basename="admin-payment")
router.register("admin/audit-logs", views.AdminAuditLogViewSet, basename="admin-audit-log")

urlpatterns = [
    path("admin/overview", views.AdminOverviewView.as_view(), name="admin-overview"),
    path("ops/health", views.OpsHealthView.as_view(), name="ops-health"),
    path("ops/seed-demo", views.SeedDemoView.as_view(), name="ops-seed-demo"),
    *router.urls,
]
