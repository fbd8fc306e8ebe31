"""Payments API: deposit creation (idempotent), the Stripe webhook, payouts for vendors and
staff, and the staff view of webhook events. Thin: every rule lives in models/services."""

import json
from functools import partial

import django_filters
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings.models import Booking
from payments import deposits, services, tasks, webhooks
from payments import serializers as s
from payments.models import Payment, Payout, Refund, WebhookEvent
from strathwell.api.exceptions import error_body
from strathwell.api.permissions import (
    HasActiveSubscription,
    IsAdmin,
    IsOrganizer,
    IsVendorUser,
    require_confirmation,
    staff_can,
)
from strathwell.api.schema import CONFIRM_HEADER

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="1–255 characters. The same key replays the first response.",
)


def _json_safe(data) -> dict:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _bookings():
    return Booking.objects.all()


# --- payments -------------------------------------------------------------------------------


class BookingPaymentsView(GenericAPIView):
    """`POST /bookings/{id}/payments` creates the deposit; `GET` lists the booking's payments."""

    queryset = Payment.objects.none()
    serializer_class = s.PaymentSerializer
    filter_backends = []

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsOrganizer(), HasActiveSubscription()]
        return [IsOrganizer()]

    def _booking(self, booking_id):
        user = self.request.user
        bookings = _bookings()
        if not (self.request.method == "GET" and staff_can(user, "payment.view")):
            bookings = bookings.filter(organizer=user)
        return get_object_or_404(bookings, pk=booking_id)

    @extend_schema(
        operation_id="bookings_payments_list",
        responses={200: s.PaymentSerializer(many=True)},
        tags=["payments"],
    )
    def get(self, request, booking_id):
        booking = self._booking(booking_id)
        queryset = Payment.objects.filter(booking=booking).order_by("-created_at", "id")
        page = self.paginate_queryset(queryset)
        context = {"staff": request.user.is_admin}
        serializer = s.PaymentSerializer(page, many=True, context=context)
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        operation_id="bookings_payments_create",
        parameters=[IDEMPOTENCY_HEADER],
        request=s.PaymentCreateSerializer,
        responses={
            201: s.PaymentSerializer,
            400: OpenApiResponse(description="validation_error: unknown kind or bad header"),
            409: OpenApiResponse(description="invalid_transition / idempotency_conflict"),
            502: OpenApiResponse(description="payment_provider_error: nothing was kept"),
        },
        tags=["payments"],
    )
    def post(self, request, booking_id):
        booking = self._booking(booking_id)
        key = deposits.validate_idempotency_key(request.headers.get("Idempotency-Key"))
        body = request.data if isinstance(request.data, dict) else {"_": request.data}
        kind_input = s.PaymentCreateSerializer(data=body)
        kind_input.is_valid(raise_exception=True)
        result = deposits.create_deposit_payment(
            booking=booking,
            user=request.user,
            idempotency_key=key,
            body=body,
            kind=kind_input.validated_data["kind"],
            serialize=lambda payment: _json_safe(s.PaymentSerializer(payment).data),
        )
        headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
        return Response(result.body, status=result.status, headers=headers)


class BookingRefundsView(GenericAPIView):
    """`GET /bookings/{id}/refunds`: the booking's refunds (its organizer, staff)."""

    queryset = Refund.objects.none()
    serializer_class = s.RefundSerializer
    permission_classes = [IsOrganizer]
    filter_backends = []

    @extend_schema(
        operation_id="bookings_refunds_list",
        responses={200: s.RefundSerializer(many=True)},
        tags=["payments"],
    )
    def get(self, request, booking_id):
        bookings = _bookings()
        if not request.user.is_admin:
            bookings = bookings.filter(organizer=request.user)
        booking = get_object_or_404(bookings, pk=booking_id)
        queryset = Refund.objects.filter(booking=booking).order_by("-created_at", "id")
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.RefundSerializer(page, many=True).data)


class PaymentDetailView(APIView):
    """`GET /payments/{id}`: the booking's organizer (with client_secret) or staff (without)."""

    permission_classes = [IsOrganizer]

    @extend_schema(responses={200: s.PaymentSerializer}, tags=["payments"])
    def get(self, request, pk):
        payments = Payment.objects.all()
        if not staff_can(request.user, "payment.view"):
            payments = payments.filter(booking__organizer=request.user)
        payment = get_object_or_404(payments, pk=pk)
        context = {"staff": request.user.is_admin}
        return Response(s.PaymentSerializer(payment, context=context).data)


class StripeWebhookView(APIView):
    """Stripe → us. Authenticated by the signature only; never throttled (Stripe retries)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter(
                "Stripe-Signature", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True
            )
        ],
        responses={
            200: s.WebhookAckSerializer,
            400: OpenApiResponse(
                description="invalid_signature / invalid_payload / livemode_mismatch (recorded)"
            ),
            500: OpenApiResponse(description="processing failed; Stripe retries"),
        },
        tags=["payments"],
        auth=[],
    )
    def post(self, request):
        data = webhooks.verify(request.body, request.headers.get("Stripe-Signature"))
        event, _created = webhooks.record_event(data)
        webhooks.refuse_other_mode(event)
        if webhooks.processing_is_async():
            # Acknowledged now; the worker processes it (the retry job if the task is lost).
            duplicate = event.outcome in webhooks.FINAL_OUTCOMES
            if not duplicate:
                transaction.on_commit(
                    partial(tasks.process_webhook_event.delay, event.pk), robust=True
                )
            return Response(
                {
                    "received": True,
                    "event_id": event.stripe_event_id,
                    "outcome": event.outcome,
                    "duplicate": duplicate,
                }
            )
        result = webhooks.process_event(event.pk)
        if result.failed:
            return Response(
                error_body(
                    "server_error",
                    "The event could not be processed; it is recorded and will be retried.",
                    {"event_id": event.stripe_event_id},
                ),
                status=status.HTTP_500_INTERNAL_SERVER_ERROR,
            )
        return Response(
            {
                "received": True,
                "event_id": result.event.stripe_event_id,
                "outcome": result.event.outcome,
                "duplicate": result.duplicate,
            }
        )


# --- payouts --------------------------------------------------------------------------------


class PayoutFilter(django_filters.FilterSet):
    """Ids filter by value (a UUIDFilter, not a ModelChoiceFilter): an id that matches nothing
    answers an empty page, not a 400."""

    status = django_filters.ChoiceFilter(choices=Payout.Status.choices)
    kind = django_filters.ChoiceFilter(choices=Payout.Kind.choices)
    vendor_id = django_filters.UUIDFilter(field_name="vendor_id")
    booking_id = django_filters.UUIDFilter(field_name="booking_id")
    payment_id = django_filters.UUIDFilter(field_name="payment_id")

    class Meta:
        model = Payout
        fields = ["status", "kind", "vendor_id", "booking_id", "payment_id"]


class VendorPayoutViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """A vendor's own payouts; it may request its reservation payouts."""

    serializer_class = s.PayoutSerializer
    permission_classes = [IsVendorUser]
    filterset_class = PayoutFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Payout.objects.none()
        return Payout.objects.filter(vendor__user=self.request.user).order_by("-created_at", "id")

    @extend_schema(request=None, responses={200: s.PayoutSerializer}, tags=["payouts"])
    @action(detail=True, methods=["post"], url_path="request")
    def request_payout(self, request, pk=None):
        payout = self.get_object().request(actor=request.user)
        return Response(s.PayoutSerializer(payout).data)


class AdminPayoutViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Staff control of payouts. approve/reverse/release need `X-Confirm-Action: true`; every
    action is audited (actor, reason, before/after)."""

    serializer_class = s.PayoutSerializer
    permission_classes = [IsAdmin]
    staff_operations = {
        "list": "payout.view",
        "retrieve": "payout.view",
        "approve": "payout.approve",
        "hold": "payout.hold",
        "reverse": "payout.reverse",
        "release": "payout.release",
        "refund": "payout.refund",
    }
    queryset = Payout.objects.order_by("-created_at", "id")
    filterset_class = PayoutFilter

    def _reason(self, request, *, required: bool) -> str:
        serializer_class = s.ReasonSerializer if required else s.OptionalReasonSerializer
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data.get("reason", "")

    @extend_schema(
        request=s.OptionalReasonSerializer,
        parameters=[CONFIRM_HEADER],
        responses={200: s.PayoutSerializer},
        tags=["payouts"],
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        require_confirmation(request)
        reason = self._reason(request, required=False)
        payout = self.get_object().approve(actor=request.user, reason=reason)
        return Response(s.PayoutSerializer(payout).data)

    @extend_schema(
        request=s.ReasonSerializer, responses={200: s.PayoutSerializer}, tags=["payouts"]
    )
    @action(detail=True, methods=["post"])
    def hold(self, request, pk=None):
        reason = self._reason(request, required=True)
        payout = self.get_object().hold(actor=request.user, reason=reason)
        return Response(s.PayoutSerializer(payout).data)

    @extend_schema(
        request=s.ReasonSerializer,
        parameters=[CONFIRM_HEADER],
        responses={200: s.PayoutSerializer},
        tags=["payouts"],
    )
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        require_confirmation(request)
        reason = self._reason(request, required=True)
        payout = self.get_object().reverse(actor=request.user, reason=reason)
        return Response(s.PayoutSerializer(payout).data)

    @extend_schema(
        request=s.ReasonSerializer,
        parameters=[CONFIRM_HEADER],
        responses={
            201: s.RefundSerializer,
            409: OpenApiResponse(description="nothing_to_refund: the payout is paid or reversed"),
            502: OpenApiResponse(description="payment_provider_error: the refund is failed"),
        },
        tags=["payouts", "refunds"],
    )
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        """Refund this unpaid payout (and the fee on it) to the organizer: how staff settle an
        `adjusted` dispute payout by payout."""
        require_confirmation(request)
        reason = self._reason(request, required=True)
        refund = services.refund_payout(self.get_object(), actor=request.user, reason=reason)
        return Response(s.RefundSerializer(refund).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.ReasonSerializer,
        parameters=[CONFIRM_HEADER],
        responses={200: s.PayoutSerializer},
        tags=["payouts"],
    )
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        require_confirmation(request)
        reason = self._reason(request, required=True)
        payout = self.get_object().release(actor=request.user, reason=reason)
        return Response(s.PayoutSerializer(payout).data)


class AdminRefundViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every refund (filter `status`, `origin`, `booking_id`, `payment_id`); a failed one can be
    retried (`X-Confirm-Action: true`)."""

    serializer_class = s.RefundSerializer
    permission_classes = [IsAdmin]
    staff_operations = {"list": "refund.view", "retrieve": "refund.view", "retry": "refund.retry"}
    queryset = Refund.objects.order_by("-created_at", "id")
    filterset_fields = ["status", "origin", "booking_id", "payment_id"]

    @extend_schema(
        request=None,
        parameters=[CONFIRM_HEADER],
        responses={
            200: s.RefundSerializer,
            409: OpenApiResponse(description="nothing_to_refund: its payouts were paid since"),
            502: OpenApiResponse(description="payment_provider_error: still failed"),
        },
        tags=["refunds"],
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        require_confirmation(request)
        refund = services.retry_refund(self.get_object(), actor=request.user)
        return Response(s.RefundSerializer(refund).data)


class AdminWebhookEventViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Every recorded Stripe event, so staff see mismatches and failures (filter `outcome`)."""

    serializer_class = s.WebhookEventSerializer
    permission_classes = [IsAdmin]
    staff_operations = {"list": "webhook_event.view", "retrieve": "webhook_event.view"}
    queryset = WebhookEvent.objects.order_by("-received_at", "-id")
    filterset_fields = ["outcome", "type", "stripe_event_id"]
