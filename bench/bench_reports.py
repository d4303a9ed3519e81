"""Benchmark: build a weekly report over N stored mentions on SQLite or PostgreSQL and print the time.

    python bench/bench_reports.py --mentions 1000000 --db sqlite
    python bench/bench_reports.py --mentions 1000000 --db postgres   # server at $SOCIAL_CARE_TEST_PG

Rows are generated in bulk (sqlite3 executemany / PostgreSQL COPY) over the last --weeks weeks,
with one category spiking in the last complete week; then the report is built --repeat times (the
first may pay for cold caches) and each build time is printed with the machine it ran on.

What makes it fast: the 9-week figures come from one GROUP BY over the week range (SQLite: one
per week, as it aggregates by sorting), driven by ix_mentions_created_at and joined through the
unique index on classifications.mention_id; categories are unnested only after grouping by the
category list's text, so the JSON of a handful of distinct lists is read, not of every mention.
This week's response figures use the unique indexes on reply_drafts.mention_id and
posted_replies.draft_id and ix_reply_events_draft_id. Only a few thousand rows come back.
--covering-index also times two covering indexes (COVERING_INDEXES) that could be added later.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from social_care.config import DEFAULT_CONFIG_PATH, Config, parse_config
from social_care.db import create_db_engine, upgrade
from social_care.reports import build_report
from social_care.reports.weeks import last_complete_week

PG_ADMIN = os.environ.get("SOCIAL_CARE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PLATFORMS = ("x", "facebook", "instagram")
LANGUAGES = ("pt", "pt", "pt", "en", "es")
CATEGORIES = ("delivery", "wrong_item", "damaged_defective", "refund_return", "payment_billing", "customer_service")
PHRASES = {
    "delivery": ["pedido atrasado de novo", "entrega parada no centro de distribuição", "order still not delivered"],
    "wrong_item": ["veio o produto errado", "recebi tamanho errado", "wrong size in the box"],
    "damaged_defective": ["produto chegou quebrado", "caixa amassada e produto riscado", "llegó roto"],
    "refund_return": ["quero meu reembolso", "troca não foi aprovada", "still waiting for my refund"],
    "payment_billing": ["cobrança em dobro no cartão", "boleto pago e pedido cancelado", "cobro duplicado"],
    "customer_service": ["ninguém responde no chat", "atendimento demorado demais", "nadie contesta"],
}
PRAISE = ["amei a compra", "chegou rapidinho, obrigada", "love my new shoes", "me encantó"]
# The indexes the report would like (proposed as a migration; the bench drops them before each run).
COVERING_INDEXES = {
    "ix_mentions_created_at_report": "mentions (created_at, is_own, platform, account_id)",
    "ix_classifications_mention_report": "classifications (mention_id, complaint, language, sentiment, severity)",
}


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}; {os.cpu_count()} logical cores; Python {platform.python_version()}; {platform.platform()}"


def backend_pid(engine: sa.engine.Engine) -> int | None:
    """The PostgreSQL server process behind the pooled connection the report will reuse."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) a local process has used; 0 when unknown. On a shared machine
    wall time depends on the others' load, CPU time much less, so both are printed."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_config(url: str, data_dir: Path) -> Config:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["database"]["url"] = url
    data["accounts"] = []
    data["data_dir"] = str(data_dir)
    return parse_config(yaml.safe_dump(data, allow_unicode=True), environ={})


def database_url(kind: str, *, fresh: bool) -> str:
    """The bench database (emptied unless ``fresh`` is False): a SQLite file, or database social_care_bench."""
    if kind == "sqlite":
        folder = Path(os.environ.get("SOCIAL_CARE_BENCH_DIR", "/tmp/social-care-bench"))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "bench.db"
        for suffix in ("", "-wal", "-shm") if fresh else ():
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = 'social_care_bench'")).first()
        if fresh or not exists:
            connection.execute(sa.text('DROP DATABASE IF EXISTS "social_care_bench" WITH (FORCE)'))
            connection.execute(sa.text('CREATE DATABASE "social_care_bench"'))
    url = admin.url.set(database="social_care_bench").render_as_string(hide_password=False)
    admin.dispose()
    return url


class Writer:
    """Bulk rows into one table: sqlite3 executemany, or PostgreSQL COPY."""

    def __init__(self, raw: Any, postgres: bool) -> None:
        self.raw, self.postgres = raw, postgres

    def value(self, v: Any) -> Any:
        if self.postgres:
            return v
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, datetime):
            return v.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite DateTime storage format
        return v

    def write(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        cursor = self.raw.cursor()
        if self.postgres:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                               [tuple(self.value(v) for v in row) for row in rows])
        cursor.close()


def generate(engine: sa.engine.Engine, n: int, weeks: int, config: Config, seed: int = 7) -> str:
    """Insert n mentions over the last ``weeks`` weeks; returns the report week (last complete one)."""
    rng = random.Random(seed)
    tz = ZoneInfo(config.brand.timezone)
    target = last_complete_week(tz)
    end = target.utc_bounds(tz)[1].replace(tzinfo=None)
    start = end - timedelta(weeks=weeks)
    spike_start = target.utc_bounds(tz)[0].replace(tzinfo=None)
    span = (end - start).total_seconds()
    offsets = sorted(rng.random() * span for _ in range(n))  # ids grow with time, as when polled
    postgres = engine.dialect.name == "postgresql"
    raw = engine.raw_connection()
    writer = Writer(raw.driver_connection, postgres)
    authors = max(1000, n // 20)
    writer.write("accounts", ("id", "name", "platform", "status", "consecutive_failures", "created_at"),
                 [(i + 1, f"aurora-{p}", p, "ok", 0, start) for i, p in enumerate(PLATFORMS)])
    writer.write("authors", ("id", "platform", "external_id", "handle", "first_seen_at"),
                 [(i + 1, PLATFORMS[i % 3], f"u{i}", f"cliente{i}", start) for i in range(authors)])
    mentions: list[tuple[Any, ...]] = []
    classes: list[tuple[Any, ...]] = []
    drafts: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    posts: list[tuple[Any, ...]] = []
    counts = {"mentions": 0, "drafts": 0, "events": 0, "posts": 0}

    def flush() -> None:
        writer.write("mentions", ("id", "platform", "external_id", "account_id", "stream", "author_id", "text",
                                  "created_at", "received_at", "is_own", "stage", "reply_ref", "source"), mentions)
        writer.write("classifications", ("id", "mention_id", "model_name", "model_version", "language", "sentiment",
                                         "intent", "complaint", "complaint_score", "categories", "severity",
                                         "remedy_due", "scores", "created_at"), classes)
        writer.write("reply_drafts", ("id", "mention_id", "state", "text", "original_text", "language", "lint",
                                      "priority", "lint_override", "attempts", "approved_by", "approved_at",
                                      "rejected_reason", "created_at", "updated_at"), drafts)
        writer.write("reply_events", ("id", "draft_id", "actor", "action", "from_state", "to_state", "created_at"),
                     events)
        writer.write("posted_replies", ("id", "draft_id", "mention_id", "platform", "external_id", "text",
                                        "posted_at", "reconciled"), posts)
        for name, rows in (("mentions", mentions), ("drafts", drafts), ("events", events), ("posts", posts)):
            counts[name] += len(rows)
        for rows in (mentions, classes, drafts, events, posts):
            rows.clear()

    for i, offset in enumerate(offsets):
        if len(mentions) >= 100_000:
            flush()
        mid = i + 1
        created = start + timedelta(seconds=offset)
        p = rng.randrange(3)
        complaint = rng.random() < 0.45
        category = rng.choice(CATEGORIES)
        if created >= spike_start and not complaint and rng.random() < 0.2:
            complaint, category = True, "delivery"  # the spike the report should find
        text = rng.choice(PHRASES[category]) if complaint else rng.choice(PRAISE)
        author = rng.randrange(authors) // 3 * 3 + p + 1
        if author > authors:
            author = p + 1
        mentions.append((mid, PLATFORMS[p], f"m{mid}", p + 1, "mentions", author, text, created, created, False,
                         "classified", "{}", "poll"))
        severity = rng.randrange(1, 5) if complaint else 0
        remedy = complaint and rng.random() < 0.3
        classes.append((mid, mid, "bench", "1", rng.choice(LANGUAGES),
                        "negative" if complaint else rng.choice(("positive", "neutral")),
                        "complaint" if complaint else "praise", complaint, 0.5 + rng.random() / 2 if complaint else 0.1,
                        json.dumps([category] if complaint else []), severity, remedy, "{}", created))
        if complaint and rng.random() < 0.35:
            drafted = created + timedelta(minutes=rng.randrange(1, 10))
            fate = rng.random()
            approved = drafted + timedelta(minutes=rng.randrange(2, 240)) if fate < 0.85 else None
            state = "rejected" if fate >= 0.95 else ("sent" if approved else "drafted")
            did = counts["drafts"] + len(drafts) + 1
            drafts.append((did, mid, state, "Sentimos muito!", "Sentimos muito!", "pt", "[]", 0.0, False, 0,
                           "paula" if approved else None, approved, "duplicate" if state == "rejected" else None,
                           drafted, drafted))
            if approved:
                events.append((counts["events"] + len(events) + 1, did, "paula", "edited_and_approved" if rng.random() < 0.3 else "approved",
                               "drafted", "approved", approved))
                posts.append((counts["posts"] + len(posts) + 1, did, mid, PLATFORMS[p], f"r{did}", "Sentimos muito!",
                              approved + timedelta(minutes=1), False))
    flush()
    raw.commit()
    if postgres:
        cursor = raw.driver_connection.cursor()
        for table in ("accounts", "authors", "mentions", "classifications", "reply_drafts", "reply_events",
                      "posted_replies"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        raw.commit()
    raw.close()
    print(f"  {counts['mentions']} mentions, {counts['drafts']} drafts, {counts['posts']} posted replies, "
          f"{counts['events']} events")
    return target.label


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--weeks", type=int, default=12, help="spread the mentions over this many weeks")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--covering-index", action="store_true", help="also time with the suggested extra index")
    parser.add_argument("--reuse", action="store_true", help="keep the rows of a previous run with as many mentions")
    args = parser.parse_args()

    print(f"machine: {machine()}; load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    url = database_url(args.db, fresh=not args.reuse)
    engine = create_db_engine(url)
    upgrade(engine)
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT count(*) FROM mentions")).scalar()
        if stored:
            for name in COVERING_INDEXES:
                connection.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
            connection.commit()
    if args.reuse and stored != args.mentions:
        engine.dispose()
        url = database_url(args.db, fresh=True)
        engine = create_db_engine(url)
        upgrade(engine)
        stored = 0
    with engine.connect() as connection:
        version = connection.execute(sa.text("SELECT version()" if args.db == "postgres" else "SELECT sqlite_version()")).scalar()
    print(f"database: {args.db} {str(version).split(' on ')[0]}")
    config = bench_config(url, Path("/tmp/social-care-bench/data"))
    started = time.perf_counter()
    if stored:
        week = last_complete_week(ZoneInfo(config.brand.timezone)).label
        print(f"reusing {stored} stored mentions; report week {week}")
    else:
        week = generate(engine, args.mentions, args.weeks, config)
        # VACUUM as autovacuum would soon after a bulk load (hint bits, visibility map): the report
        # then runs against the steady state a production database is in, not a just-COPYed one.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE" if args.db == "postgres" else "ANALYZE"))
        print(f"generated and vacuumed/analysed in {time.perf_counter() - started:.1f} s; report week {week}")

    def timed(label: str) -> None:
        for attempt in range(args.repeat):
            server_pid = backend_pid(engine)
            cpu0, server0, t0 = time.process_time(), process_cpu(server_pid), time.perf_counter()
            report = build_report(engine, config, week)
            elapsed = time.perf_counter() - t0
            cpu = time.process_time() - cpu0 + process_cpu(server_pid) - server0
            load = os.getloadavg()[0]
            print(f"  {label} build {attempt + 1}: {elapsed:.2f} s wall, {cpu:.2f} s CPU (load {load:.1f})  (mentions this week {report.mentions.this_week}, "
                  f"9-week total {sum(report.mentions.series)}, spiking {report.spiking and [s.category for s in report.spiking]})")

    print(f"report over {args.mentions} stored mentions ({args.db}):")
    timed("indexes as migrated")
    if args.covering_index:
        with engine.begin() as connection:
            for name, target in COVERING_INDEXES.items():
                print(f"  CREATE INDEX {name} ON {target}")
                connection.execute(sa.text(f"CREATE INDEX IF NOT EXISTS {name} ON {target}"))
            connection.execute(sa.text("ANALYZE"))
        timed("with the covering indexes")
    print("indexes used: ix_mentions_created_at (week range), the unique indexes on classifications.mention_id, "
          "reply_drafts.mention_id and posted_replies.draft_id, ix_reply_events_draft_id")
    engine.dispose()


if __name__ == "__main__":
    main()
