"""The development mailbox: messages are kept in the database and echoed to the terminal.

A newcomer reads them at /dev/mailbox/ (development only) or in the `make run` output,
with nothing else installed. Setting EMAIL_URL sends to a real SMTP server instead.
"""

from __future__ import annotations

import base64
import sys

from django.core.mail.backends.base import BaseEmailBackend

MAX_KEPT_ATTACHMENT_BYTES = 2 * 1024 * 1024


def _stored_content(content) -> dict:
    raw = content.encode() if isinstance(content, str) else bytes(content)
    if len(raw) > MAX_KEPT_ATTACHMENT_BYTES:
        return {}
    return {"content": base64.b64encode(raw).decode("ascii")}


class DevMailboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        from bookdesk.notifications.models import DevMessage

        sent = 0
        for message in email_messages:
            html = ""
            for content, mimetype in getattr(message, "alternatives", []) or []:
                if mimetype == "text/html":
                    html = content
            attachments = []
            for attachment in message.attachments:
                if isinstance(attachment, tuple):
                    attachments.append(
                        {
                            "filename": attachment[0],
                            "mimetype": attachment[2],
                            # Kept so the mailbox page can offer it (an .ics, say) for download.
                            **_stored_content(attachment[1]),
                        }
                    )
                else:
                    attachments.append(
                        {
                            "filename": attachment.get_filename() or "attachment",
                            "mimetype": attachment.get_content_type(),
                        }
                    )
            DevMessage.objects.create(
                subject=message.subject,
                from_email=message.from_email,
                to=", ".join(message.to),
                body=message.body,
                html=html,
                attachments=attachments,
            )
            sys.stdout.write(
                f"\n--- dev mailbox: to {', '.join(message.to)} ---\n"
                f"Subject: {message.subject}\n\n{message.body}\n--- end ---\n"
            )
            sys.stdout.flush()
            sent += 1
        return sent
