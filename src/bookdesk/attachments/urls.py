from django.urls import path

from bookdesk.attachments import views

app_name = "attachments"
urlpatterns = [
    path("booking/<int:booking_id>/upload", views.upload, name="upload"),
    path("<int:pk>/download", views.download, name="download"),
    path("<int:pk>/delete", views.delete, name="delete"),
]
