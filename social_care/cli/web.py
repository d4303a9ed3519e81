"""`social-care web`: serve the web inbox (review, approve and send replies) with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from social_care.cli.app import app
from social_care.cli.common import console, state


@app.command()
def web(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default: web.host in config).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (default: web.port in config).")
    ] = None,
    secure_cookies: Annotated[
        bool, typer.Option(help="Mark the session cookie Secure (default: web.secure_cookies in config).")
    ] = False,
) -> None:
    """Serve the web inbox; set SOCIAL_CARE_SESSION_SECRET so logins survive restarts."""
    import uvicorn  # imported here: every other command starts without the web stack

    from social_care.web import create_app

    core = state.core(migrate=True)
    settings = core.config.settings.web
    host, port = host or settings.host, port if port is not None else settings.port
    console.print(f"web inbox on http://{host}:{port}/ (Ctrl-C stops it)", highlight=False)
    uvicorn.run(
        create_app(core, https_only=secure_cookies or settings.secure_cookies),
        host=host,
        port=port,
        log_level=core.config.settings.log_level.lower(),
        proxy_headers=False,
        server_header=False,
    )
