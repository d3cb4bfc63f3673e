from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "bookdesk.exports"
    label = "exports"

    def ready(self) -> None:
        from bookdesk.core import periodic
        from bookdesk.exports.jobs import export_jobs_periodic

        periodic.register(export_jobs_periodic)
