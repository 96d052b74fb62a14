import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from api.models import ApiClient
from api.services import api_client_create, api_token_issue
from customer_ops.context import SYSTEM
from customer_ops.errors import DomainError
from customer_ops.scopes import API_SCOPES


class Command(BaseCommand):
    help = (
        "Create an API client (or a new token for an existing one) and print the token once, "
        "alone on the last line. Scopes: " + ", ".join(API_SCOPES)
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="the calling system, e.g. customer-app")
        parser.add_argument("--scope", action="append", default=[], choices=list(API_SCOPES), dest="scopes")
        parser.add_argument("--contact", default="", help="the team or mailbox that runs the system")
        parser.add_argument("--expires-days", type=int, default=None, help="the token expires after N days")

    def handle(self, *args, name, scopes, contact, expires_days, **options):
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days must be 1 or more.")
        client = ApiClient.objects.filter(name=name).first()
        try:
            if client is None:
                if not scopes:
                    raise CommandError("A new client needs at least one --scope.")
                client = api_client_create(name=name, scopes=scopes, contact=contact, actor=SYSTEM)
                self.stdout.write(f"Created API client {client.name} with scopes {', '.join(client.scopes)}.")
            elif scopes and sorted(set(scopes)) != sorted(client.scopes):
                raise CommandError(
                    f"Client {name} exists with scopes {', '.join(client.scopes) or 'none'}; change them in the "
                    "admin. Run without --scope to add a token."
                )
            expires_at = timezone.now() + dt.timedelta(days=expires_days) if expires_days else None
            token, secret = api_token_issue(client=client, expires_at=expires_at, actor=SYSTEM)
        except DomainError as e:
            raise CommandError(e.message) from e
        until = f", expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else ""
        self.stdout.write(f"New token {token.prefix}… for {client.name}{until}. It is shown once, below:")
        self.stdout.write(secret)
