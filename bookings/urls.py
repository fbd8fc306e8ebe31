from rest_framework.routers import SimpleRouter

from bookings.views import BookingViewSet

router = SimpleRouter(trailing_slash=False)
router.register("bookings", BookingViewSet, basename="booking")

# bookings/{id}/payments belongs to payments/urls.py: nothing here may match it.
urlpatterns = [*router.urls]
