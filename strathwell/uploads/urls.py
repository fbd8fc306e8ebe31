from django.urls import path

from strathwell.uploads import views

urlpatterns = [
    path("uploads/presign", views.PresignView.as_view(), name="uploads-presign"),
    path("uploads/local/<path:key>", views.LocalUploadView.as_view(), name="uploads-local"),
]
