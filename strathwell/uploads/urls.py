from django.urls import path, re_path

from strathwell.uploads import views
from strathwell.uploads.services import KEY_PATTERN

urlpatterns = [
    path("uploads/presign", views.PresignView.as_view(), name="uploads-presign"),
    # Only keys of the shape the server hands out: anything else (NUL bytes, `..`, odd
    # characters) is a 404 before any view or storage code sees it.
    re_path(
        rf"^uploads/local/(?P<key>{KEY_PATTERN})$",
        views.LocalUploadView.as_view(),
        name="uploads-local",
    ),
]
