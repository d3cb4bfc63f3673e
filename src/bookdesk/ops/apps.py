from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "bookdesk.ops"
    label = "ops"

    def ready(self):
        from django.core.signals import got_request_exception
        from django.db.backends.signals import connection_created

        from bookdesk.core.dbmetrics import count_request_db_error, install_on_connection

        connection_created.connect(install_on_connection, dispatch_uid="bookdesk-db-metrics")
        got_request_exception.connect(
            count_request_db_error, dispatch_uid="bookdesk-db-request-errors"
        )
