from django.urls import path

from bookdesk.bookings import approval_views, calendar_views, views

app_name = "bookings"
urlpatterns = [
    path("", views.home, name="home"),
    path("calendar/", calendar_views.calendar_page, name="calendar"),
    path("calendar/events", calendar_views.calendar_feed, name="calendar_feed"),
    path("availability/", views.availability_search, name="availability"),
    path("book/", views.booking_new, name="book"),
    path("bookings/", views.my_bookings, name="mine"),
    path("bookings/<int:pk>/", views.booking_detail, name="detail"),
    path("bookings/<int:pk>/cancel", views.booking_cancel, name="cancel"),
    path("bookings/<int:pk>/decide", approval_views.booking_decide, name="decide"),
    path("approvals/", approval_views.inbox, name="inbox"),
]
