#!/usr/bin/env bash
# Runs the test suite: makes sure PostgreSQL answers (starting the local cluster if it is down)
# and that Debian's chromium is there for the browser tests, then runs pytest.
#   scripts/test.sh          the default suite (what CI runs)
#   scripts/test.sh --long   also the long reliability runs (marked slow)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
args=(-m "not slow")
if [[ "${1:-}" == "--long" ]]; then args=(); shift; fi

pg_answers() { "$PY" - <<'PYEOF' 2>/dev/null
import os, sys, psycopg
url = os.environ.get("SOCIAL_CARE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test").replace("+psycopg", "")
try:
    psycopg.connect(url, connect_timeout=3).close()
except Exception:
    sys.exit(1)
PYEOF
}

if ! pg_answers; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "starting the local PostgreSQL cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 20); do pg_answers && break; sleep 1; done
  fi
fi
if ! pg_answers; then
  echo "note: no PostgreSQL at ${SOCIAL_CARE_TEST_PG:-127.0.0.1:5432/test}; its tests will be skipped (CI requires it)"
fi

if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "note: could not install chromium; browser tests will be skipped"
fi

exec "$PY" -m pytest "${args[@]}" "$@"
