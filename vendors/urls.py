from django.urls import path
from rest_framework.routers import SimpleRouter

from vendors import views

router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("vendors", views.VendorDirectoryViewSet, basename="vendor")
router.register("admin/vendors", views.AdminVendorViewSet, basename="admin-vendor")

urlpatterns = [
    path("vendors/onboarding", views.OnboardingView.as_view(), name="vendor-onboarding"),
    path("vendors/me", views.VendorMeView.as_view(), name="vendor-me"),
    path("vendors/me/calendar", views.VendorCalendarView.as_view(), name="vendor-calendar"),
    path("vendors/me/blocked-dates", views.BlockedDatesView.as_view(), name="vendor-blocked-dates"),
    path(
        "vendors/me/blocked-dates/<str:date>",
        views.BlockedDateView.as_view(),
        name="vendor-blocked-date",
    ),
    *router.urls,
]
