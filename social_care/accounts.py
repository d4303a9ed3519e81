"""Configured platform accounts: their database rows and the connectors that talk for them."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import select

from connectors import Connector, build_connector
from social_care import models as m
from social_care.config import Account as AccountConfig
from social_care.config import Config, ConfigError, account_options
from social_care.db import insert_ignore, session_scope


def sync_accounts(engine: Engine, config: Config) -> dict[str, int]:
    """Make sure every configured account has a row; returns name -> id."""
    ids: dict[str, int] = {}
    with session_scope(engine) as session:
        # Daemons starting together on a fresh database insert the same rows: the first wins, none fails.
        insert_ignore(session, m.Account.__table__,  # type: ignore[arg-type]
                      [{"name": a.name, "platform": a.platform, "status": m.AccountStatus.OK.value,
                        "consecutive_failures": 0, "created_at": m.utcnow()} for a in config.settings.accounts],
                      ("name",))
        for account in config.settings.accounts:
            row = session.exec(select(m.Account).where(m.Account.name == account.name)).one()
            if row.platform != account.platform:
                raise ConfigError(
                    f"account {account.name!r} is stored as {row.platform} but configured as {account.platform}; "
                    "give the new account another name"
                )
            options = account_options(config.brand, account)
            row.handle = getattr(options, "handle", None) or config.brand.handles.get(account.platform)
            row.external_id = next(
                (str(getattr(options, f)) for f in ("user_id", "page_id", "ig_user_id") if getattr(options, f, None)),
                row.external_id,
            )
            session.add(row)
            session.flush()
            assert row.id is not None
            ids[account.name] = row.id
    return ids


def build_account_connector(config: Config, account: AccountConfig) -> Connector:
    secrets = dict(account.secrets)
    base_url = account.base_url or None
    if account.sandbox:
        sandbox = config.settings.sandbox
        base_url = base_url or f"http://{sandbox.host}:{sandbox.port}"
        from social_care.sandbox import sandbox_secrets

        for name, value in sandbox_secrets()[account.platform].items():
            secrets.setdefault(name, value)
    return build_connector(account.platform, options=account_options(config.brand, account), secrets=secrets, base_url=base_url)


def connector_resolver(engine: Engine, config: Config) -> Callable[[int | None], Connector]:
    """account id -> its connector (built once per process)."""
    by_id: dict[int, Connector] = {}
    names = sync_accounts(engine, config)
    id_to_name = {v: k for k, v in names.items()}

    def resolve(account_id: int | None) -> Connector:
        if account_id is None or account_id not in id_to_name:
            raise ConfigError(f"account id {account_id} is not in the configuration any more")
        if account_id not in by_id:
            by_id[account_id] = build_account_connector(config, config.account(id_to_name[account_id]))
        return by_id[account_id]

    return resolve
