from django.apps import AppConfig


class AttachmentsConfig(AppConfig):
    name = "bookdesk.attachments"
    label = "attachments"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from bookdesk.attachments.models import Attachment
        from bookdesk.attachments.signals import remove_file_after_delete

        # Rows also go when their booking is deleted (cascade), not only through
        # attachment_delete; either way the file follows once the deletion is committed.
        post_delete.connect(remove_file_after_delete, sender=Attachment, dispatch_uid="att-file")
