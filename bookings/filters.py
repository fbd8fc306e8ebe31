from django.db.models import Exists, OuterRef
from django_filters import rest_framework as filters

from bookings.models import Booking, BookingVendor


class BookingFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Booking.Status.choices)
    my_line_status = filters.ChoiceFilter(
        choices=BookingVendor.Status.choices,
        method="filter_my_line_status",
        label="Vendor callers: the status of their own line (e.g. pending = still to answer).",
    )
    event_date_from = filters.DateFilter(field_name="event_date", lookup_expr="gte")
    event_date_to = filters.DateFilter(field_name="event_date", lookup_expr="lte")

    class Meta:
        model = Booking
        fields = ["status", "my_line_status", "event_date_from", "event_date_to"]

    def filter_my_line_status(self, queryset, name, value):
        # A subquery on the caller's own line: no extra query, and empty for callers that
        # have no line (organizers, admins).
        mine = BookingVendor.objects.filter(
            booking=OuterRef("pk"), vendor__user=self.request.user, status=value
        )
        return queryset.filter(Exists(mine))
