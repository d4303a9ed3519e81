"""Bad input, by property: platform pages, webhook payloads, config files, draft inputs and web forms.

Each parser or form gives a clear outcome (a record, a quarantined item, ConfigError, a 4xx) or succeeds,
never an uncaught exception or a 500, and never loses a neighbour: the other items of the same page
still come out as records.
"""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import ConnectorError
from connectors.webhooks import parse_webhook
from social_care.accounts import build_account_connector
from social_care.config import (
    Brand,
    ConfigError,
    PolicyLinks,
    PrivateChannel,
    ReplyPolicy,
    parse_config,
)
from social_care.drafting import DraftRequest, draft_reply

from .conftest import LONG, Tally, web

EXAMPLES = 200 if LONG else 25
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Text that breaks naive code: RTL and bidi controls, zero-width, combining marks, emoji ZWJ, NUL, surrogates.
NASTY = st.sampled_from([
    "", "\x00", "\u202egnp.exe", "\u200b\u200c\u200d\ufeff", "e\u0301\u0301\u0301", "👩‍👩‍👧‍👦🏳️‍🌈",
    "مرحبا بالعالم", "\ud800" if False else "\U0010ffff", "<script>alert(1)</script>", "{{ 7*7 }}", "{% raw %}",
    "${HOME}", "%s%s%n", "a" * 100_000, "\r\n\t", "'; DROP TABLE mentions; --",
])
TEXT = st.one_of(NASTY, st.text(max_size=300), st.text(alphabet=st.characters(codec="utf-8"), max_size=50))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70) | st.floats(allow_nan=True) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
# Field names the parsers read, so the fuzz reaches past the first isinstance check.
FIELDS = ["id", "text", "message", "created_at", "created_time", "timestamp", "author_id", "from", "username",
          "caption", "comments", "parent", "media", "referenced_tweets", "in_reply_to_user_id", "permalink_url",
          "permalink", "like_count", "user", "name", "conversation_id", "entities"]


BREAKAGE = st.one_of(
    JSON.map(lambda value: ("whole", value)),  # not the item at all
    st.lists(st.tuples(st.sampled_from(FIELDS), st.booleans(), JSON), min_size=1, max_size=4).map(lambda e: ("fields", e)),
)


def break_item(item: dict[str, Any], breakage: tuple[str, Any]) -> Any:
    """A real item with some fields removed or retyped, or replaced by any JSON value."""
    kind, spec = breakage
    if kind == "whole":
        return spec
    broken = dict(item)
    for key, remove, value in spec:
        if remove:
            broken.pop(key, None)
        else:
            broken[key] = value
    return broken


class PageMutator:
    """Wraps the sandbox's dispatch: the next API page with a ``data`` list gets one item replaced."""

    def __init__(self, server: Any) -> None:
        self.pending: tuple[int, Any] | None = None
        self.neighbours: list[str] = []
        self.template: dict[str, Any] | None = None
        self._lock = threading.Lock()
        real = server.dispatch

        def dispatch(method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Any:
            response = real(method, raw_path, headers, body)
            with self._lock:
                if self.pending is None or raw_path.startswith("/_sandbox/") or response.status != 200:
                    return response
                try:
                    page = json.loads(response.body)
                except ValueError:
                    return response
                data = page.get("data") if isinstance(page, dict) else None
                if not isinstance(data, list) or len(data) < 2 or not all(isinstance(i, dict) for i in data):
                    return response
                index, value = self.pending
                index %= len(data)
                self.pending = None
                self.neighbours = [str(item["id"]) for i, item in enumerate(data) if i != index and "id" in item]
                data[index] = value(data[index]) if callable(value) else value
                return type(response)(response.status, json.dumps(page).encode(), response.headers)

        server.dispatch = dispatch


@pytest.fixture
def connectors(tmp_path, sandbox_server, sandbox_config_fn) -> dict[str, Any]:
    config = sandbox_config_fn(tmp_path, db_url=f"sqlite:///{tmp_path / 'unused.db'}", sandbox_url=sandbox_server.base_url,
                               options={"x": {"max_retries": 0}, "facebook": {"max_retries": 0},
                                        "instagram": {"max_retries": 0}})
    return {a.platform: build_account_connector(config, a) for a in config.settings.accounts}


@pytest.mark.parametrize("platform", ["x", "facebook", "instagram"])
def test_broken_items_in_a_page_are_quarantined_and_neighbours_kept(platform, connectors, sandbox_server) -> None:
    """One item of a real page replaced by garbage: a ConnectorError at worst, never another exception;
    when the page parses, every other item of it comes out as a record."""
    connector = connectors[platform]
    mutator = PageMutator(sandbox_server)
    tally = Tally(f"bad input: {platform} page items")
    streams = connector.streams()
    # Some streams' first page lists parents (posts, media) whose children are the records: a neighbour
    # counts only if a clean fetch of the same stream returns it as a record.
    clean = {stream: {r.external_id for r in connector.fetch(stream, None).records} for stream in streams}

    @SETTINGS
    @given(index=st.integers(0, 50), stream=st.sampled_from(streams), breakage=BREAKAGE)
    def check(index: int, stream: str, breakage: tuple[str, Any]) -> None:
        # Drawn here, applied in the sandbox's HTTP thread (hypothesis draws only in the test's thread).
        mutator.pending = (index, lambda item: break_item(item, breakage))
        mutator.neighbours = []
        tally.cases += 1
        try:
            result = connector.fetch(stream, None)
        except ConnectorError:
            tally.faults += 1
            return  # a clean, classified failure: the poll loop keeps the cursor and retries
        except Exception as exc:
            tally.crashes += 1
            raise AssertionError(f"{type(exc).__name__} escaped the {platform} parser: {exc}") from exc
        if mutator.neighbours:
            tally.faults += 1
            got = {r.external_id for r in result.records} | {str(q.external_id) for q in result.quarantined}
            lost = [n for n in mutator.neighbours if n in clean[stream] and n not in got]
            tally.lost += len(lost)
            assert not lost, f"neighbours lost: {lost}"

    try:
        check()
    finally:
        tally.emit()
    assert tally.faults > 0, "no page was mutated: the property did not test anything"


@pytest.mark.parametrize("value", [True, ["not-an-object"], [None]])
def test_x_referenced_tweets_of_the_wrong_type_keep_the_tweet(value, connectors, sandbox_server) -> None:
    """One tweet with a garbled referenced_tweets: its text and author are sound, so it is kept (without a
    parent link) rather than quarantined, and its neighbours are records too."""
    mutator = PageMutator(sandbox_server)
    mutator.pending = (0, lambda item: {**item, "referenced_tweets": value})
    result = connectors["x"].fetch("mentions", None)
    assert result.quarantined == []
    assert set(mutator.neighbours) <= {r.external_id for r in result.records}
    assert len(result.records) == len(mutator.neighbours) + 1


@pytest.mark.parametrize(("platform", "stream"), [("facebook", "feed"), ("instagram", "tags")])
def test_graph_item_that_is_not_an_object_is_quarantined(platform, stream, connectors, sandbox_server) -> None:
    """A null in a Graph page's data: quarantined, the rest of the page kept."""
    mutator = PageMutator(sandbox_server)
    mutator.pending = (0, None)
    result = connectors[platform].fetch(stream, None)
    assert mutator.neighbours and set(mutator.neighbours) <= {r.external_id for r in result.records}


@pytest.mark.parametrize("value", [None, ["2026"], {"t": 1}])
def test_instagram_media_timestamp_of_the_wrong_type_is_quarantined(value, connectors, sandbox_server) -> None:
    """A media with a garbled timestamp in the comments stream: a clean outcome, the other media's comments kept."""
    mutator = PageMutator(sandbox_server)
    clean = {r.external_id for r in connectors["instagram"].fetch("comments", None).records}
    mutator.pending = (0, lambda item: {**item, "timestamp": value})
    result = connectors["instagram"].fetch("comments", None)
    assert len({r.external_id for r in result.records} & clean) >= len(clean) // 2


@pytest.mark.parametrize("platform", ["facebook", "instagram"])
def test_graph_error_that_is_a_string_is_a_connector_error(platform, connectors, sandbox_server) -> None:
    """A 502 from a proxy in front of the Graph API, with a JSON body of its own, is a TransientError."""
    real = sandbox_server.dispatch
    answered: list[int] = []

    def proxy_error(method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Any:
        response = real(method, raw_path, headers, body)
        if raw_path.startswith("/_sandbox/") or answered:
            return response
        answered.append(502)
        return type(response)(502, b'{"error": "Bad Gateway"}', {"Content-Type": "application/json"})

    sandbox_server.dispatch = proxy_error
    connector = connectors[platform]
    with pytest.raises(ConnectorError):
        connector.fetch(connector.streams()[0], None)
    assert answered == [502]


@SETTINGS
@given(payload=st.one_of(JSON, st.fixed_dictionaries({"object": st.sampled_from(["page", "instagram", "user", ""]),
                                                      "entry": st.lists(JSON, max_size=3)})))
def test_webhook_payloads_parse_or_quarantine(payload: Any) -> None:
    """Arbitrary JSON as a Meta notification: records, quarantined items or nothing; never an exception."""
    if not isinstance(payload, dict):
        payload = {"object": "page", "entry": payload}
    records, quarantined, follow_ups = parse_webhook(payload)
    assert isinstance(records, list) and isinstance(quarantined, list) and isinstance(follow_ups, list)


CONFIG_KEYS = st.sampled_from(["brand", "database", "classifier", "web", "webhooks", "daemon", "reports",
                               "reply_policy", "log_level", "data_dir", "secrets_file", "sandbox", "name", "platform"])
YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(CONFIG_KEYS | TEXT, children, max_size=4),
    max_leaves=10,
)


@SETTINGS
@given(document=st.one_of(
    TEXT,
    st.dictionaries(CONFIG_KEYS, YAML_VALUES, max_size=5).map(lambda d: json.dumps(d)),
    st.builds(lambda name, accounts: json.dumps({"brand": {"name": name}, "accounts": accounts}), TEXT,
              st.lists(st.fixed_dictionaries({"name": TEXT, "platform": st.sampled_from(["x", "facebook", "instagram", "tiktok"])},
                                             optional={"enabled": YAML_VALUES, "poll_interval_seconds": YAML_VALUES,
                                                       "options": st.dictionaries(TEXT, YAML_VALUES, max_size=3)}),
                       max_size=3)),
))
def test_config_loader_raises_config_error_or_loads(document: str) -> None:
    """Any YAML text: a Config, or a ConfigError (with a message), nothing else."""
    try:
        parse_config(document, environ={})
    except ConfigError as exc:
        assert str(exc)


@pytest.mark.parametrize("document", ['{"accounts": 1}', "accounts: '08'",
                                      '{"brand": {"name": "A"}, "accounts": [{"name": "a", "platform": []}]}'])
def test_config_with_wrongly_typed_accounts_is_a_config_error(document: str) -> None:
    """A wrongly typed accounts section is a ConfigError, not a TypeError."""
    with pytest.raises(ConfigError):
        parse_config(document, environ={})


BRAND = Brand(name="Loja Aurora", handles={"x": "lojaaurora"}, languages=["pt", "en", "es"], default_language="pt",
              policy_links=PolicyLinks(returns="https://loja.example/trocas"),
              private_channel=PrivateChannel(direct_message=True, email="sac@loja.example"))


@SETTINGS
@given(text=TEXT, handle=st.one_of(st.none(), TEXT), name=st.one_of(st.none(), TEXT),
       platform=st.sampled_from(["x", "facebook", "instagram"]), language=st.sampled_from(["pt", "en", "es", "other", ""]),
       intent=st.sampled_from(["complaint", "question", "praise", "other", "??"]),
       categories=st.lists(st.sampled_from(["delivery", "wrong_item", "refund_return", "nonsense"]), max_size=3),
       severity=st.integers(-5, 99))
def test_draft_reply_on_arbitrary_mentions(text, handle, name, platform, language, intent, categories, severity) -> None:
    """Any text, handle and name: a non-empty draft that never echoes a template instruction or the raw text."""
    request = DraftRequest(platform=platform, text=text, language=language, author_handle=handle, author_name=name,
                           intent=intent, sentiment="negative", complaint=intent == "complaint",
                           categories=tuple(categories), severity=severity, remedy_due=True)
    draft = draft_reply(request, brand=BRAND, policy=ReplyPolicy())
    assert draft.text.strip()
    assert "{{" not in draft.text and "{%" not in draft.text
    assert "\x00" not in draft.text
    if len(text) > 50:
        assert text not in draft.text  # the mention is never pasted into the reply


def test_web_forms_with_arbitrary_input(web_core, web_app, as_user) -> None:
    """Edit, approve, reject and log-in with nasty Unicode, huge texts, wrong types and missing fields: no 500."""
    agent, approver = as_user("alex"), as_user("paula")
    drafts = [web.insert_draft(web_core.engine, n) for n in range(1, 4)]
    tally = Tally("bad input: web forms")
    statuses: dict[int, int] = {}

    @SETTINGS
    @given(value=TEXT, field=st.sampled_from(["text", "reason", "override", "csrf_token", "bogus"]),
           action=st.sampled_from(["edit", "approve", "reject"]), target=st.sampled_from(drafts + [0, -1]),
           login_name=TEXT, login_password=TEXT)
    def check(value: str, field: str, action: str, target: int, login_name: str, login_password: str) -> None:
        browser = agent if action == "edit" else approver
        url = f"/drafts/{target}/{action}"
        for data in ({field: value}, {}, {field: [value, value]}):
            response = browser.client.post(url, data=data, headers={"HX-Request": "true", "X-CSRF-Token": browser.csrf},
                                           follow_redirects=False)
            tally.cases += 1
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            tally.crashes += response.status_code >= 500
            assert response.status_code < 500, (url, data and repr(value)[:80], response.status_code)
        # Wrong types: a JSON body where a form is expected, a non-numeric id.
        for response in (browser.client.post(url, json={"text": value}, headers={"X-CSRF-Token": browser.csrf}),
                         browser.client.post(f"/drafts/{quote(value[:30], safe='') or 'x'}/approve", headers={"X-CSRF-Token": browser.csrf})):
            tally.cases += 1
            tally.crashes += response.status_code >= 500
            assert response.status_code < 500
        anonymous = web.Browser(web_app and __import__("fastapi.testclient", fromlist=["TestClient"]).TestClient(
            web_app, raise_server_exceptions=False))
        response = anonymous.login(login_name, login_password)
        tally.cases += 1
        tally.crashes += response.status_code >= 500
        assert response.status_code in (303, 400, 401, 422, 429), response.status_code

    try:
        check()
    finally:
        tally.faults = tally.cases  # every request carried bad input
        tally.emit()
        print(f"  status codes: {dict(sorted(statuses.items()))}")
    # The neighbours of every refused form are intact: each draft is in a valid state.
    for draft in drafts:
        assert web.draft_state(web_core.engine, draft).state.value in ("drafted", "approved", "rejected")
