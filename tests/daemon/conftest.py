"""Daemon test fixtures: a migrated SQLite file, the fakes module on sys.path, a subprocess launcher."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))  # daemon_fakes, shared with the subprocess script

from social_care.db import create_db_engine, upgrade


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'daemon.db'}"
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


class FakeProcess:
    """One forked daemon process (fork: the test process already imported everything, so it starts at once)."""

    def __init__(self, db_url: str, env: dict[str, str], log_path: Path) -> None:
        context = multiprocessing.get_context("fork")
        self._process = context.Process(target=_child, args=(db_url, env, str(log_path)), daemon=False)
        self._process.start()
        self.pid: int = self._process.pid  # type: ignore[assignment]

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float) -> int | None:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise TimeoutError(f"daemon {self.pid} did not exit within {timeout} s")
        return self._process.exitcode


def _child(db_url: str, env: dict[str, str], log_path: str) -> None:
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - the process's own stdout
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    from run_fake_daemon import main

    code = main(db_url, env)
    sys.stdout.flush()
    os._exit(code)  # skip the test process's atexit handlers, inherited by the fork


class FakeDaemons:
    """Starts fake daemons (run_fake_daemon.main) in forked processes; none outlives the test."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.procs: list[FakeProcess] = []

    def start(self, db_url: str, name: str, **env: object) -> FakeProcess:
        settings = {f"SC_FAKE_{k.upper()}": str(v) for k, v in env.items()}
        proc = FakeProcess(db_url, settings, self.tmp_path / f"{name}.log")
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        path = self.tmp_path / f"{name}.log"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)


@pytest.fixture
def fake_daemons(tmp_path: Path) -> Iterator[FakeDaemons]:
    daemons = FakeDaemons(tmp_path)
    yield daemons
    daemons.stop_all()
