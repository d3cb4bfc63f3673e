from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "bookdesk.exports"
    label = "exports"
