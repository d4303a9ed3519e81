"""Configuration: load config.yaml, resolve ${VAR} secrets, reject unknown keys with a suggestion.

Every setting is declared once, in the pydantic models below, with a description. The same
declarations validate the file, feed `social-care init`, and are checked against README.md by a
test, so a key cannot exist without documentation.

Secrets (tokens, app secrets, the web session key) never live in config.yaml itself: fields that
hold them only accept ``${VAR}`` references, which are resolved from the environment or from the
secrets file named by ``secrets_file``.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connectors import OPTION_TYPES, SECRET_NAMES

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default_config.yaml")
PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_ENV = "SOCIAL_CARE_CONFIG"
_VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(Exception):
    """The configuration is invalid; the message names the key and what to do."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PolicyLinks(_Section):
    returns: str = Field("", description="URL of the returns and exchanges policy.")
    delivery: str = Field("", description="URL of the delivery/shipping policy (deadlines, tracking).")
    refunds: str = Field("", description="URL of the refunds policy.")
    privacy: str = Field("", description="URL of the privacy policy (why we move personal data to private channels).")


class PrivateChannel(_Section):
    direct_message: bool = Field(True, description="Offer the platform's direct messages as the private channel.")
    email: str = Field("", description="Support e-mail offered for order numbers and personal data ('' to omit).")
    whatsapp: str = Field("", description="Support WhatsApp number offered as a private channel ('' to omit).")
    response_time: dict[str, str] = Field(
        default_factory=dict,
        description="Promised answer time on the private channels, per language (e.g. pt: 'em até 2 horas').",
    )


class Brand(_Section):
    name: str = Field(..., description="The brand's name as customers write it.")
    handles: dict[str, str] = Field(
        default_factory=dict, description="The brand's own handle per platform (x, facebook, instagram), without @."
    )
    keywords: list[str] = Field(default_factory=list, description="Words and phrases that mean the brand (X search).")
    hashtags: list[str] = Field(default_factory=list, description="The brand's hashtags (X search), with #.")
    languages: list[str] = Field(
        default_factory=lambda: ["pt", "en"], description="Languages the team answers in (pt, en, es)."
    )
    default_language: str = Field("pt", description="Language of a reply when the mention's is not in `languages`.")
    timezone: str = Field("America/Sao_Paulo", description="IANA time zone for reports and SLA clocks.")
    policy_links: PolicyLinks = Field(default_factory=PolicyLinks, description="Links the replies point to.")
    private_channel: PrivateChannel = Field(
        default_factory=PrivateChannel, description="Where personal data goes instead of public replies."
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like America/Sao_Paulo)") from exc
        return value


class Account(_Section):
    name: str = Field(..., description="A unique name for this account (used by `poll --account`).")
    platform: Literal["x", "facebook", "instagram"] = Field(..., description="x, facebook or instagram.")
    enabled: bool = Field(True, description="Poll this account.")
    sandbox: bool = Field(
        False, description="Talk to the local sandbox platform (`social-care sandbox`) instead of the real API."
    )
    base_url: str = Field("", description="Override the platform API address (tests, proxies). '' = the real API.")
    poll_interval_seconds: int = Field(120, ge=5, description="Seconds between polls of each stream.")
    options: dict[str, Any] = Field(
        default_factory=dict, description="Platform settings (ids, streams, budgets); see the per-platform table."
    )
    secrets: dict[str, str] = Field(
        default_factory=dict, description="Platform credentials, each a ${VAR} reference; see the per-platform table."
    )


class Database(_Section):
    url: str = Field(
        "", description="SQLAlchemy URL. '' = SQLite file social-care.db in data_dir. PostgreSQL: postgresql+psycopg://..."
    )
    echo: bool = Field(False, description="Log every SQL statement (debugging).")


class SandboxSettings(_Section):
    host: str = Field("127.0.0.1", description="Address the sandbox platform listens on.")
    port: int = Field(8765, description="Port of the sandbox platform.")
    drip_seconds: float = Field(20.0, description="In the demo, a new mention arrives every this many seconds (0 = off).")


class ClassifierThresholdSettings(_Section):
    complaint: float = Field(0.5, ge=0, le=1, description="Complaint probability from which a mention is a complaint.")
    category: float = Field(0.3, ge=0, le=1, description="Probability from which a complaint category applies.")
    remedy_due: float = Field(0.35, ge=0, le=1, description="Probability from which a remedy is offered.")
    high_priority_severity: int = Field(3, ge=0, le=4, description="Severity from which a mention is high priority.")


class ClassifierSettings(_Section):
    model: str = Field(
        "models/social-care-e5s-l6",
        description="Model directory (relative to the config file) or a Hugging Face id.",
    )
    threads: int = Field(2, ge=1, description="CPU threads for inference.")
    batch_size: int = Field(32, ge=1, description="Texts per inference batch.")
    runtime: Literal["auto", "torch", "torch-int8", "onnx", "onnx-int8"] = Field(
        "auto",
        description="Inference engine: auto (what the model directory asks for), torch, or ONNX Runtime "
        "(onnx, onnx-int8: exported once into $SOCIAL_CARE_CACHE, default ~/.cache/social-care).",
    )
    thresholds: ClassifierThresholdSettings = Field(
        default_factory=ClassifierThresholdSettings, description="Decision thresholds."
    )


class ReplyPolicy(_Section):
    templates_dir: str = Field("", description="Folder of reply templates. '' = the built-in templates.")
    reply_to_intents: list[str] = Field(
        default_factory=lambda: ["complaint", "question", "praise"],
        description="Intents that get a drafted reply (complaint, question, praise).",
    )
    signature: dict[str, str] = Field(
        default_factory=dict, description="Sign-off per language (e.g. pt: 'Equipe Aurora'). Empty = none."
    )
    remedies: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Remedies the brand allows per complaint category (refund, exchange, reshipment).",
    )
    max_length: dict[str, int] = Field(
        default_factory=lambda: {"x": 280, "facebook": 8000, "instagram": 2200},
        description="Maximum reply length per platform, in characters.",
    )
    claim_minutes: int = Field(10, ge=1, description="How long a reviewer's claim on a draft lasts.")
    sla_minutes: int = Field(60, ge=1, description="Target time from mention to first public response.")


class WebSettings(_Section):
    host: str = Field("127.0.0.1", description="Address the web inbox listens on.")
    port: int = Field(8000, description="Port of the web inbox.")
    session_secret: str = Field(
        "${SOCIAL_CARE_SESSION_SECRET:-}",
        description="Key that signs session cookies (a ${VAR}); empty = a random key per start.",
    )
    secure_cookies: bool = Field(False, description="Mark the session cookie Secure (set when served behind HTTPS).")


class SmtpSettings(_Section):
    host: str = Field("", description="SMTP server for e-mailing the weekly report ('' = do not e-mail).")
    port: int = Field(587, description="SMTP port.")
    user: str = Field("", description="SMTP user ('' = no login).")
    password_env: str = Field(
        "", description="Name of the environment variable that holds the SMTP password (never the password itself)."
    )
    sender: str = Field("", description="From address of the report e-mail.")
    to: list[str] = Field(default_factory=list, description="Who receives the weekly report.")
    starttls: bool = Field(True, description="Use STARTTLS.")

    def as_mapping(self) -> dict[str, Any] | None:
        """The form the report mailer takes, or None when e-mail is off."""
        if not self.host:
            return None
        return {"host": self.host, "port": self.port, "user": self.user, "password_env": self.password_env,
                "from": self.sender, "to": list(self.to), "starttls": self.starttls}


class ReportSettings(_Section):
    weekly: bool = Field(True, description="The daemon builds last week's report every Monday and keeps it.")
    weekly_at: str = Field("07:00", description="Local time (brand.timezone) on Mondays when the report is built.")
    smtp: SmtpSettings = Field(default_factory=SmtpSettings, description="E-mailing the weekly report.")

    @field_validator("weekly_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError(f"{value!r} is not a time like 07:00")
        return value


class DaemonSettings(_Section):
    pipeline_interval_seconds: float = Field(10.0, gt=0, description="Seconds between classify/draft runs.")
    send_interval_seconds: float = Field(15.0, gt=0, description="Seconds between runs of the sender of approved replies.")
    poll_jitter_seconds: float = Field(5.0, ge=0, description="Up to this many seconds added to each poll time.")
    leader_retry_seconds: float = Field(5.0, gt=0, description="Seconds between attempts to become the polling leader.")
    stop_timeout_seconds: float = Field(30.0, gt=0, description="After SIGTERM, wait at most this long for the running step.")
    retention_days: int = Field(90, ge=1, description="Raw platform payloads older than this are dropped (texts kept).")
    metrics_host: str = Field("127.0.0.1", description="Address of /healthz and /metrics (0.0.0.0 for a remote scraper).")
    metrics_port: int = Field(9464, ge=0, le=65535, description="Port of /healthz and /metrics (0 = off).")


class WebhookSettings(_Section):
    verify_token: str = Field(
        "${SOCIAL_CARE_WEBHOOK_VERIFY_TOKEN:-}",
        description="Token Meta echoes in the subscription handshake (a ${VAR}); empty = webhooks off.",
    )
    app_secret: str = Field(
        "${FB_APP_SECRET:-}", description="The Meta app secret that signs deliveries (a ${VAR}); empty = webhooks off."
    )


class Settings(_Section):
    brand: Brand = Field(..., description="Who we answer for.")
    data_dir: str = Field("data", description="Folder for the SQLite database and reports (relative to the config file).")
    secrets_file: str = Field("", description="YAML file of KEY: value secrets used to resolve ${KEY} after the environment.")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR.")
    database: Database = Field(default_factory=Database, description="Where everything is stored.")
    accounts: list[Account] = Field(default_factory=list, description="Platform accounts to poll.")
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings, description="The local fake platform.")
    classifier: ClassifierSettings = Field(default_factory=ClassifierSettings, description="The mention classifier.")
    reply_policy: ReplyPolicy = Field(default_factory=ReplyPolicy, description="How drafts are written.")
    web: WebSettings = Field(default_factory=WebSettings, description="The web inbox.")
    daemon: DaemonSettings = Field(default_factory=DaemonSettings, description="`social-care run`: jobs and operations.")
    reports: ReportSettings = Field(default_factory=ReportSettings, description="Weekly complaint-trend reports.")
    webhooks: WebhookSettings = Field(
        default_factory=WebhookSettings, description="Facebook and Instagram webhooks, served by the web inbox."
    )


# Fields whose values are credentials: they must be ${VAR} references.
SECRET_FIELDS = ("web.session_secret", "webhooks.verify_token", "webhooks.app_secret")


@dataclass(frozen=True)
class Config:
    """Validated settings plus where they came from."""

    settings: Settings
    path: Path | None  # None: the embedded defaults
    base_dir: Path

    @property
    def brand(self) -> Brand:
        return self.settings.brand

    @property
    def data_dir(self) -> Path:
        return _resolve_path(self.settings.data_dir, self.base_dir)

    @property
    def database_url(self) -> str:
        url = self.settings.database.url
        if url:
            return url
        return f"sqlite:///{self.data_dir / 'social-care.db'}"

    @property
    def model_path(self) -> str:
        """A local model directory (relative to the config file) when it exists, else a Hugging Face id."""
        model = self.settings.classifier.model
        for base in (self.base_dir, PROJECT_ROOT):  # the project root serves the embedded defaults anywhere
            local = _resolve_path(model, base)
            if local.exists():
                return str(local)
        return model

    def account(self, name: str) -> Account:
        for account in self.settings.accounts:
            if account.name == name:
                return account
        names = [a.name for a in self.settings.accounts]
        raise ConfigError(f"no account named {name!r}{_did_you_mean(name, names)} (accounts: {', '.join(names) or 'none'})")


def _resolve_path(value: str, base: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path)


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_keys(data: Any, model: type[BaseModel], where: str) -> None:
    """Walk the raw YAML against the models so an unknown key is named with the closest valid one."""
    if not isinstance(data, dict):
        return
    fields = model.model_fields
    for key, value in data.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in fields:
            raise ConfigError(f"unknown config key {path!r}{_did_you_mean(str(key), list(fields))}")
        annotation = fields[key].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            _check_keys(value, annotation, path)
        elif key == "accounts":
            if value is None:
                continue
            if not isinstance(value, list):
                raise ConfigError(f"config key {path!r} must be a list of accounts, got {type(value).__name__}")
            for i, item in enumerate(value):
                if not isinstance(item, dict):
                    raise ConfigError(f"config key '{path}[{i}]' must be a mapping, got {type(item).__name__}")
                _check_keys(item, Account, f"{path}[{i}]")
                _check_account_options(item, f"{path}[{i}]")


def _check_account_options(item: Any, where: str) -> None:
    if not isinstance(item, dict):
        return
    platform = item.get("platform")
    if not isinstance(platform, str) or platform not in OPTION_TYPES:
        return  # pydantic names the bad platform value
    option_fields = list(OPTION_TYPES[platform].__dataclass_fields__)
    options, secrets = item.get("options") or {}, item.get("secrets") or {}
    if not isinstance(options, dict) or not isinstance(secrets, dict):
        return  # pydantic names the key that is not a mapping
    for key in options:
        if key not in option_fields:
            raise ConfigError(f"unknown config key '{where}.options.{key}' for {platform}{_did_you_mean(str(key), option_fields)}")
    secret_names = list(SECRET_NAMES[platform])
    for key in secrets:
        if key not in secret_names:
            raise ConfigError(f"unknown config key '{where}.secrets.{key}' for {platform}{_did_you_mean(str(key), secret_names)}")


def _check_secret_references(data: dict[str, Any]) -> None:
    """Credentials must be ${VAR} references, never literal values in config.yaml."""
    accounts = data.get("accounts") or []
    for i, account in enumerate(accounts if isinstance(accounts, list) else []):
        secrets = account.get("secrets") if isinstance(account, dict) else None
        for key, value in (secrets.items() if isinstance(secrets, dict) else []):
            if not (isinstance(value, str) and _VAR_RE.fullmatch(value.strip())):
                raise ConfigError(
                    f"accounts[{i}].secrets.{key} must be a ${{VAR}} reference (e.g. ${{X_BEARER_TOKEN}}); "
                    "put the secret itself in the environment or in secrets_file, never in config.yaml"
                )
    for dotted in SECRET_FIELDS:
        node: Any = data
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node not in (None, "") and not (isinstance(node, str) and _VAR_RE.fullmatch(node.strip())):
            raise ConfigError(f"{dotted} must be a ${{VAR}} reference; put the secret in the environment or secrets_file")


def _resolve_vars(node: Any, lookup: dict[str, str], where: str) -> Any:
    if isinstance(node, dict):
        return {k: _resolve_vars(v, lookup, f"{where}.{k}" if where else str(k)) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve_vars(v, lookup, f"{where}[{i}]") for i, v in enumerate(node)]
    if isinstance(node, str):

        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in lookup:
                return lookup[name]
            if default is not None:
                return default
            raise ConfigError(
                f"config key {where!r} needs the environment variable {name}, which is not set "
                "(export it, or add it to the file named by secrets_file)"
            )

        return _VAR_RE.sub(replace, node)
    return node


def _load_secrets_file(raw: dict[str, Any], base_dir: Path) -> dict[str, str]:
    name = raw.get("secrets_file") or ""
    if not name:
        return {}
    path = _resolve_path(str(name), base_dir)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"secrets_file {str(path)!r} does not exist") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"secrets_file {str(path)!r} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"secrets_file {str(path)!r} must be a mapping of NAME: value")
    return {str(k): str(v) for k, v in data.items()}


def parse_config(text: str, *, path: Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Validate a config document. Raises :class:`ConfigError` with a one-line reason."""
    base_dir = path.parent.resolve() if path else Path.cwd()
    where = str(path) if path else "embedded defaults"
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a mapping of settings")
    _check_keys(raw, Settings, "")
    _check_secret_references(raw)
    lookup = {**_load_secrets_file(raw, base_dir), **(os.environ if environ is None else environ)}
    resolved = _resolve_vars(raw, lookup, "")
    try:
        settings = Settings.model_validate(resolved)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"config key {key!r}: {first['msg']}") from exc
    names = [a.name for a in settings.accounts]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"account names must be unique; repeated: {', '.join(duplicates)}")
    for i, account in enumerate(settings.accounts):
        try:
            account_options(settings.brand, account)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"accounts[{i}].options for {account.platform}: {exc}") from exc
    templates = settings.reply_policy.templates_dir
    if templates and not _resolve_path(templates, base_dir).is_dir():
        raise ConfigError(f"reply_policy.templates_dir {templates!r} is not a folder (relative paths start at {base_dir})")
    return Config(settings=settings, path=path, base_dir=base_dir)


def account_options(brand: Brand, account: Account) -> Any:
    """The connector's options dataclass for an account; brand-wide settings fill what it leaves unset."""
    option_type = OPTION_TYPES[account.platform]
    values = dict(account.options)
    fields = option_type.__dataclass_fields__
    if "handle" in fields and "handle" not in values and brand.handles.get(account.platform):
        values["handle"] = brand.handles[account.platform]
    if "keywords" in fields and "keywords" not in values:
        values["keywords"] = list(brand.keywords)
    if "hashtags" in fields and "hashtags" not in values:
        values["hashtags"] = list(brand.hashtags)
    return option_type(**values)


def load_config(path: str | Path | None = None, *, environ: dict[str, str] | None = None) -> Config:
    """Load the config: the given path, else $SOCIAL_CARE_CONFIG, else ./config.yaml, else the embedded defaults."""
    candidate: Path | None
    if path:
        candidate = Path(path)
        if not candidate.exists():
            raise ConfigError(f"config file {str(candidate)!r} does not exist (run `social-care init` to write one)")
    elif os.environ.get(CONFIG_ENV):
        candidate = Path(os.environ[CONFIG_ENV])
        if not candidate.exists():
            raise ConfigError(f"{CONFIG_ENV} points at {str(candidate)!r}, which does not exist")
    elif Path("config.yaml").exists():
        candidate = Path("config.yaml")
    else:
        candidate = None
    if candidate is None:
        return parse_config(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"), path=None, environ=environ)
    try:
        text = candidate.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {str(candidate)!r}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{str(candidate)!r} is not UTF-8 text") from exc
    return parse_config(text, path=candidate.resolve(), environ=environ)


def documented_keys() -> list[str]:
    """Every dotted key of the settings tree (lists as ``accounts[].x``), for docs and the docs test."""
    keys: list[str] = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            dotted = f"{prefix}{name}"
            keys.append(dotted)
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, dotted + ".")
            elif name == "accounts":
                walk(Account, dotted + "[].")

    walk(Settings, "")
    return keys


def describe_keys() -> list[tuple[str, str, str]]:
    """(key, default, description) rows for README and `init`."""
    rows: list[tuple[str, str, str]] = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            dotted = f"{prefix}{name}"
            annotation = field.annotation
            nested = isinstance(annotation, type) and issubclass(annotation, BaseModel)
            if field.is_required():
                default = "(required)"
            elif nested:
                default = ""
            else:
                value = field.get_default(call_default_factory=True)
                default = repr(value)
            rows.append((dotted, default, field.description or ""))
            if nested:
                walk(annotation, dotted + ".")  # type: ignore[arg-type]
            elif name == "accounts":
                walk(Account, dotted + "[].")

    walk(Settings, "")
    return rows
