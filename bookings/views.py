"""Bookings API: thin viewset; every transition is get_object → input serializer → model method
(or, where money moves, the `payments.services` flow that wraps it) → the updated booking.

Scoping (`get_queryset`) is the IDOR defence: an organizer sees its own bookings, a vendor the
submitted bookings it has a line on, an admin everything; anything else is 404. Inside a booking
the caller sees, acting on it needs the right role on it (403 `permission_denied`)."""

import uuid
from functools import cached_property

from django.db.models import Exists, OuterRef, Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from bookings import rows
from bookings import serializers as s
from bookings.filters import BookingFilter
from bookings.models import Booking, BookingVendor
from payments import services as money
from strathwell.api import lean
from strathwell.api.permissions import HasActiveSubscription, IsOrganizer, staff_can
from strathwell.exceptions import DomainPermissionDenied
from trust.services import screen_booking_text
from vendors.models import Vendor

UUID_RE = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
LINE_PATH = f"vendors/(?P<bv_id>{UUID_RE})"
LINE_ID = OpenApiParameter(
    "bv_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The BookingVendor line id."
)
TAGS = ["bookings"]
# The 409s of the operations that check or take a vendor's capacity on the event date.
UNAVAILABLE = OpenApiResponse(
    description="`vendor_unavailable`: a vendor has no capacity left on the event date "
    "(details: `vendor_ids`, `date`); nothing was changed. Or `invalid_transition`."
)


def lines_prefetch() -> Prefetch:
    """Every line with its vendor, in creation order: all the serializer and the derived
    totals read, in one query for the whole page."""
    return Prefetch(
        "vendors",
        queryset=BookingVendor.objects.select_related("vendor").order_by("position", "created_at"),
    )


def read_queryset():
    """Bookings as the API shows one (detail, the answer of every action): only the columns
    the representation reads (`bookings.rows`), the lines and vendor names in one prefetch. A
    column missing there would cost a query per row: bookings/tests/test_queries.py pins them."""
    lines = (
        BookingVendor.objects.select_related("vendor")
        .only(*rows.LINE_COLUMNS, "vendor__id", "vendor__business_name")
        .order_by("position", "created_at")
    )
    return Booking.objects.only(*rows.BOOKING_COLUMNS).prefetch_related(
        Prefetch("vendors", queryset=lines)
    )


def _transition(summary: str, request=None, responses=None, parameters=()):
    return extend_schema(
        summary=summary,
        request=request,
        responses=responses or {200: s.BookingSerializer},
        parameters=list(parameters),
        tags=TAGS,
    )


@extend_schema_view(
    list=extend_schema(
        summary="Bookings of the caller (organizer: own; vendor: those it is on; admin: all)",
        tags=TAGS,
    ),
    retrieve=extend_schema(summary="One booking", tags=TAGS),
)
class BookingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.BookingSerializer
    filterset_class = BookingFilter
    lookup_value_regex = UUID_RE
    permission_classes = [IsAuthenticated]

    def get_permissions(self):
        if self.action in ("create", "submit"):
            return [IsOrganizer(), HasActiveSubscription()]
        return [IsAuthenticated()]

    @cached_property
    def caller_vendor(self) -> Vendor | None:
        user = self.request.user
        if not (user.is_authenticated and user.is_vendor):
            return None
        return Vendor.objects.filter(user=user).first()

    def list(self, request, *args, **kwargs):
        """The page from `values()` rows (`bookings.rows`), not model instances: same JSON.
        `lean.switch.stock` (tests only) takes DRF's path, the reference it is compared with."""
        if lean.switch.stock:
            return super().list(request, *args, **kwargs)
        queryset = self.filter_queryset(self.scoped(Booking.objects.all()))
        page = self.paginate_queryset(queryset.values(*rows.BOOKING_COLUMNS))
        serializer = self.get_serializer(rows.booking_rows(page), many=True)
        return self.get_paginated_response(serializer.data)

    def get_queryset(self):
        if self.action in ("list", "retrieve"):
            return self.scoped(read_queryset())
        return self.scoped(Booking.objects.prefetch_related(lines_prefetch()))

    def scoped(self, queryset):
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        user = self.request.user
        if staff_can(user, "booking.view"):
            return queryset
        if user.is_organizer:
            return queryset.filter(organizer=user)
        vendor = self.caller_vendor
        if vendor is None:
            return queryset.none()
        # Vendors see requests once submitted, never an organizer's unsent draft.
        on_booking = BookingVendor.objects.filter(booking=OuterRef("pk"), vendor=vendor)
        return queryset.filter(Exists(on_booking)).exclude(Booking.UNSENT_TO_VENDORS)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        vendor = self.caller_vendor if self.request is not None else None
        context["caller_vendor_id"] = vendor.pk if vendor is not None else None
        return context

    # --- helpers -------------------------------------------------------------------------------

    def _booking_response(self, pk, *, status_code=status.HTTP_200_OK) -> Response:
        booking = self.scoped(read_queryset()).get(pk=pk)
        return Response(self.get_serializer(booking).data, status=status_code)

    def _organizer_booking(self) -> Booking:
        """The booking (scoped, else 404), which the caller must organize (else 403)."""
        booking = self.get_object()
        if booking.organizer_id != self.request.user.pk:
            raise DomainPermissionDenied("Only the booking's organizer can do this.")
        return booking

    @staticmethod
    def _line(booking: Booking, bv_id) -> BookingVendor:
        line = next((ln for ln in booking.vendors.all() if str(ln.pk) == str(bv_id).lower()), None)
        if line is None:
            raise NotFound()
        return line

    def _own_line(self, bv_id) -> BookingVendor:
        """The line (scoped booking, else 404) of the calling vendor (else 403), which must be
        approved (else 403 vendor_not_approved)."""
        line = self._line(self.get_object(), bv_id)
        line.check_answerer(self.request.user)
        return line

    # --- booking ------------------------------------------------------------------------------

    @extend_schema(
        summary="Create a booking request (draft)",
        request=s.BookingCreateSerializer,
        responses={201: s.BookingSerializer, 409: UNAVAILABLE},
        tags=TAGS,
    )
    def create(self, request):
        serializer = s.BookingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        booking_id = uuid.uuid4()
        screen_booking_text(
            user=request.user,
            text=data["notes"],
            field="notes",
            context_type="booking_note",
            context_id=booking_id,
        )
        booking = Booking.create_request(
            pk=booking_id,
            organizer=request.user,
            title=data["title"],
            event_date=data["event_date"],
            guest_count=data["guest_count"],
            notes=data["notes"],
            template=data["template"],
            lines=data["lines"],
        )
        return self._booking_response(booking.pk, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit a draft booking (title, event_date, guest_count, notes)",
        request=s.BookingUpdateSerializer,
        responses={200: s.BookingSerializer, 409: UNAVAILABLE},
        tags=TAGS,
    )
    def partial_update(self, request, pk=None):
        booking = self._organizer_booking()
        booking.check_editable()  # before screening the notes; re-checked under the lock
        serializer = s.BookingUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        if "notes" in changes:
            screen_booking_text(
                user=request.user,
                text=changes["notes"],
                field="notes",
                context_type="booking_note",
                context_id=booking.pk,
            )
        booking.update_details(actor=request.user, **changes)
        return self._booking_response(booking.pk)

    @_transition(
        "Submit to the vendors: draft → awaiting_vendor_approval",
        responses={200: s.BookingSerializer, 409: UNAVAILABLE},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        booking = self._organizer_booking()
        booking.submit(actor=request.user)
        return self._booking_response(booking.pk)

    @_transition(
        "Cancel (organizer, before the event starts) → canceled; a paid booking is refunded by "
        "the cancellation policy",
        request=s.CancelSerializer,
        responses={
            200: s.BookingSerializer,
            409: OpenApiResponse(description="invalid_transition"),
            502: OpenApiResponse(
                description="payment_provider_error: the booking is canceled but a refund "
                "failed at Stripe; it is kept failed for staff to retry (details.refund_ids)"
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        booking = self._organizer_booking()
        serializer = s.CancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        money.cancel_booking(
            booking, actor=request.user, reason=serializer.validated_data["reason"]
        )
        return self._booking_response(booking.pk)

    @_transition(
        "Start the event: paid → in_progress",
        responses={
            200: s.BookingSerializer,
            409: OpenApiResponse(description="balance_due / invalid_transition"),
        },
    )
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        booking = self._organizer_booking()
        booking.start(actor=request.user)
        return self._booking_response(booking.pk)

    @_transition("Complete the event: in_progress → completed")
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        booking = self._organizer_booking()
        money.complete_booking(booking, actor=request.user)
        return self._booking_response(booking.pk)

    # --- lines: organizer ----------------------------------------------------------------------

    @_transition(
        "Add a vendor (before payment); a ready booking goes back to awaiting",
        request=s.AddVendorSerializer,
        responses={201: s.BookingVendorSerializer, 409: UNAVAILABLE},
    )
    @action(detail=True, methods=["post"], url_path="vendors")
    def add_vendor(self, request, pk=None):
        booking = self._organizer_booking()
        serializer = s.AddVendorSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        line = money.add_vendor(
            booking,
            actor=request.user,
            vendor=serializer.validated_data["vendor"],
            proposed_price_cents=serializer.validated_data["proposed_price_cents"],
        )
        line = BookingVendor.objects.select_related("vendor").get(pk=line.pk)
        return Response(s.BookingVendorSerializer(line).data, status=status.HTTP_201_CREATED)

    @_transition(
        "Remove a vendor line (before payment)", responses={204: None}, parameters=[LINE_ID]
    )
    @action(detail=True, methods=["delete"], url_path=LINE_PATH)
    def remove_vendor(self, request, pk=None, bv_id=None):
        booking = self._organizer_booking()
        money.remove_vendor(booking, actor=request.user, line=self._line(booking, bv_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @_transition(
        "Accept a counter-offer: countered → approved (takes a unit of the vendor's capacity)",
        responses={200: s.BookingSerializer, 409: UNAVAILABLE},
        parameters=[LINE_ID],
    )
    @action(detail=True, methods=["post"], url_path=f"{LINE_PATH}/accept-counter")
    def accept_counter(self, request, pk=None, bv_id=None):
        booking = self._organizer_booking()
        booking.accept_counter(actor=request.user, line=self._line(booking, bv_id))
        return self._booking_response(booking.pk)

    # --- lines: that vendor --------------------------------------------------------------------

    @_transition(
        "Approve my line: pending → approved (takes a unit of my capacity on the event date)",
        responses={200: s.BookingSerializer, 409: UNAVAILABLE},
        parameters=[LINE_ID],
    )
    @action(detail=True, methods=["post"], url_path=f"{LINE_PATH}/approve")
    def approve(self, request, pk=None, bv_id=None):
        line = self._own_line(bv_id)
        line.approve(actor=request.user)
        return self._booking_response(line.booking_id)

    @_transition("Decline my line → declined", request=s.DeclineSerializer, parameters=[LINE_ID])
    @action(detail=True, methods=["post"], url_path=f"{LINE_PATH}/decline")
    def decline(self, request, pk=None, bv_id=None):
        line = self._own_line(bv_id)
        serializer = s.DeclineSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data["reason"]
        screen_booking_text(
            user=request.user,
            text=reason,
            field="reason",
            context_type="counter_note",
            context_id=line.pk,
        )
        line.decline(actor=request.user, reason=reason)
        return self._booking_response(line.booking_id)

    @_transition(
        "Counter my line with another price → countered",
        request=s.CounterSerializer,
        parameters=[LINE_ID],
    )
    @action(detail=True, methods=["post"], url_path=f"{LINE_PATH}/counter")
    def counter(self, request, pk=None, bv_id=None):
        line = self._own_line(bv_id)
        serializer = s.CounterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        screen_booking_text(
            user=request.user,
            text=data["note"],
            field="note",
            context_type="counter_note",
            context_id=line.pk,
        )
        line.counter(actor=request.user, price_cents=data["price_cents"], note=data["note"])
        return self._booking_response(line.booking_id)
