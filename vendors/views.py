import django_filters
from django.db.models import Q
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from strathwell.api.permissions import IsAdmin, IsVendorUser
from vendors import serializers as s
from vendors import services
from vendors.models import Vendor


class DirectoryFilter(django_filters.FilterSet):
    vendor_type = django_filters.ChoiceFilter(choices=Vendor.VendorType.choices)
    city = django_filters.CharFilter(field_name="city", lookup_expr="iexact")
    q = django_filters.CharFilter(method="search", label="Search name and description")

    class Meta:
        model = Vendor
        fields = ["vendor_type", "city", "q"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(business_name__icontains=value) | Q(description__icontains=value))


class AdminVendorFilter(DirectoryFilter):
    verification_status = django_filters.ChoiceFilter(choices=Vendor.VerificationStatus.choices)

    class Meta(DirectoryFilter.Meta):
        fields = ["verification_status", "vendor_type", "city", "q"]


@extend_schema_view(
    list=extend_schema(summary="Approved vendors (the public directory)", tags=["vendors"]),
    retrieve=extend_schema(summary="An approved vendor with its profile", tags=["vendors"]),
)
class VendorDirectoryViewSet(viewsets.ReadOnlyModelViewSet):
    """Approved vendors only, to anyone: an unapproved vendor is indistinguishable from a
    missing one (404)."""

    permission_classes = [AllowAny]
    serializer_class = s.VendorSerializer
    filterset_class = DirectoryFilter
    lookup_value_converter = "uuid"

    def get_queryset(self):
        return Vendor.objects.approved().with_profiles()


class OnboardingView(APIView):
    permission_classes = [IsVendorUser]

    @extend_schema(
        request=s.OnboardingSerializer, responses={201: s.OwnVendorSerializer}, tags=["vendors"]
    )
    def post(self, request):
        serializer = s.OnboardingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        vendor = services.onboard_vendor(user=request.user, data=serializer.validated_data)
        return Response(s.OwnVendorSerializer(vendor).data, status=status.HTTP_201_CREATED)


class VendorMeView(APIView):
    """The calling vendor user's own vendor (404 before onboarding)."""

    permission_classes = [IsVendorUser]

    def get_object(self) -> Vendor:
        vendor = Vendor.objects.with_profiles().filter(user=self.request.user).first()
        if vendor is None:
            raise NotFound("You have not onboarded a vendor yet: POST /vendors/onboarding.")
        return vendor

    @extend_schema(responses={200: s.OwnVendorSerializer}, tags=["vendors"])
    def get(self, request):
        return Response(s.OwnVendorSerializer(self.get_object()).data)

    @extend_schema(
        request=s.VendorUpdateSerializer,
        responses={200: s.OwnVendorSerializer},
        tags=["vendors"],
        description="Edit the own vendor; while `needs_changes` the edit resubmits it "
        "(→ `pending`). `photo_keys` must be keys of the caller's own uploaded images.",
    )
    def patch(self, request):
        vendor = self.get_object()
        serializer = s.VendorUpdateSerializer(
            data=request.data, partial=True, context={"vendor": vendor}
        )
        serializer.is_valid(raise_exception=True)
        vendor = services.update_own_vendor(
            vendor=vendor, actor=request.user, data=serializer.validated_data
        )
        return Response(s.OwnVendorSerializer(vendor).data)


@extend_schema_view(
    list=extend_schema(summary="All vendors (staff)", tags=["admin"]),
    retrieve=extend_schema(summary="A vendor (staff)", tags=["admin"]),
)
class AdminVendorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAdmin]
    staff_operations = {
        "list": "vendor.view",
        "retrieve": "vendor.view",
        "approve": "vendor.approve",
        "needs_changes": "vendor.request_changes",
    }
    serializer_class = s.AdminVendorSerializer
    filterset_class = AdminVendorFilter
    lookup_value_converter = "uuid"

    def get_queryset(self):
        return Vendor.objects.with_profiles().select_related("user").order_by("-created_at", "id")

    def _verify(self, request, serializer_class, method_name: str) -> Response:
        """Validate the notes, call the vendor's transition, answer the vendor re-read."""
        vendor = self.get_object()
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        getattr(vendor, method_name)(actor=request.user, notes=serializer.validated_data["notes"])
        return Response(self.get_serializer(self.get_queryset().get(pk=vendor.pk)).data)

    @extend_schema(
        request=s.ApproveSerializer, responses={200: s.AdminVendorSerializer}, tags=["admin"]
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._verify(request, s.ApproveSerializer, "approve")

    @extend_schema(
        request=s.NeedsChangesSerializer, responses={200: s.AdminVendorSerializer}, tags=["admin"]
    )
    @action(detail=True, methods=["post"], url_path="needs-changes")
    def needs_changes(self, request, pk=None):
        return self._verify(request, s.NeedsChangesSerializer, "request_changes")
