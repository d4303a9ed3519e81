"""X (Twitter) connector: the brand's mention timeline and a recent-search stream, via tweepy.

tweepy's ``Client`` always calls ``https://api.twitter.com``; a ``requests`` adapter on its
session sends those calls to ``base_url`` when one is configured (the sandbox, a proxy).
X bills reads, so the connector can hold a daily read budget, carried in the cursors.
"""

from __future__ import annotations

import functools
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import tweepy

from connectors.base import (
    AccountInfo,
    AuthError,
    Author,
    BudgetExhausted,
    FetchResult,
    MentionRecord,
    PermanentError,
    PostedReply,
    QuarantinedItem,
    RateLimited,
    TransientError,
)
from connectors.http import (
    RetryPolicy,
    Sleep,
    call_with_retries,
    is_transport_error,
    mount_base_url,
)
from connectors.times import next_utc_midnight, parse_x_time, utc_now

PLATFORM = "x"
SECRET_NAMES = (
    "bearer_token",
    "consumer_key",
    "consumer_secret",
    "access_token",
    "access_token_secret",
)
STREAMS = ("mentions", "search")
X_HOST = "https://api.twitter.com"
MAX_QUERY_LENGTH = 512
# Without x-rate-limit-reset, wait one full rate-limit window.
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=15)
MIN_RATE_LIMIT_WAIT = timedelta(seconds=15)
# Recent search reaches back seven days; stay a little inside that.
SEARCH_WINDOW = timedelta(days=7) - timedelta(minutes=5)
TWITTER_EPOCH_MS = 1288834974657

TWEET_FIELDS = [
    "author_id",
    "created_at",
    "conversation_id",
    "lang",
    "referenced_tweets",
    "in_reply_to_user_id",
]
USER_FIELDS = ["username", "name", "public_metrics"]
EXPANSIONS = ["author_id", "referenced_tweets.id"]
_AUTH_PROBLEMS = ("unsupported-authentication", "client-forbidden", "not-authorized-for-resource")
_UNDETERMINED_LANGUAGES = {"und", "qme", "qht", "qam", "qct", "zxx", "art"}


@dataclass(frozen=True)
class XOptions:
    """Non-secret settings of one X account."""

    user_id: str
    """Numeric id of the brand's X account; its mention timeline is read."""
    handle: str = ""
    """The account's username without ``@``; the search excludes its own posts."""
    keywords: list[str] = field(default_factory=list)
    """Words or phrases that mean the brand (e.g. ``Loja Aurora``), for the search stream."""
    hashtags: list[str] = field(default_factory=list)
    """Hashtags (with or without ``#``) that mean the brand, for the search stream."""
    streams: list[str] = field(default_factory=lambda: ["mentions"])
    """What to poll: ``mentions`` and/or ``search`` (recent search over the last 7 days)."""
    daily_read_budget: int = 0
    """Most read requests per UTC day across all streams of this account; 0 means no budget."""
    page_size: int = 100
    """Tweets per request: 5-100 for mentions, 10-100 for search (clamped)."""
    max_pages_per_poll: int = 3
    """Pages one poll reads before it stops and resumes on the next poll."""
    lookback_days: int = 7
    """How far back the first sync reads (search is limited to the last seven days anyway)."""
    timeout: float = 10.0
    """Seconds before an HTTP request is abandoned (a transient error)."""
    max_retries: int = 2
    """Quick in-call retries of a transient failure before it is reported."""

    def __post_init__(self) -> None:
        unknown = set(self.streams) - set(STREAMS)
        if unknown:
            raise ValueError(f"unknown X streams {sorted(unknown)}; choose from {list(STREAMS)}")
        if "search" in self.streams and not build_search_query(self):
            raise ValueError("the X search stream needs a handle, keywords or hashtags")
        if self.daily_read_budget < 0:
            raise ValueError("daily_read_budget must be 0 (no budget) or positive")


def build_search_query(options: XOptions) -> str:
    """``(kw OR "two words" OR #tag OR @handle) -is:retweet -from:handle``, at most 512 chars.

    Terms that do not fit are left out (the first ones are kept)."""
    handle = options.handle.lstrip("@")
    terms: list[str] = []
    for keyword in options.keywords:
        cleaned = keyword.replace('"', "").strip()
        if cleaned:
            terms.append(f'"{cleaned}"' if re.search(r"\s", cleaned) else cleaned)
    terms += ["#" + tag.lstrip("#") for tag in options.hashtags if tag.strip("# ")]
    if handle:
        terms.append("@" + handle)
    terms = list(dict.fromkeys(terms))
    suffix = " -is:retweet" + (f" -from:{handle}" if handle else "")
    chosen: list[str] = []
    for term in terms:
        candidate = "(" + " OR ".join([*chosen, term]) + ")" + suffix
        if len(candidate) > MAX_QUERY_LENGTH:
            break
        chosen.append(term)
    if not chosen:
        return ""
    return "(" + " OR ".join(chosen) + ")" + suffix


@dataclass
class _Cursor:
    since_id: str | None = None
    pending: dict[str, Any] | None = None  # {"until_id", "newest_id"} while a backfill runs
    budget_day: str | None = None
    budget_reads: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> _Cursor:
        data = data or {}
        budget = data.get("budget") or {}
        return cls(
            since_id=str(data["since_id"]) if data.get("since_id") else None,
            pending=dict(data["pending"]) if data.get("pending") else None,
            budget_day=budget.get("day"),
            budget_reads=int(budget.get("reads", 0)),
        )


class XConnector:
    """One X account: mentions, brand search, replies."""

    platform = PLATFORM

    def __init__(
        self,
        options: XOptions,
        secrets: dict[str, str],
        base_url: str | None = None,
        *,
        sleep: Sleep = time.sleep,
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        has_oauth1 = all(
            secrets.get(k)
            for k in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
        )
        if not has_oauth1 and not secrets.get("bearer_token"):
            raise ValueError("X needs a bearer_token or the four OAuth 1.0a keys")
        self.options = options
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()
        self.retry_policy = RetryPolicy(attempts=options.max_retries + 1)
        self.client = tweepy.Client(
            bearer_token=secrets.get("bearer_token") or None,
            consumer_key=secrets.get("consumer_key") or None,
            consumer_secret=secrets.get("consumer_secret") or None,
            access_token=secrets.get("access_token") or None,
            access_token_secret=secrets.get("access_token_secret") or None,
            return_type=dict,
            wait_on_rate_limit=False,
        )
        mount_base_url(self.client.session, X_HOST, base_url, options.timeout)
        # Reads use the bearer token when there is one; the user context (OAuth 1.0a, or the
        # bearer token when it is an OAuth 2 user token) identifies the account and posts.
        self._read_user_auth = not secrets.get("bearer_token")
        self._write_user_auth = has_oauth1
        self.search_query = build_search_query(options)
        self._reads_day: str | None = None
        self._reads_today = 0
        self._budget_lock = threading.Lock()
        self._local = threading.local()  # reads of the fetch running on this thread

    def streams(self) -> list[str]:
        return list(self.options.streams)

    # Budget ------------------------------------------------------------------------------

    def _restore_budget(self, cursor: _Cursor) -> str:
        today = self.clock().date().isoformat()
        with self._budget_lock:
            if self._reads_day != today:
                self._reads_day, self._reads_today = today, 0
            if cursor.budget_day == today:
                # Each stream's cursor carries the account-wide count when it was saved.
                self._reads_today = max(self._reads_today, cursor.budget_reads)
        return today

    def _budget_left(self) -> int | None:
        if not self.options.daily_read_budget:
            return None
        return self.options.daily_read_budget - self._reads_today

    def _budget_exhausted(self) -> BudgetExhausted:
        return BudgetExhausted(
            f"the X daily read budget of {self.options.daily_read_budget} requests is spent",
            next_utc_midnight(self.clock()),
        )

    # Calls -------------------------------------------------------------------------------

    def _read(self, call: Callable[[], Any]) -> Any:
        """One read with bounded retries; every attempt counts against the budget."""

        def attempt() -> Any:
            with self._budget_lock:
                left = self._budget_left()
                if left is not None and left <= 0:
                    raise self._budget_exhausted()
                self._reads_today += 1
            self._local.reads = getattr(self._local, "reads", 0) + 1
            return self._classified(call)

        return call_with_retries(attempt, policy=self.retry_policy, sleep=self.sleep, rng=self.rng)

    def _classified(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except tweepy.TooManyRequests as error:
            reset = error.reset_time
            now = self.clock()
            reset_at = (
                datetime.fromtimestamp(reset, now.tzinfo)
                if reset
                else now + DEFAULT_RATE_LIMIT_WAIT
            )
            # A reset already in the past would make the scheduler retry at once, in a loop.
            reset_at = max(reset_at, now + MIN_RATE_LIMIT_WAIT)
            raise RateLimited(f"X rate limit: {error}", reset_at) from error
        except tweepy.Unauthorized as error:
            raise AuthError(
                f"X rejected the credentials (401): re-authenticate the account. {error}"
            ) from error
        except tweepy.Forbidden as error:
            problem = _problem_type(error.response)
            if any(marker in problem for marker in _AUTH_PROBLEMS):
                raise AuthError(
                    f"X refused these credentials for this call (403): {error}"
                ) from error
            raise PermanentError(f"X refused the request (403): {error}") from error
        except tweepy.TwitterServerError as error:
            raise TransientError(f"X server error: {error}") from error
        except tweepy.HTTPException as error:
            raise PermanentError(f"X rejected the request: {error}") from error
        except ValueError as error:  # JSONDecodeError: a truncated or garbled body
            raise TransientError(f"X answered malformed JSON: {error}") from error
        except requests.RequestException as error:
            if is_transport_error(error):
                raise TransientError(f"X request failed: {error}") from error
            raise PermanentError(f"X request could not be made: {error}") from error
        except tweepy.TweepyException as error:
            raise PermanentError(f"X client error: {error}") from error

    # Contract ----------------------------------------------------------------------------

    def check_credentials(self) -> AccountInfo:
        body = self._classified(
            lambda: self.client.get_me(
                user_auth=self._write_user_auth, user_fields=["username", "name"]
            )
        )
        data = body.get("data") or {}
        if str(data.get("id")) != self.options.user_id:
            raise AuthError(
                f"the X credentials belong to user {data.get('id')}, not {self.options.user_id}"
            )
        return AccountInfo(str(data["id"]), data.get("username"), data.get("name"))

    def fetch(self, stream: str, cursor: dict[str, Any] | None) -> FetchResult:
        if stream not in STREAMS:
            raise PermanentError(f"X has no stream {stream!r}")
        state = _Cursor.from_json(cursor)
        today = self._restore_budget(state)
        left = self._budget_left()
        if left is not None and left <= 0:
            raise self._budget_exhausted()
        self._local.reads = 0
        records, quarantined, since_id, pending = self._paginate(stream, state)
        next_cursor = {
            "since_id": since_id,
            "pending": pending,
            "budget": {"day": today, "reads": self._reads_today},
        }
        return FetchResult(records, quarantined, next_cursor, self._local.reads)

    def _paginate(
        self, stream: str, state: _Cursor
    ) -> tuple[list[MentionRecord], list[QuarantinedItem], str | None, dict[str, Any] | None]:
        """Newest-first pages; the high-water mark moves only once the pagination is complete."""
        options = self.options
        params: dict[str, Any] = {
            "expansions": EXPANSIONS,
            "tweet_fields": TWEET_FIELDS,
            "user_fields": USER_FIELDS,
            "max_results": min(100, max(options.page_size, 5 if stream == "mentions" else 10)),
        }
        now = self.clock()
        lookback_start = now - timedelta(days=options.lookback_days)
        if stream == "search":
            # Recent search covers seven days and rejects a since_id or start_time before that.
            lookback_start = max(lookback_start, now - SEARCH_WINDOW)
        if state.since_id and (
            stream != "search" or snowflake_time(state.since_id) > lookback_start
        ):
            params["since_id"] = state.since_id
        else:
            params["start_time"] = lookback_start
        pending = state.pending
        if pending:
            params["until_id"] = pending["until_id"]
        newest_id = int(pending["newest_id"]) if pending and pending.get("newest_id") else None
        oldest_id: int | None = None
        records: list[MentionRecord] = []
        quarantined: list[QuarantinedItem] = []
        seen: set[str] = set()
        token: str | None = None
        more = False
        for page_number in range(options.max_pages_per_poll):
            left = self._budget_left()
            if page_number > 0 and left is not None and left <= 0:
                break  # keep what this poll read; the next poll reports the exhausted budget
            request = dict(params)
            token_name = "pagination_token" if stream == "mentions" else "next_token"
            if token:
                request[token_name] = token
            body = self._read(functools.partial(self._call_stream, stream, request))
            meta = body.get("meta") or {}
            page_records, page_quarantined = self._parse_page(body, stream)
            for record in page_records:
                if record.external_id not in seen:
                    seen.add(record.external_id)
                    records.append(record)
            quarantined += page_quarantined
            for key in ("newest_id", "oldest_id"):
                value = meta.get(key)
                if isinstance(value, str) and value.isdigit():
                    newest_id = max(newest_id or 0, int(value))
                    oldest_id = int(value) if oldest_id is None else min(oldest_id, int(value))
            token = meta.get("next_token")
            more = bool(token)
            if not more:
                break
        if more and oldest_id is not None:
            return (
                records,
                quarantined,
                state.since_id,
                {"until_id": str(oldest_id), "newest_id": str(newest_id)},
            )
        if newest_id is not None and (state.since_id is None or newest_id > int(state.since_id)):
            return records, quarantined, str(newest_id), None
        return records, quarantined, state.since_id, None

    def _call_stream(self, stream: str, params: dict[str, Any]) -> Any:
        if stream == "mentions":
            return self.client.get_users_mentions(
                self.options.user_id, user_auth=self._read_user_auth, **params
            )
        return self.client.search_recent_tweets(
            self.search_query, user_auth=self._read_user_auth, **params
        )

    # Parsing -----------------------------------------------------------------------------

    def _parse_page(
        self, body: dict[str, Any], stream: str
    ) -> tuple[list[MentionRecord], list[QuarantinedItem]]:
        users = {
            str(u["id"]): u
            for u in (body.get("includes") or {}).get("users", [])
            if isinstance(u, dict) and u.get("id")
        }
        records: list[MentionRecord] = []
        quarantined: list[QuarantinedItem] = []
        for item in body.get("data") or []:
            record = self._parse_tweet(item, users, stream)
            if isinstance(record, QuarantinedItem):
                quarantined.append(record)
            else:
                records.append(record)
        return records, quarantined

    def _parse_tweet(
        self, item: Any, users: dict[str, dict[str, Any]], stream: str
    ) -> MentionRecord | QuarantinedItem:
        if (
            not isinstance(item, dict)
            or not item.get("id")
            or not isinstance(item.get("text"), str)
        ):
            tweet_id = item.get("id") if isinstance(item, dict) else None
            return QuarantinedItem(
                PLATFORM,
                stream,
                "tweet without id or text",
                item,
                str(tweet_id) if tweet_id else None,
            )
        try:
            created = parse_x_time(item["created_at"])
        except (KeyError, TypeError, ValueError, AttributeError):
            return QuarantinedItem(
                PLATFORM, stream, "tweet without a valid created_at", item, str(item["id"])
            )
        tweet_id = str(item["id"])
        author_id = str(item.get("author_id") or "")
        user = users.get(author_id, {})
        username = user.get("username")
        followers = (user.get("public_metrics") or {}).get("followers_count")
        references = item.get("referenced_tweets")
        replied_to = next(
            (
                str(r["id"])
                for r in (references if isinstance(references, list) else [])
                if isinstance(r, dict) and r.get("type") == "replied_to" and r.get("id")
            ),
            None,
        )
        lang = item.get("lang")
        return MentionRecord(
            platform=PLATFORM,
            external_id=tweet_id,
            stream=stream,
            text=item["text"],
            created_at=created,
            author=Author(author_id or "unknown", username, user.get("name"), followers),
            reply_ref={"tweet_id": tweet_id, "author_handle": username},
            parent_external_id=replied_to,
            thread_external_id=str(item.get("conversation_id") or tweet_id),
            permalink=f"https://x.com/{username or 'i/web'}/status/{tweet_id}",
            lang_hint=lang if lang and lang not in _UNDETERMINED_LANGUAGES else None,
            is_own=author_id == self.options.user_id,
            raw={"tweet": item, "author": user or None},
        )

    # Replies -----------------------------------------------------------------------------

    def post_reply(self, reply_ref: dict[str, Any], text: str) -> PostedReply:
        """Post once, never retried here: a retried write could publish twice. The caller
        reconciles an uncertain outcome with :meth:`find_reply`."""
        tweet_id = reply_ref.get("tweet_id")
        if not tweet_id:
            raise PermanentError(f"this reply reference has no tweet id: {reply_ref}")
        body = self._classified(
            lambda: self.client.create_tweet(
                text=text, in_reply_to_tweet_id=str(tweet_id), user_auth=self._write_user_auth
            )
        )
        data = body.get("data") or {}
        if not data.get("id"):
            raise PermanentError(f"X accepted the reply but returned no id: {body}")
        handle = self.options.handle or "i/web"
        return PostedReply(str(data["id"]), f"https://x.com/{handle}/status/{data['id']}")

    def find_reply(self, reply_ref: dict[str, Any], text: str) -> PostedReply | None:
        """Look through the brand's own tweets newer than the mention for a reply to it with
        the same text (leading @mentions aside)."""
        tweet_id = str(reply_ref.get("tweet_id") or "")
        if not tweet_id.isdigit():
            return None
        wanted = _without_leading_mentions(text)
        token: str | None = None
        for _ in range(self.options.max_pages_per_poll):
            params: dict[str, Any] = {
                "since_id": tweet_id,
                "max_results": 100,
                "tweet_fields": ["referenced_tweets", "created_at"],
            }
            if token:
                params["pagination_token"] = token
            body = self._read(
                functools.partial(
                    self.client.get_users_tweets,
                    self.options.user_id,
                    user_auth=self._read_user_auth,
                    **params,
                )
            )
            for item in body.get("data") or []:
                replies_to = {
                    str(r.get("id"))
                    for r in item.get("referenced_tweets") or []
                    if r.get("type") == "replied_to"
                }
                if (
                    tweet_id in replies_to
                    and _without_leading_mentions(str(item.get("text", ""))) == wanted
                ):
                    handle = self.options.handle or "i/web"
                    return PostedReply(
                        str(item["id"]), f"https://x.com/{handle}/status/{item['id']}"
                    )
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                return None
        return None


def snowflake_time(tweet_id: str) -> datetime:
    """When a tweet id was minted (X ids are snowflakes: milliseconds since 2010-11-04)."""
    milliseconds = (int(tweet_id) >> 22) + TWITTER_EPOCH_MS
    return datetime.fromtimestamp(milliseconds / 1000, UTC)


def _without_leading_mentions(text: str) -> str:
    return re.sub(r"^(\s*@\w+)+\s*", "", text).strip()


def _problem_type(response: requests.Response | None) -> str:
    if response is None:
        return ""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("type", "")) if isinstance(body, dict) else ""
