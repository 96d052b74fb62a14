#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    from django.core.management import execute_from_command_line

    from backoffice.env import MissingSetting

    try:
        execute_from_command_line(sys.argv)
    except MissingSetting as exc:
        # An operator's mistake, not a bug: the message, no traceback.
        sys.exit(f"Refusing to start: {exc}")


if __name__ == "__main__":
    main()
