from django.apps import AppConfig


class AttachmentsConfig(AppConfig):
    name = "bookdesk.attachments"
    label = "attachments"
