from django.urls import path

from bookdesk.notifications import views

app_name = "notifications"
urlpatterns = [
    path("dev/mailbox/", views.dev_mailbox, name="dev_mailbox"),
    path("dev/mailbox/<int:pk>/", views.dev_message, name="dev_message"),
    path("dev/mailbox/<int:pk>/html", views.dev_message_html, name="dev_message_html"),
    path(
        "dev/mailbox/<int:pk>/attachments/<int:index>",
        views.dev_message_attachment,
        name="dev_message_attachment",
    ),
]
