"""A database with known mentions over nine weeks, for checking every report figure by hand.

Brand time zone America/Sao_Paulo (UTC-3, no daylight saving in 2026). The report week is
2026-W46 (Mon 9 Nov to Mon 16 Nov local); the trailing weeks W38..W45 hold only complaints:
delivery [2,3,2,4,3,2,3,3], damaged_defective [5,6,5,7,6,5,6,6] and one payment_billing each.
W46 is described next to SEED_W46 below; W47 holds two praise mentions only.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine

from social_care import models as m
from social_care.config import DEFAULT_CONFIG_PATH, Config, parse_config
from social_care.db import create_db_engine, session_scope, upgrade

TZ = ZoneInfo("America/Sao_Paulo")
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # Wednesday of W47: the last complete week is W46
DELIVERY_HISTORY = [2, 3, 2, 4, 3, 2, 3, 3]
DAMAGED_HISTORY = [5, 6, 5, 7, 6, 5, 6, 6]


def make_config(tmp_path: Path, *, database_url: str = "", timezone_name: str = "America/Sao_Paulo") -> Config:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["brand"]["timezone"] = timezone_name
    data["database"]["url"] = database_url
    data["accounts"] = []  # reports read accounts from the database; connector options are not their concern
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return parse_config(path.read_text(encoding="utf-8"), path=path, environ={})


@dataclass
class Draft:
    after_min: float  # drafted this many minutes after the mention
    approved_after_min: float | None = None  # approval this many minutes after the draft
    edited: bool = False
    posted_after_min: float | None = None  # reply posted this many minutes after the mention
    rejected: str | None = None
    state: m.ReplyState | None = None


@dataclass
class Spec:
    local: datetime  # naive local time in TZ
    platform: str = "x"
    handle: str = "cliente"
    text: str = "pedido atrasado de novo"
    classified: bool = True
    language: str = "pt"
    sentiment: str = "negative"
    intent: str = "complaint"
    complaint: bool = True
    score: float = 0.8
    categories: list[str] = field(default_factory=list)
    severity: int = 2
    remedy_due: bool = False
    own: bool = False
    draft: Draft | None = None


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute)


def trailing_specs() -> list[Spec]:
    specs: list[Spec] = []
    for i, (deliveries, damaged) in enumerate(zip(DELIVERY_HISTORY, DAMAGED_HISTORY)):
        wednesday = date.fromisocalendar(2026, 38 + i, 3)
        for k in range(deliveries):
            specs.append(Spec(local(wednesday, 9, k), categories=["delivery"]))
        if i == 7:
            # W45's last delivery complaint: Sunday 23:00 local, already Monday (W46) in UTC, answered
            # during W46. It counts for W45, and its reply for W45's figures, never W46's.
            specs[-1] = Spec(local(date(2026, 11, 8), 23, 0), categories=["delivery"],
                             draft=Draft(after_min=5, approved_after_min=5, posted_after_min=70))
        for k in range(damaged):
            specs.append(Spec(local(wednesday, 10, k), platform="instagram", text="produto chegou quebrado",
                              categories=["damaged_defective"]))
        specs.append(Spec(local(wednesday, 11), platform="facebook", text="cobrança em dobro no cartão",
                          categories=["payment_billing"]))
    return specs


def w46_specs() -> list[Spec]:
    """W46: 12 delivery (8 x + 4 facebook; 10 pt + 2 en; severity 3 x6 then 2 x6; remedy due #1-#4),
    9 damaged_defective (instagram, 3 es + 6 pt, severity 1), 4 payment_billing (facebook, en, neutral,
    severity 4, remedy due #1-#2), 5 praise (x, pt, positive), 1 delivery question (x, pt, neutral,
    not a complaint), 1 unclassified mention (x) and 1 post of the brand's own (excluded)."""
    tue, wed, thu, fri, sat, sun = (date(2026, 11, d) for d in (10, 11, 12, 13, 14, 15))
    drafts = {
        1: Draft(5, approved_after_min=20, posted_after_min=30),
        2: Draft(5, approved_after_min=55, edited=True, posted_after_min=90),
        3: Draft(5, approved_after_min=120, posted_after_min=180),
    }
    specs: list[Spec] = []
    for k in range(1, 13):
        text = "entrega parada no centro de distribuição" if k <= 6 else "pedido atrasado de novo"
        if k == 6:
            text += " @joao_silva @lojaaurora <script>alert(1)</script>"
        specs.append(Spec(local(tue, 9 + k), platform="x" if k <= 8 else "facebook", handle=f"cliente{k}" if k != 6 else "bruna",
                          text=text, language="pt" if k <= 10 else "en", categories=["delivery"],
                          severity=3 if k <= 6 else 2, score=0.89 + k / 100 if k <= 6 else 0.7,
                          remedy_due=k <= 4, draft=drafts.get(k)))
    rejected = {1: "duplicate", 2: "off-topic", 3: "duplicate"}
    for k in range(1, 10):
        specs.append(Spec(local(thu, 9 + k), platform="instagram", text="produto chegou quebrado",
                          language="es" if k <= 3 else "pt", categories=["damaged_defective"], severity=1,
                          draft=Draft(5, rejected=rejected[k]) if k in rejected else None))
    payment_drafts = {1: Draft(10, approved_after_min=10, posted_after_min=25), 2: Draft(5)}
    for k in range(1, 5):
        specs.append(Spec(local(wed, 9 + k), platform="facebook", text="cobrança em dobro no cartão", language="en",
                          sentiment="neutral", categories=["payment_billing"], severity=4, remedy_due=k <= 2,
                          draft=payment_drafts.get(k)))
    for k in range(1, 6):
        specs.append(Spec(local(fri, 9 + k), text="amei a loja aurora", sentiment="positive", intent="praise",
                          complaint=False, score=0.02, severity=0,
                          draft=Draft(2, approved_after_min=8, posted_after_min=15) if k == 1 else None))
    specs.append(Spec(local(sat, 10), text="quando chega meu pedido?", sentiment="neutral", intent="question",
                      complaint=False, score=0.3, categories=["delivery"], severity=0))
    specs.append(Spec(local(sun, 10), text="olá", classified=False))
    specs.append(Spec(local(sun, 11), text="Promoção de novembro na Loja Aurora", own=True, classified=False))
    return specs


def w47_specs() -> list[Spec]:
    monday = date(2026, 11, 16)
    return [Spec(local(monday, 10 + k), text="adorei", sentiment="positive", intent="praise", complaint=False,
                 score=0.01, severity=0) for k in range(2)]


def insert_specs(engine: Engine, specs: list[Spec], tz: ZoneInfo = TZ) -> None:
    """Store mentions, classifications, drafts, events and posted replies as the pipeline would."""
    with session_scope(engine) as session:
        accounts: dict[str, m.Account] = {}
        for platform in ("x", "facebook", "instagram"):
            account = m.Account(name=f"aurora-{platform}", platform=platform)
            session.add(account)
            accounts[platform] = account
        session.flush()
        authors: dict[tuple[str, str], m.Author] = {}
        for n, spec in enumerate(specs):
            key = (spec.platform, spec.handle)
            if key not in authors:
                authors[key] = m.Author(platform=spec.platform, external_id=f"u-{spec.handle}", handle=spec.handle)
                session.add(authors[key])
                session.flush()
            created = spec.local.replace(tzinfo=tz).astimezone(UTC)
            mention = m.Mention(platform=spec.platform, external_id=f"e{n}", account_id=accounts[spec.platform].id,
                                stream="mentions", author_id=authors[key].id, text=spec.text, created_at=created,
                                is_own=spec.own)
            session.add(mention)
            session.flush()
            if spec.classified:
                session.add(m.Classification(
                    mention_id=mention.id, model_name="test", model_version="1", language=spec.language,
                    sentiment=spec.sentiment, intent=spec.intent, complaint=spec.complaint,
                    complaint_score=spec.score, categories=spec.categories, severity=spec.severity,
                    remedy_due=spec.remedy_due))
            if spec.draft is not None:
                _add_draft(session, mention, spec.draft, created)


def _add_draft(session, mention: m.Mention, spec: Draft, created: datetime) -> None:  # type: ignore[no-untyped-def]
    drafted = created + timedelta(minutes=spec.after_min)
    state = spec.state or (m.ReplyState.REJECTED if spec.rejected else m.ReplyState.DRAFTED)
    draft = m.ReplyDraft(mention_id=mention.id, text="Sentimos muito!", original_text="Sentimos muito!",
                         language="pt", created_at=drafted, state=state, rejected_reason=spec.rejected)
    session.add(draft)
    session.flush()
    if spec.rejected:
        session.add(m.ReplyEvent(draft_id=draft.id, actor="paula", action="rejected", from_state="drafted",
                                 to_state="rejected", note=spec.rejected, created_at=drafted + timedelta(minutes=1)))
    if spec.approved_after_min is not None:
        approved = drafted + timedelta(minutes=spec.approved_after_min)
        draft.approved_at, draft.approved_by, draft.state = approved, "paula", m.ReplyState.APPROVED
        if spec.edited:
            draft.text = "Sentimos muito, já verificamos!"
        session.add(m.ReplyEvent(draft_id=draft.id, actor="paula",
                                 action="edited_and_approved" if spec.edited else "approved",
                                 from_state="drafted", to_state="approved", created_at=approved))
    if spec.posted_after_min is not None:
        draft.state = m.ReplyState.SENT
        session.add(m.PostedReply(draft_id=draft.id, mention_id=mention.id, platform=mention.platform,
                                  external_id=f"r{draft.id}", text=draft.text,
                                  posted_at=created + timedelta(minutes=spec.posted_after_min)))
        session.add(m.ReplyEvent(draft_id=draft.id, actor="system", action="sent", from_state="sending",
                                 to_state="sent", created_at=created + timedelta(minutes=spec.posted_after_min)))
    session.add(draft)


@pytest.fixture(scope="package")
def sqlite_seeded_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The seeded SQLite database alone, for tests whose subject is not SQL (files, mail, the browser)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('reports') / 'seeded.db'}"
    engine = create_db_engine(url)
    upgrade(engine)
    insert_specs(engine, trailing_specs() + w46_specs() + w47_specs())
    engine.dispose()
    return url


@pytest.fixture(scope="package", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def seeded_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The seeded database, built once per backend for this folder: the tests that use it only read.

    Like the shared ``db_url`` fixture (SQLite file, or a PostgreSQL clone of the migrated
    template), but package-scoped so the nine weeks are inserted once instead of once per test.
    """
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_seeded_url")
        return
    template = request.getfixturevalue("pg_template")
    if template is None:
        pytest.skip("no PostgreSQL server answers (see tests/conftest.py)")
    admin, name = template
    clone = f"sc_reports_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{clone}" TEMPLATE "{name}"'))
    url = admin.url.set(database=clone).render_as_string(hide_password=False)
    engine = create_db_engine(url)
    insert_specs(engine, trailing_specs() + w46_specs() + w47_specs())
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{clone}" WITH (FORCE)'))


@pytest.fixture(scope="package")
def seeded(seeded_url: str) -> Iterator[Engine]:
    engine = create_db_engine(seeded_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="package")
def config(seeded_url: str, tmp_path_factory: pytest.TempPathFactory) -> Config:
    return make_config(tmp_path_factory.mktemp("config"), database_url=seeded_url)
