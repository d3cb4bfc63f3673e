from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "bookdesk.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from bookdesk.accounts.models import User
        from bookdesk.accounts.services import accounts_prune
        from bookdesk.accounts.tokens import revoke_tokens_when_the_password_changes
        from bookdesk.core import periodic

        periodic.register(accounts_prune)
        post_save.connect(
            revoke_tokens_when_the_password_changes,
            sender=User,
            dispatch_uid="accounts.revoke_tokens_on_password_change",
        )
