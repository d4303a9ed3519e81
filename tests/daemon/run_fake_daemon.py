"""A daemon process on fakes (feed connector, fixed classifier) for the multi-process and signal tests.

The tests fork it from the test process (see conftest.FakeDaemons), which costs no import time;
it also runs on its own for trying things by hand:
python tests/daemon/run_fake_daemon.py DB_URL  (settings in SC_FAKE_* environment variables)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _classifier_without_torch() -> None:
    """Register social_care.classifier without running its __init__, which imports torch.

    These processes use FakeClassifier; torch's import alone takes 2-8 s per process on a shared
    machine, which is most of a test that starts five daemons. The value types are the real ones.
    """
    import importlib
    import types

    import social_care

    package = types.ModuleType("social_care.classifier")
    package.__path__ = [str(Path(social_care.__file__).parent / "classifier")]
    sys.modules["social_care.classifier"] = package
    result = importlib.import_module("social_care.classifier.result")
    artifacts = importlib.import_module("social_care.classifier.artifacts")
    package.Classification, package.Thresholds = result.Classification, result.Thresholds  # type: ignore[attr-defined]
    package.ModelLoadError = artifacts.ModelLoadError  # type: ignore[attr-defined]
    package.Classifier = object  # type: ignore[attr-defined]

    def load_classifier(*_args: object, **_kwargs: object) -> None:
        raise artifacts.ModelLoadError("this test daemon runs with FakeClassifier")

    package.load_classifier = load_classifier  # type: ignore[attr-defined]


def main(db_url: str, env: dict[str, str]) -> int:
    from daemon_fakes import FakeClassifier, FeedConnector, daemon_config

    from social_care.app import SocialCare
    from social_care.daemon import Daemon, DaemonOptions, setup_logging

    config = daemon_config(db_url, accounts=int(env.get("SC_FAKE_ACCOUNTS", "1")),
                           interval=float(env.get("SC_FAKE_INTERVAL", "1")))
    feed = FeedConnector(total=int(env["SC_FAKE_TOTAL"]), start=float(env.get("SC_FAKE_START", "0")),
                         start_file=env.get("SC_FAKE_START_FILE"),
                         every=float(env.get("SC_FAKE_EVERY", "0")), log_path=env.get("SC_FAKE_FETCH_LOG"),
                         fetch_delay=float(env.get("SC_FAKE_FETCH_DELAY", "0")))
    classifier = FakeClassifier(delay=float(env.get("SC_FAKE_CLASSIFY_DELAY", "0")), busy_file=env.get("SC_FAKE_BUSY_FILE"))
    core = SocialCare(config, classifier=classifier)
    core.connector_for = lambda _account_id: feed  # type: ignore[method-assign]
    setup_logging("INFO", json_lines=True)
    options = DaemonOptions(
        pipeline_seconds=float(env.get("SC_FAKE_PIPELINE", "0.3")), send_seconds=1.0, poll_jitter_seconds=0,
        leader_retry_seconds=float(env.get("SC_FAKE_LEADER_RETRY", "0.3")), metrics_port=0,
        batch_limit=int(env.get("SC_FAKE_BATCH", "16")), shutdown_timeout_seconds=10,
    )
    print(f"READY {os.getpid()}", flush=True)
    return 0 if Daemon(core, options).run() else 1


if __name__ == "__main__":
    _classifier_without_torch()
    sys.exit(main(sys.argv[1], dict(os.environ)))
