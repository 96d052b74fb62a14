import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

# Web requests run under a statement timeout (DATABASE_STATEMENT_TIMEOUT); set before the
# first connection, so every connection of the web process starts with it.
from backoffice.db_timeouts import apply_web_statement_timeout  # noqa: E402

apply_web_statement_timeout()
application = get_wsgi_application()

from backoffice.checks import warn_at_start  # noqa: E402

warn_at_start()  # production: refuse what check --deploy refuses; repeat what was accepted
