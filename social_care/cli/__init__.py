"""The `social-care` command: a thin typer layer over :class:`social_care.app.SocialCare`.

User errors (bad config, unreachable database, a forbidden action) print one line and exit 1;
they never show a traceback.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer
from rich.markup import escape

from social_care.cli.app import app
from social_care.cli.common import USER_ERRORS, err_console, state

# Every module of this package registers its commands on `app` when imported.
for _module in pkgutil.iter_modules(__path__):
    if _module.name not in {"app", "common"}:
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["app", "main"]


def main() -> None:
    try:
        app(standalone_mode=False)
    except USER_ERRORS as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code if exc.exit_code != 2 else 1)
        raise
    finally:
        state.close()
