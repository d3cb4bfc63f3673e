from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "bookdesk.api"
    label = "api"
