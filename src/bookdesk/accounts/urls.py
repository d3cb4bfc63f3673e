from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from bookdesk.accounts import views
from bookdesk.accounts.forms import QueuedPasswordResetForm

app_name = "accounts"
urlpatterns = [
    path("login/", views.signin, name="login"),
    path("login/code/", views.signin_code, name="login_code"),
    path("logout/", views.signout, name="logout"),
    path("", views.account, name="account"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            form_class=QueuedPasswordResetForm,
            template_name="accounts/password_reset.html",
            success_url=reverse_lazy("accounts:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("accounts:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
