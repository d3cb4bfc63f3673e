from django.urls import path

from bookdesk.notifications import views

app_name = "notifications"
urlpatterns = [
    path("dev/mailbox/", views.dev_mailbox, name="dev_mailbox"),
    path("dev/mailbox/<int:pk>/", views.dev_message, name="dev_message"),
]
