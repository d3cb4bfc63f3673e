from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    name = "bookdesk.resources"
    label = "resources"
