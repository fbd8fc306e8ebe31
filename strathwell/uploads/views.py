from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from strathwell.api.throttling import PresignRateThrottle, UserRateThrottle
from strathwell.uploads import services
from strathwell.uploads.serializers import (
    PresignRequestSerializer,
    PresignResponseSerializer,
    UploadSerializer,
)


class PresignView(APIView):
    """Issue a URL to upload one file straight to storage under a server-chosen key."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [UserRateThrottle, PresignRateThrottle]

    @extend_schema(
        request=PresignRequestSerializer,
        responses={
            201: PresignResponseSerializer,
            409: OpenApiResponse(
                description="upload_quota_exceeded: too many uploads waiting for their bytes "
                "(UPLOAD_MAX_PENDING_PER_USER) or too many bytes (UPLOAD_QUOTA_BYTES_PER_USER)"
            ),
        },
        tags=["uploads"],
        description="Throttled per user (THROTTLE_PRESIGN_RATE). The upload must be attached "
        "to a record (e.g. a vendor's photo_keys) within UPLOAD_STALE_HOURS or it is deleted.",
    )
    def post(self, request):
        serializer = PresignRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        body = services.presign_upload(
            owner=request.user, request=request, **serializer.validated_data
        )
        return Response(body, status=status.HTTP_201_CREATED)


class LocalUploadView(APIView):
    """The local provider's receiving end: the signed URL is the credential (no bearer)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = []  # the body is the file, read raw and bounded

    @extend_schema(
        operation_id="uploads_local_put",
        request={"application/octet-stream": OpenApiTypes.BINARY},
        parameters=[
            OpenApiParameter("expires", OpenApiTypes.INT, OpenApiParameter.QUERY, required=True),
            OpenApiParameter("signature", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True),
        ],
        responses={201: UploadSerializer, 200: UploadSerializer},
        tags=["uploads"],
        description="Upload the bytes to the URL answered by `POST /uploads/presign` "
        "(STORAGE_PROVIDER=local), with the declared Content-Type and at most the declared size. "
        "The bytes must be a file of that type (checked by content, images must open); stored "
        "files are never served back by this server.",
    )
    def put(self, request, key):
        if settings.STORAGE_PROVIDER != "local":
            raise NotFound()
        upload, created = services.receive_local_upload(
            key=key,
            expires=request.query_params.get("expires"),
            signature=request.query_params.get("signature"),
            content_type=request.META.get("CONTENT_TYPE"),
            content_length=request.META.get("CONTENT_LENGTH"),
            stream=request._request,
        )
        return Response(
            UploadSerializer(upload).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
