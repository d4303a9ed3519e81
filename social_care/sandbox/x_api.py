"""The fake X API v2: users/me, mention timeline, user timeline, recent search, create tweet.

Wire formats follow docs.x.com and tweepy's recorded cassettes: string ids, ``created_at`` with
milliseconds, ``edit_history_tweet_ids``, ``meta`` with ``next_token``, problem-details errors,
and ``x-rate-limit-*`` headers on every response, 429 included.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from social_care.sandbox import accounts
from social_care.sandbox.faults import Fault
from social_care.sandbox.responses import ApiResponse, json_response
from social_care.sandbox.state import TWITTER_EPOCH_MS, SandboxState, Tweet, XUser
from social_care.sandbox.x_query import QuerySyntaxError, compile_query

WINDOW_SECONDS = 15 * 60
# Requests per 15-minute window, (app-only, user context), per docs.x.com.
ROUTE_LIMITS = {
    "users_me": (75, 75),
    "mentions": (450, 300),
    "user_tweets": (1500, 900),
    "search": (450, 300),
    "create_tweet": (100, 100),
}
SEARCH_WINDOW = timedelta(days=7)
MAX_TWEET_LENGTH = 280  # plain characters; the sandbox does not weigh URLs or emoji like X does


def format_x_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def tweet_time(tweet_id: str) -> datetime:
    """When a tweet id was minted (snowflake ids carry milliseconds since X's epoch)."""
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + TWITTER_EPOCH_MS) / 1000, UTC)


def problem(
    status: int, title: str, detail: str, problem_type: str = "about:blank"
) -> dict[str, Any]:
    return {"title": title, "type": problem_type, "status": status, "detail": detail}


def invalid_request(parameter: str, value: str, message: str) -> dict[str, Any]:
    return {
        "errors": [{"parameters": {parameter: [value]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }


UNAUTHORIZED = problem(401, "Unauthorized", "Unauthorized")


@dataclass
class _Window:
    started: float
    used: int = 0


class RateWindows:
    """Per-route, per-principal 15-minute request windows, as the x-rate-limit-* headers report."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], _Window] = {}
        # Multiplies every documented limit; benchmarks that measure social-care rather than
        # X's quota raise it (the headers then report the raised limit).
        self.limit_scale = 1

    def spend(self, route: str, principal: str) -> tuple[dict[str, str], bool]:
        """Count one request; return the headers and whether it is over the limit."""
        limit = ROUTE_LIMITS[route][0 if principal == "app" else 1] * self.limit_scale
        now = self._clock().timestamp()
        with self._lock:
            window = self._windows.get((route, principal))
            if window is None or now >= window.started + WINDOW_SECONDS:
                window = self._windows[(route, principal)] = _Window(now)
            over = window.used >= limit
            if not over:
                window.used += 1
            remaining = max(limit - window.used, 0)
            reset = int(window.started + WINDOW_SECONDS)
        return rate_headers(limit, remaining, reset), over


def rate_headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(reset),
    }


def _encode_token(tweet_id: str) -> str:
    return base64.b32encode(f"older:{tweet_id}".encode()).decode().rstrip("=").lower()


def _decode_token(token: str) -> str | None:
    try:
        padded = token.upper() + "=" * (-len(token) % 8)
        kind, _, tweet_id = base64.b32decode(padded).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return tweet_id if kind == "older" and tweet_id.isdigit() else None


class XApi:
    """Routes X API v2 requests against the shared state."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.windows = RateWindows(state.clock)

    # Authentication ----------------------------------------------------------------------

    @staticmethod
    def principal(headers: dict[str, str]) -> str | None:
        """``"app"``, ``"user"``, or ``None`` when the credentials are not the sandbox's."""
        authorization = headers.get("authorization", "")
        if authorization.startswith("Bearer "):
            token = authorization[len("Bearer ") :]
            if token == accounts.X_APP_BEARER_TOKEN:
                return "app"
            if token == accounts.X_USER_BEARER_TOKEN:
                return "user"
            return None
        if authorization.startswith("OAuth "):
            # Signatures are computed for api.twitter.com; only the keys are checked here.
            fields = dict(re.findall(r'(\w+)="([^"]*)"', authorization))
            if (
                unquote(fields.get("oauth_consumer_key", "")) == accounts.X_CONSUMER_KEY
                and unquote(fields.get("oauth_token", "")) == accounts.X_ACCESS_TOKEN
            ):
                return "user"
        return None

    def route_of(self, method: str, path: str) -> tuple[str, dict[str, str]] | None:
        if method == "GET" and path == "/2/users/me":
            return "users_me", {}
        if method == "GET" and (match := re.fullmatch(r"/2/users/(\d+)/mentions", path)):
            return "mentions", {"user_id": match.group(1)}
        if method == "GET" and (match := re.fullmatch(r"/2/users/(\d+)/tweets", path)):
            return "user_tweets", {"user_id": match.group(1)}
        if method == "GET" and path == "/2/tweets/search/recent":
            return "search", {}
        if method == "POST" and path == "/2/tweets":
            return "create_tweet", {}
        return None

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
        fault: Fault | None,
    ) -> ApiResponse:
        route = self.route_of(method, path)
        if route is None:
            return json_response(
                404,
                problem(
                    404,
                    "Not Found Error",
                    f"Sorry, that page does not exist: {method} {path}",
                    "https://api.twitter.com/2/problems/resource-not-found",
                ),
            )
        name, path_params = route
        principal = self.principal(headers)
        if principal is None:
            limits = rate_headers(ROUTE_LIMITS[name][0], ROUTE_LIMITS[name][0], self._next_reset())
            return json_response(401, UNAUTHORIZED, limits)
        limit_headers, over = self.windows.spend(name, principal)
        if fault is not None and fault.kind == "expired_token":
            return json_response(401, UNAUTHORIZED, limit_headers)
        if fault is not None and fault.kind == "rate_limit":
            reset = int(self.state.clock().timestamp() + fault.reset_in)
            limit = limit_headers["x-rate-limit-limit"]
            return json_response(
                429,
                problem(429, "Too Many Requests", "Too Many Requests"),
                rate_headers(int(limit), 0, reset),
            )
        if over:
            return json_response(
                429, problem(429, "Too Many Requests", "Too Many Requests"), limit_headers
            )
        if name in ("users_me", "create_tweet") and principal != "user":
            return json_response(
                403,
                problem(
                    403,
                    "Unsupported Authentication",
                    "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint. "
                    "Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
                    "https://api.twitter.com/2/problems/unsupported-authentication",
                ),
                limit_headers,
            )
        handler = getattr(self, "_" + name)
        status, payload = handler(query, body, **path_params)
        return json_response(status, payload, limit_headers)

    def _next_reset(self) -> int:
        return int(self.state.clock().timestamp() + WINDOW_SECONDS)

    # Routes ------------------------------------------------------------------------------

    def _users_me(self, query: dict[str, str], body: bytes) -> tuple[int, Any]:
        brand = self.state.x_users[accounts.X_USER_ID]
        return 200, {"data": self._render_user(brand, _csv(query.get("user.fields")))}

    def _mentions(self, query: dict[str, str], body: bytes, user_id: str) -> tuple[int, Any]:
        if user_id not in self.state.x_users:
            return 404, problem(
                404,
                "Not Found Error",
                f"Could not find user with id: [{user_id}].",
                "https://api.twitter.com/2/problems/resource-not-found",
            )
        return self._timeline(self.state.mentions_of(user_id), query, (5, 100), "pagination_token")

    def _user_tweets(self, query: dict[str, str], body: bytes, user_id: str) -> tuple[int, Any]:
        return self._timeline(self.state.tweets_by(user_id), query, (5, 100), "pagination_token")

    def _search(self, query: dict[str, str], body: bytes) -> tuple[int, Any]:
        text = query.get("query", "")
        if not text:
            return 400, invalid_request("query", "", "The `query` query parameter can not be empty")
        if len(text) > 512:
            return 400, invalid_request(
                "query", text, f"The `query` query parameter value is too long: {len(text)} > 512"
            )
        try:
            predicate = compile_query(text, self.state.x_users)
        except QuerySyntaxError as error:
            return 400, invalid_request(
                "query", text, f"There were errors processing your request: {error}"
            )
        oldest = self.state.clock() - SEARCH_WINDOW
        since_id = query.get("since_id", "")
        if since_id.isdigit() and tweet_time(since_id) < oldest:
            return 400, invalid_request(
                "since_id",
                since_id,
                f"Invalid 'since_id':'{since_id}'. 'since_id' must be a tweet id created after "
                f"{format_x_time(oldest)}.",
            )
        start_time = _parse_x_bound(query.get("start_time"))
        if start_time is not None and start_time < oldest:
            return 400, invalid_request(
                "start_time",
                query["start_time"],
                f"Invalid 'start_time':'{query['start_time']}'. 'start_time' must be on or after "
                f"{format_x_time(oldest)}",
            )
        tweets = [t for t in self.state.matching_tweets(text, predicate) if t.created_at >= oldest]
        return self._timeline(tweets, query, (10, 100), "next_token")

    def _create_tweet(self, query: dict[str, str], body: bytes) -> tuple[int, Any]:
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return 400, problem(400, "Invalid Request", "The request body is not valid JSON.")
        text = request.get("text")
        if not isinstance(text, str) or not text.strip():
            return 400, invalid_request("text", str(text), "The `text` field is required")
        if len(text) > MAX_TWEET_LENGTH:
            return 403, problem(
                403,
                "Forbidden",
                "Your Tweet text is too long. For more information on how Twitter determines text "
                "length, see https://github.com/twitter/twitter-text.",
            )
        reply_to = (request.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to is not None and reply_to not in self.state.tweets:
            return 403, problem(
                403,
                "Forbidden",
                "You attempted to reply to a Tweet that is deleted or not visible to you.",
            )
        with self.state.lock:
            if any(t.text == text for t in self.state.tweets_by(accounts.X_USER_ID)):
                return 403, problem(
                    403,
                    "Forbidden",
                    "You are not allowed to create a Tweet with duplicate content.",
                )
            tweet = self.state.add_tweet(accounts.X_USER_ID, text, in_reply_to=reply_to)
        return 201, {
            "data": {"id": tweet.id, "text": tweet.text, "edit_history_tweet_ids": [tweet.id]}
        }

    # Rendering ---------------------------------------------------------------------------

    def _timeline(
        self,
        tweets: list[Tweet],
        query: dict[str, str],
        bounds: tuple[int, int],
        token_parameter: str,
    ) -> tuple[int, Any]:
        raw_max = query.get("max_results", "10")
        low, high = bounds
        if not raw_max.isdigit() or not low <= int(raw_max) <= high:
            return 400, invalid_request(
                "max_results",
                raw_max,
                f"The `max_results` query parameter value [{raw_max}] is not between {low} and {high}",
            )
        for parameter in ("since_id", "until_id"):
            value = query.get(parameter)
            if value is not None and not value.isdigit():
                return 400, invalid_request(
                    parameter,
                    value,
                    f"The `{parameter}` query parameter value [{value}] is not valid",
                )
        since_id = int(query.get("since_id", "0"))
        until_id = int(query["until_id"]) if "until_id" in query else None
        token = query.get(token_parameter)
        older_than = None
        if token is not None:
            older_than = _decode_token(token)
            if older_than is None:
                return 400, invalid_request(
                    token_parameter,
                    token,
                    f"The `{token_parameter}` query parameter value [{token}] is not valid",
                )
        start_time = _parse_x_bound(query.get("start_time"))
        end_time = _parse_x_bound(query.get("end_time"))
        wanted = int(raw_max)
        # One past the page tells whether a next page exists; stop there (tweets are newest
        # first, and since_id is a lower bound, so nothing after the first older id matches).
        selected: list[Tweet] = []
        for t in tweets:
            number = int(t.id)
            if number <= since_id:
                break
            if (
                (start_time is None or t.created_at >= start_time)
                and (end_time is None or t.created_at <= end_time)
                and (until_id is None or number < until_id)
                and (older_than is None or number < int(older_than))
            ):
                selected.append(t)
                if len(selected) > wanted:
                    break
        page = selected[:wanted]
        if not page:
            return 200, {"meta": {"result_count": 0}}
        tweet_fields = _csv(query.get("tweet.fields"))
        user_fields = _csv(query.get("user.fields"))
        expansions = _csv(query.get("expansions"))
        payload: dict[str, Any] = {"data": [self._render_tweet(t, tweet_fields) for t in page]}
        includes: dict[str, Any] = {}
        if "author_id" in expansions:
            author_ids = list(dict.fromkeys(t.author_id for t in page))
            includes["users"] = [
                self._render_user(self.state.x_users[a], user_fields)
                for a in author_ids
                if a in self.state.x_users
            ]
        if "referenced_tweets.id" in expansions:
            referenced = [
                self.state.tweets[r]
                for t in page
                for r in (t.in_reply_to_tweet_id, t.retweet_of)
                if r and r in self.state.tweets
            ]
            if referenced:
                unique = {t.id: t for t in referenced}
                includes["tweets"] = [self._render_tweet(t, tweet_fields) for t in unique.values()]
        if includes:
            payload["includes"] = includes
        meta: dict[str, Any] = {
            "newest_id": page[0].id,
            "oldest_id": page[-1].id,
            "result_count": len(page),
        }
        if len(selected) > len(page):
            meta["next_token"] = _encode_token(page[-1].id)
        payload["meta"] = meta
        return 200, payload

    def _render_tweet(self, tweet: Tweet, fields: set[str]) -> dict[str, Any]:
        rendered: dict[str, Any] = {
            "id": tweet.id,
            "text": tweet.text,
            "edit_history_tweet_ids": [tweet.id],
        }
        if "author_id" in fields:
            rendered["author_id"] = tweet.author_id
        if "created_at" in fields:
            rendered["created_at"] = format_x_time(tweet.created_at)
        if "conversation_id" in fields:
            rendered["conversation_id"] = tweet.conversation_id
        if "lang" in fields:
            rendered["lang"] = tweet.lang
        if "in_reply_to_user_id" in fields and tweet.in_reply_to_user_id:
            rendered["in_reply_to_user_id"] = tweet.in_reply_to_user_id
        if "referenced_tweets" in fields:
            references = []
            if tweet.in_reply_to_tweet_id:
                references.append({"type": "replied_to", "id": tweet.in_reply_to_tweet_id})
            if tweet.retweet_of:
                references.append({"type": "retweeted", "id": tweet.retweet_of})
            if references:
                rendered["referenced_tweets"] = references
        if "public_metrics" in fields:
            rendered["public_metrics"] = {
                "retweet_count": 0,
                "reply_count": 0,
                "like_count": 0,
                "quote_count": 0,
                "bookmark_count": 0,
                "impression_count": 0,
            }
        return rendered

    @staticmethod
    def _render_user(user: XUser, fields: set[str]) -> dict[str, Any]:
        rendered: dict[str, Any] = {"id": user.id, "name": user.name, "username": user.username}
        if "public_metrics" in fields:
            rendered["public_metrics"] = {
                "followers_count": user.followers,
                "following_count": 180,
                "tweet_count": 1200,
                "listed_count": 3,
                "like_count": 900,
            }
        if "verified" in fields:
            rendered["verified"] = False
        return rendered


def _parse_x_bound(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _csv(value: str | None) -> set[str]:
    return {part for part in (value or "").split(",") if part}
