"""Admin overview, admin lists and actions across apps, and ops endpoints. Thin views: the
work is in `services.py` (overview, health), `demo.py` (seed) and the models' methods."""

import django_filters
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from backoffice import demo, services
from backoffice import serializers as s
from bookings.models import Booking, BookingVendor
from bookings.serializers import BookingSerializer
from bookings.views import lines_prefetch, read_queryset
from payments import services as money
from payments.models import Payment
from payments.serializers import PaymentSerializer, RefundRequestSerializer, RefundSerializer
from strathwell.api.filters import UTCIsoDateTimeFilter
from strathwell.api.permissions import IsAdmin, require_confirmation
from strathwell.api.schema import CONFIRM_HEADER, ErrorEnvelopeSerializer
from strathwell.audit.models import AuditLog
from strathwell.audit.services import log_admin_action

UUID_RE = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class AdminOverviewView(APIView):
    permission_classes = [IsAdmin]
    staff_operations = {"get": "overview.view"}

    @extend_schema(responses={200: s.AdminOverviewSerializer}, tags=["admin"])
    def get(self, request):
        """Counts by status and ledger money totals (a constant number of aggregate queries)."""
        return Response(services.overview())


# --- bookings ---------------------------------------------------------------------------------


class AdminBookingFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Booking.Status.choices)
    organizer_id = django_filters.UUIDFilter(field_name="organizer_id")
    vendor_id = django_filters.UUIDFilter(method="filter_vendor_id")
    event_date_from = django_filters.DateFilter(field_name="event_date", lookup_expr="gte")
    event_date_to = django_filters.DateFilter(field_name="event_date", lookup_expr="lte")

    class Meta:
        model = Booking
        fields = ["status", "organizer_id", "vendor_id", "event_date_from", "event_date_to"]

    def filter_vendor_id(self, queryset, name, value):
        lines = BookingVendor.objects.filter(booking=OuterRef("pk"), vendor_id=value)
        return queryset.filter(Exists(lines))


def _booking_action(summary):
    return extend_schema(
        summary=summary,
        request=s.AdminReasonSerializer,
        parameters=[CONFIRM_HEADER],
        responses={200: BookingSerializer},
        tags=["admin", "bookings"],
    )


@extend_schema_view(
    list=extend_schema(summary="Every booking (admin)", tags=["admin", "bookings"]),
    retrieve=extend_schema(summary="One booking (admin)", tags=["admin", "bookings"]),
)
class AdminBookingViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Staff view of every booking, and the two staff transitions (confirmed, with a reason,
    audited through the booking's own transition signal)."""

    permission_classes = [IsAdmin]
    staff_operations = {
        "list": "booking.view",
        "retrieve": "booking.view",
        "cancel": "booking.cancel",
        "force_complete": "booking.force_complete",
    }
    serializer_class = BookingSerializer
    filterset_class = AdminBookingFilter
    lookup_value_regex = UUID_RE

    def get_queryset(self):
        if self.action in ("list", "retrieve"):  # only the columns shown (bookings.rows)
            return read_queryset().order_by("-created_at", "id")
        return Booking.objects.prefetch_related(lines_prefetch()).order_by("-created_at", "id")

    def _transition(self, request, flow) -> Response:
        require_confirmation(request)
        serializer = s.AdminReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking = self.get_object()
        flow(booking, actor=request.user, reason=serializer.validated_data["reason"], by_staff=True)
        return Response(self.get_serializer(self.get_queryset().get(pk=booking.pk)).data)

    @_booking_action("Cancel a booking from any non-final state (admin)")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._transition(request, money.cancel_booking)

    @_booking_action("Complete a paid or in-progress booking (admin)")
    @action(detail=True, methods=["post"], url_path="force-complete")
    def force_complete(self, request, pk=None):
        return self._transition(request, money.complete_booking)


# --- payments ---------------------------------------------------------------------------------


class AdminPaymentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Payment.Status.choices)
    booking_id = django_filters.UUIDFilter(field_name="booking_id")
    organizer_id = django_filters.UUIDFilter(field_name="organizer_id")

    class Meta:
        model = Payment
        fields = ["status", "booking_id", "organizer_id"]


@extend_schema_view(
    list=extend_schema(summary="Every payment (admin)", tags=["admin", "payments"]),
    retrieve=extend_schema(summary="One payment (admin)", tags=["admin", "payments"]),
)
class AdminPaymentViewSet(viewsets.ReadOnlyModelViewSet):
    """Every payment, as staff see it: payments' own serializer in its staff mode (never the
    PaymentIntent's client_secret)."""

    permission_classes = [IsAdmin]
    staff_operations = {
        "list": "payment.view",
        "retrieve": "payment.view",
        "refund": "payment.refund",
    }
    serializer_class = PaymentSerializer
    filterset_class = AdminPaymentFilter
    queryset = Payment.objects.order_by("-created_at", "id")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "staff": True}

    @extend_schema(
        summary="Refund a payment through Stripe (admin)",
        request=RefundRequestSerializer,
        parameters=[CONFIRM_HEADER],
        responses={
            201: RefundSerializer,
            400: OpenApiResponse(
                description="validation_error: no reason, or more than refundable"
            ),
            409: OpenApiResponse(description="nothing_to_refund"),
            428: OpenApiResponse(description="confirmation_required"),
            502: OpenApiResponse(
                description="payment_provider_error: Stripe failed; the refund is kept failed "
                "(retry it with POST /admin/refunds/{id}/retry), no payout was touched"
            ),
        },
        tags=["admin", "payments", "refunds"],
    )
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        """Everything refundable by default (what the vendors have not been paid out, with the
        platform fee on that part), or `amount_cents` of it."""
        require_confirmation(request)
        serializer = RefundRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refund = money.refund_payment(
            self.get_object(),
            actor=request.user,
            reason=serializer.validated_data["reason"],
            amount_cents=serializer.validated_data.get("amount_cents"),
        )
        return Response(RefundSerializer(refund).data, status=status.HTTP_201_CREATED)


# --- audit log --------------------------------------------------------------------------------


class AuditLogFilter(django_filters.FilterSet):
    actor_id = django_filters.UUIDFilter(field_name="actor_id")
    actor_email = django_filters.CharFilter(
        field_name="actor_email", help_text="e.g. `system`: what the periodic jobs did."
    )
    action = django_filters.CharFilter(field_name="action")
    target_type = django_filters.CharFilter(field_name="target_type")
    target_id = django_filters.CharFilter(field_name="target_id")
    created_from = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_to = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = AuditLog
        fields = [
            "actor_id",
            "actor_email",
            "action",
            "target_type",
            "target_id",
            "created_from",
            "created_to",
        ]


@extend_schema_view(
    list=extend_schema(summary="The audit trail, newest first (admin)", tags=["admin"]),
    retrieve=extend_schema(summary="One audit row (admin)", tags=["admin"]),
)
class AdminAuditLogViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAdmin]
    staff_operations = {"list": "audit_log.view", "retrieve": "audit_log.view"}
    serializer_class = s.AuditLogSerializer
    filterset_class = AuditLogFilter
    queryset = AuditLog.objects.order_by("-created_at", "-id")


# --- ops --------------------------------------------------------------------------------------


class OpsHealthView(APIView):
    permission_classes = [IsAdmin]
    staff_operations = {"get": "ops.health"}

    @extend_schema(responses={200: s.OpsHealthSerializer}, tags=["ops"])
    def get(self, request):
        """Detailed health: database round trip, unapplied migrations, storage, Stripe, the
        broker, the age of the oldest due-but-unprocessed job, read-only flag and version.
        `status` is `degraded` when any check fails."""
        return Response(services.health_report())


class SeedDemoView(APIView):
    permission_classes = [IsAdmin]
    staff_operations = {"post": "ops.seed_demo"}

    @extend_schema(
        request=None,
        # 404 unless ENABLE_DEMO_OPS=true.
        responses={
            201: s.SeedDemoSerializer,
            200: s.SeedDemoSerializer,
            404: ErrorEnvelopeSerializer,
        },
        tags=["ops"],
    )
    def post(self, request):
        """Create the demo world (idempotent: 201 when something was created, 200 when it
        was all there). 404 unless ENABLE_DEMO_OPS=true."""
        if not settings.ENABLE_DEMO_OPS:
            raise NotFound()
        with transaction.atomic():
            result = demo.seed_world()
            log_admin_action(
                actor=request.user,
                action="ops.seed_demo",
                target=("ops.demo", "seed_demo"),
                before=None,
                after={"created": dict(result.created)},
                reason="Demo data seeded through the API.",
            )
        demo.subscribe_demo_organizers(result)  # Stripe calls: after the commit
        body = {
            "created": dict(result.created),
            "password": demo.DEMO_PASSWORD,
            "logins": result.logins,
        }
        code = status.HTTP_201_CREATED if result.created_anything else status.HTTP_200_OK
        return Response(body, status=code)
