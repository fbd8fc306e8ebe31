import django_filters
from django.db.models import Q
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from bookings.models import Booking, BookingVendor
from disputes import serializers as s
from disputes.models import Dispute
from payments import services as money
from strathwell.api.permissions import IsAdmin
from strathwell.api.schema import ErrorEnvelopeSerializer
from strathwell.exceptions import DomainPermissionDenied
from trust.services import screen_user_text


class DisputeFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Dispute.Status.choices)
    booking_id = django_filters.UUIDFilter(field_name="booking_id")

    class Meta:
        model = Dispute
        fields = ["status", "booking_id"]


def participant_bookings(user):
    """Bookings the user takes part in (organizer, or vendor with a line on it) and can see:
    like GET /bookings, a vendor never sees an unsent draft (404, not its status)."""
    vendor_bookings = BookingVendor.objects.filter(vendor__user_id=user.pk).values("booking_id")
    return Booking.objects.filter(
        Q(organizer_id=user.pk) | (Q(id__in=vendor_bookings) & ~Booking.UNSENT_TO_VENDORS)
    )


@extend_schema_view(
    list=extend_schema(tags=["disputes"]),
    retrieve=extend_schema(tags=["disputes"]),
    create=extend_schema(
        request=s.DisputeCreateSerializer,
        # 404: the booking does not exist or the caller takes no part in it.
        responses={201: s.DisputeSerializer, 404: ErrorEnvelopeSerializer},
        tags=["disputes"],
    ),
)
class DisputeViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Participants open disputes on their bookings and read the disputes on them (another
    user's dispute or booking answers 404)."""

    permission_classes = [IsAuthenticated]
    serializer_class = s.DisputeSerializer
    filterset_class = DisputeFilter

    def get_queryset(self):
        return Dispute.objects.for_participant(self.request.user).order_by("-created_at", "id")

    def create(self, request, *args, **kwargs):
        serializer = s.DisputeCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if request.user.is_admin:
            raise DomainPermissionDenied(
                "Staff do not open disputes; hold the booking's payouts instead."
            )
        booking = participant_bookings(request.user).filter(pk=data["booking_id"]).first()
        if booking is None:
            raise NotFound("Booking not found.")
        # Screened before the dispute's transaction: a block is a 400 naming the field, and
        # its logged (masked) ModerationEvent survives the refusal.
        for field in ("reason", "description"):
            screen_user_text(
                user=request.user,
                text=(data[field] or "").strip(),
                field=field,
                context_type="message",
                context_id=str(booking.pk),
            )
        dispute = money.open_dispute(
            booking=booking,
            opened_by=request.user,
            reason=data["reason"],
            description=data["description"],
        )
        return Response(s.DisputeSerializer(dispute).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(tags=["admin", "disputes"]),
    retrieve=extend_schema(tags=["admin", "disputes"]),
    partial_update=extend_schema(
        request=s.AdminDisputeUpdateSerializer,
        responses={200: s.DisputeSerializer},
        tags=["admin", "disputes"],
    ),
)
class AdminDisputeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Staff read every dispute and move it along open → under_review → resolved | refunded |
    adjusted (PATCH `{status, resolution_note}`); each change settles the money and is
    audited."""

    permission_classes = [IsAdmin]
    staff_operations = {
        "list": "dispute.view",
        "retrieve": "dispute.view",
        "partial_update": "dispute.decide",
    }
    serializer_class = s.DisputeSerializer
    queryset = Dispute.objects.order_by("-created_at", "id")
    filterset_class = DisputeFilter
    http_method_names = ["get", "patch", "head", "options"]

    def partial_update(self, request, *args, **kwargs):
        dispute = self.get_object()
        serializer = s.AdminDisputeUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dispute = money.change_dispute_status(
            dispute,
            actor=request.user,
            status=serializer.validated_data["status"],
            note=serializer.validated_data["resolution_note"],
        )
        return Response(s.DisputeSerializer(dispute).data)
