from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "bookdesk.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from bookdesk.accounts.services import accounts_prune
        from bookdesk.core import periodic

        periodic.register(accounts_prune)
