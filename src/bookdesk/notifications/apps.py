from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "bookdesk.notifications"
    label = "notifications"

    def ready(self) -> None:
        from bookdesk.core import periodic
        from bookdesk.notifications.services import outbox_purge_sent

        periodic.register(outbox_purge_sent)
