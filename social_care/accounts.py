"""Configured platform accounts: their database rows and the connectors that talk for them."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import select

from connectors import OPTION_TYPES, SECRET_NAMES, Connector, build_connector
from social_care import models as m
from social_care.config import Account as AccountConfig
from social_care.config import Config, ConfigError
from social_care.db import session_scope

# The sandbox checks only that a credential is present, like the real APIs' shape without their auth.
SANDBOX_SECRET = "sandbox-token"


def sync_accounts(engine: Engine, config: Config) -> dict[str, int]:
    """Make sure every configured account has a row; returns name -> id."""
    ids: dict[str, int] = {}
    with session_scope(engine) as session:
        for account in config.settings.accounts:
            row = session.exec(select(m.Account).where(m.Account.name == account.name)).first()
            if row is None:
                row = m.Account(name=account.name, platform=account.platform)
            elif row.platform != account.platform:
                raise ConfigError(
                    f"account {account.name!r} is stored as {row.platform} but configured as {account.platform}; "
                    "give the new account another name"
                )
            options = OPTION_TYPES[account.platform](**account.options)
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


def _options_for(config: Config, account: AccountConfig) -> object:
    option_type = OPTION_TYPES[account.platform]
    values = dict(account.options)
    fields = option_type.__dataclass_fields__
    brand = config.brand
    # Brand-wide settings fill what the account does not set itself.
    if "handle" in fields and "handle" not in values and brand.handles.get(account.platform):
        values["handle"] = brand.handles[account.platform]
    if "keywords" in fields and "keywords" not in values:
        values["keywords"] = list(brand.keywords)
    if "hashtags" in fields and "hashtags" not in values:
        values["hashtags"] = list(brand.hashtags)
    return option_type(**values)


def build_account_connector(config: Config, account: AccountConfig) -> Connector:
    secrets = dict(account.secrets)
    base_url = account.base_url or None
    if account.sandbox:
        sandbox = config.settings.sandbox
        base_url = base_url or f"http://{sandbox.host}:{sandbox.port}"
        for name in SECRET_NAMES[account.platform]:
            secrets.setdefault(name, SANDBOX_SECRET)
    return build_connector(account.platform, options=_options_for(config, account), secrets=secrets, base_url=base_url)


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
