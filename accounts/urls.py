from django.urls import path

from accounts import views

urlpatterns = [
    path("auth/signup", views.SignupView.as_view(), name="auth-signup"),
    path("auth/login", views.LoginView.as_view(), name="auth-login"),
    path("auth/refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/me", views.MeView.as_view(), name="auth-me"),
    path("auth/password", views.PasswordChangeView.as_view(), name="auth-password"),
    path("auth/admin-bootstrap", views.AdminBootstrapView.as_view(), name="auth-admin-bootstrap"),
    path("subscription", views.SubscriptionView.as_view(), name="subscription"),
    path("subscription/start", views.SubscriptionStartView.as_view(), name="subscription-start"),
    path("subscription/cancel", views.SubscriptionCancelView.as_view(), name="subscription-cancel"),
]
