from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "bookdesk.ops"
    label = "ops"
