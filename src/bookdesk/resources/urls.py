from django.urls import path

from bookdesk.resources import views

app_name = "resources"
urlpatterns = [
    path("", views.resource_list, name="list"),
    path("new/", views.resource_new, name="new"),
    path("<int:pk>/", views.resource_edit, name="edit"),
    path("<int:pk>/blackouts/", views.blackouts, name="resource_blackouts"),
    path("blackouts/", views.blackouts, name="blackouts"),
    path("blackouts/<int:pk>/delete", views.blackout_delete, name="blackout_delete"),
]
