from django.urls import path
from rest_framework.routers import SimpleRouter

from payments import views

router = SimpleRouter(trailing_slash=False)
router.register("vendor/payouts", views.VendorPayoutViewSet, basename="vendor-payouts")
router.register("admin/payouts", views.AdminPayoutViewSet, basename="admin-payouts")
router.register("admin/refunds", views.AdminRefundViewSet, basename="admin-refunds")
router.register(
    "admin/webhook-events", views.AdminWebhookEventViewSet, basename="admin-webhook-events"
)

urlpatterns = [
    path(
        "bookings/<uuid:booking_id>/payments",
        views.BookingPaymentsView.as_view(),
        name="booking-payments",
    ),
    path(
        "bookings/<uuid:booking_id>/refunds",
        views.BookingRefundsView.as_view(),
        name="booking-refunds",
    ),
    path("payments/<uuid:pk>", views.PaymentDetailView.as_view(), name="payment-detail"),
    path("webhooks/stripe", views.StripeWebhookView.as_view(), name="stripe-webhook"),
    *router.urls,
]
