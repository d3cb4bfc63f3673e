from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "bookdesk.audit"
    label = "audit"
