from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "fangpin.accounts"
    verbose_name = "账号与权限"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        # Django writes last_login on every login: a database write that waits behind an import's
        # transaction on SQLite. The audit log's login entry records the same (audit.spool: never waits).
        user_logged_in.disconnect(dispatch_uid="update_last_login")
