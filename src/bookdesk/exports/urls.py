from django.urls import path

from bookdesk.exports import views

app_name = "exports"
urlpatterns = [
    path("", views.exports_page, name="page"),
    path("jobs/<int:pk>/download", views.job_download, name="job_download"),
    path("feeds/new", views.feed_create, name="feed_create"),
    path("feeds/<int:pk>/revoke", views.feed_revoke, name="feed_revoke"),
    path("feeds/<str:token>.ics", views.feed, name="feed"),
]
