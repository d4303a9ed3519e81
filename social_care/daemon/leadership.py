"""Who schedules polling: one leader per PostgreSQL database (advisory lock), one process per SQLite file (flock).

PostgreSQL: the leader holds ``pg_try_advisory_lock(SCHEDULER_LOCK_KEY)`` on a dedicated session.
The lock lives exactly as long as that session, so a leader that dies (even by SIGKILL) releases it
when its connection closes, and a follower's next attempt takes over. Server-side TCP keepalives on
that session make a vanished host (no FIN ever sent) count as dead within about half a minute.

SQLite: there is no server to arbitrate, and two schedulers on one file would poll twice, so the
daemon takes an exclusive ``flock`` on a lock file next to the database and refuses to start when
another process holds it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from social_care.db import DatabaseError

log = logging.getLogger(__name__)

# 'soci' / 'alca': a fixed 64-bit key; advisory locks are per database, so one key serves every install.
SCHEDULER_LOCK_KEY = 0x736F6369_616C6361
_KEY_HI, _KEY_LO = SCHEDULER_LOCK_KEY >> 32, SCHEDULER_LOCK_KEY & 0xFFFFFFFF
APPLICATION_PREFIX = "social-care-scheduler"


class AlreadyRunning(DatabaseError):
    """Another daemon already uses this SQLite database; the message says which process."""


class Leadership(Protocol):
    def try_acquire(self) -> bool:
        """True while this process is (or just became) the leader; never blocks for long."""
        ...

    def release(self) -> None: ...


def application_name() -> str:
    return f"{APPLICATION_PREFIX} {socket.gethostname()[:30]}:{os.getpid()}"


class PostgresLeadership:
    """Leader election with a session-level advisory lock on a connection of its own."""

    def __init__(self, engine: Engine, *, key: int = SCHEDULER_LOCK_KEY) -> None:
        # NullPool: the session is ours alone and really closes when we let it go.
        self._engine = sa.create_engine(
            engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT",
            connect_args={"application_name": application_name(), "connect_timeout": 5},
        )
        self._key = key
        self._connection: sa.Connection | None = None
        self.is_leader = False

    def _connect(self) -> sa.Connection:
        if self._connection is None:
            connection = self._engine.connect()
            # Server-side keepalives: if our host vanishes, the server ends the session (and the lock).
            for name, value in (("tcp_keepalives_idle", 10), ("tcp_keepalives_interval", 5),
                                ("tcp_keepalives_count", 3)):
                connection.execute(sa.text(f"SET {name} = {value}"))
            self._connection = connection
        return self._connection

    def try_acquire(self) -> bool:
        try:
            connection = self._connect()
            if self.is_leader:
                connection.execute(sa.text("SELECT 1"))  # the session lives, so the lock is still ours
                return True
            got = connection.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}).scalar()
        except sa.exc.DBAPIError as exc:
            if self.is_leader:
                log.error("lost the scheduler lock: its database session failed (%s)", type(exc).__name__)
            self._drop()
            return False
        self.is_leader = bool(got)
        return self.is_leader

    def _drop(self) -> None:
        self.is_leader = False
        if self._connection is not None:
            try:
                self._connection.invalidate()
                self._connection.close()
            except Exception:  # noqa: BLE001, S110 - already broken; nothing more to release
                pass
            self._connection = None

    def release(self) -> None:
        """Give the lock back at once (closing the session releases it) so a follower takes over quickly."""
        if self._connection is not None:
            try:
                if self.is_leader:
                    self._connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
                self._connection.close()
            except sa.exc.DBAPIError:
                pass
            self._connection = None
        self.is_leader = False
        self._engine.dispose()


def current_leader(engine: Engine) -> str | None:
    """The application name of the session holding the scheduler lock ('social-care-scheduler HOST:PID'), or None."""
    query = sa.text(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND l.classid = :hi AND l.objid = :lo AND l.objsubid = 1"
    )
    with engine.connect() as connection:
        return connection.execute(query, {"hi": _KEY_HI, "lo": _KEY_LO}).scalar()


def sqlite_lock_path(engine: Engine) -> Path | None:
    """The lock file beside a SQLite database file (None for in-memory databases)."""
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(database).resolve().with_name(Path(database).name + ".daemon.lock")


class SqliteSingleInstance:
    """An exclusive flock beside the database: this process is the only daemon, hence always the leader."""

    def __init__(self, engine: Engine) -> None:
        self.path = sqlite_lock_path(engine)
        self._fd: int | None = None
        self.is_leader = False

    def acquire(self) -> None:
        if self.path is None:
            self.is_leader = True
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise AlreadyRunning(
                f"another `social-care run` (pid {holder}) is already using {self.path.with_suffix('')}; "
                "stop it first (SQLite allows one daemon; use PostgreSQL to run several)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        self.is_leader = True

    def try_acquire(self) -> bool:
        return self.is_leader

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        self.is_leader = False


def sqlite_daemon_pid(engine: Engine) -> int | None:
    """The pid of the daemon holding the SQLite lock, or None when no daemon runs."""
    path = sqlite_lock_path(engine)
    if path is None or not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 64, 0).decode(errors="replace").strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
