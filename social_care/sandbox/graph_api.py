"""The fake Graph API: Facebook Page feed/comments and Instagram media/comments/mentions.

Any ``/vNN.N/`` prefix is accepted. Responses carry ``Content-Type: application/json;
charset=UTF-8``, cursor paging whose ``next`` URL holds ``access_token=``, Graph error bodies, and
usage headers with only the documented keys (pyfacebook's ``RateLimitHeader`` rejects others).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from social_care.sandbox import accounts
from social_care.sandbox.faults import Fault
from social_care.sandbox.graph_fields import FieldSpec, FieldSyntaxError, parse_fields, select
from social_care.sandbox.responses import ApiResponse, json_response
from social_care.sandbox.state import FbComment, FbPost, IgComment, IgMedia, SandboxState

USAGE_WINDOW_SECONDS = 3600
CALLS_PER_WINDOW = 2000  # the sandbox's BUC quota, generous enough never to bind in tests

DEFAULT_FIELDS = {
    "post": "id,message,created_time",
    "comment": "id,message,created_time,from",
    "media": "id",
    "ig_comment": "id,text,timestamp",
    "page": "id,name",
    "ig_user": "id",
    "user": "id,name",
}

_VERSION_RE = re.compile(r"^/v\d+\.\d+(/.*)?$")


def format_graph_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def graph_error(
    message: str, code: int, error_type: str = "OAuthException", subcode: int | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": error_type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "A" + secrets.token_urlsafe(15)
    return {"error": error}


def _unsupported(object_id: str, method: str = "get") -> dict[str, Any]:
    return graph_error(
        f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be loaded "
        "due to missing permissions, or does not support this operation. Please read the Graph API "
        "documentation at https://developers.facebook.com/docs/graph-api",
        100,
        "GraphMethodException",
        33,
    )


def _parse_time_bound(value: str | None) -> float | None:
    if value is None or value == "":
        return None
    if value.lstrip("-").isdigit():
        return float(value)
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def _cursor(item_id: str) -> str:
    return base64.urlsafe_b64encode(item_id.encode()).decode().rstrip("=")


def _cursor_target(cursor: str) -> str | None:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


class GraphApi:
    """Routes Graph API requests against the shared state."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._usage_lock = threading.Lock()
        self._usage: dict[str, tuple[float, int]] = {}

    # Entry point -------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        base_url: str,
        fault: Fault | None,
    ) -> ApiResponse:
        match = _VERSION_RE.match(path)
        relative = (match.group(1) or "/") if match else path
        version_prefix = path[: len(path) - len(relative)]
        segments = [s for s in relative.split("/") if s]
        token = params.get("access_token")
        if not token:
            return json_response(
                400, graph_error("An access token is required to request this resource.", 104)
            )
        principal = {accounts.FB_PAGE_ACCESS_TOKEN: "page", accounts.IG_ACCESS_TOKEN: "ig"}.get(
            token
        )
        if principal is None:
            return json_response(
                400, graph_error("Invalid OAuth access token - Cannot parse access token", 190)
            )
        proof = params.get("appsecret_proof")
        expected = hmac.new(
            accounts.APP_SECRET.encode(), token.encode(), hashlib.sha256
        ).hexdigest()
        if proof is not None and not hmac.compare_digest(proof, expected):
            return json_response(
                400,
                graph_error(
                    "Invalid appsecret_proof provided in the API argument",
                    100,
                    "GraphMethodException",
                ),
            )
        usage_headers, used_up = self._spend(principal)
        if fault is not None and fault.kind == "expired_token":
            return json_response(
                400,
                graph_error(
                    "Error validating access token: Session has expired on Saturday, 21-Nov-26 "
                    "10:00:00 PST. The current time is later.",
                    190,
                    subcode=463,
                ),
                usage_headers,
            )
        if fault is not None and fault.kind in ("rate_limit", "usage_limit"):
            minutes = max(1, math.ceil(fault.reset_in / 60))
            usage_headers = self._usage_headers(principal, 100, minutes)
            if fault.kind == "rate_limit":
                code = fault.code or (80001 if principal == "page" else 80002)
                return json_response(
                    400 if code >= 80000 else 403,
                    graph_error(
                        _RATE_LIMIT_MESSAGES.get(code, f"(#{code}) Rate limit reached"), code
                    ),
                    usage_headers,
                )
        elif used_up:
            code = 80001 if principal == "page" else 80002
            return json_response(400, graph_error(_RATE_LIMIT_MESSAGES[code], code), usage_headers)
        if not segments:
            return json_response(
                400,
                graph_error("Unsupported get request.", 100, "GraphMethodException"),
                usage_headers,
            )
        try:
            specs = parse_fields(params.get("fields", "")) if params.get("fields") else None
        except (FieldSyntaxError, ValueError) as error:
            return json_response(
                400, graph_error(f"(#100) Syntax error in fields: {error}", 100), usage_headers
            )
        context = _RequestContext(params, base_url + version_prefix, relative, principal, specs)
        if method == "GET" and len(segments) == 1:
            status, payload = self._get_node(segments[0], context)
        elif method == "GET" and len(segments) == 2:
            status, payload = self._get_edge(segments[0], segments[1], context)
        elif method == "POST" and len(segments) == 2:
            status, payload = self._post_edge(segments[0], segments[1], context)
        else:
            status, payload = 400, _unsupported("/".join(segments), method.lower())
        return json_response(status, payload, usage_headers)

    # Usage accounting --------------------------------------------------------------------

    def _spend(self, principal: str) -> tuple[dict[str, str], bool]:
        now = self.state.clock().timestamp()
        with self._usage_lock:
            started, calls = self._usage.get(principal, (now, 0))
            if now >= started + USAGE_WINDOW_SECONDS:
                started, calls = now, 0
            calls += 1
            self._usage[principal] = (started, calls)
        percent = min(100, calls * 100 // CALLS_PER_WINDOW)
        regain = math.ceil((started + USAGE_WINDOW_SECONDS - now) / 60) if percent >= 100 else 0
        return self._usage_headers(principal, percent, regain), percent >= 100

    @staticmethod
    def _usage_headers(principal: str, percent: int, regain_minutes: int) -> dict[str, str]:
        business_id, usage_type = (
            (accounts.FB_PAGE_ID, "pages")
            if principal == "page"
            else (accounts.IG_USER_ID, "instagram")
        )
        cpu = min(100, percent // 2)
        return {
            "x-app-usage": f'{{"call_count":{percent},"total_cputime":{cpu},"total_time":{cpu}}}',
            "x-business-use-case-usage": (
                f'{{"{business_id}":[{{"type":"{usage_type}","call_count":{percent},'
                f'"total_cputime":{cpu},"total_time":{cpu},'
                f'"estimated_time_to_regain_access":{regain_minutes}}}]}}'
            ),
            "facebook-api-version": "v26.0",
            "x-fb-trace-id": secrets.token_urlsafe(8),
            "x-fb-request-id": secrets.token_urlsafe(16),
        }

    # Nodes -------------------------------------------------------------------------------

    def _get_node(self, object_id: str, context: _RequestContext) -> tuple[int, Any]:
        state = self.state
        if object_id == "me":
            if context.principal == "page":
                object_id = accounts.FB_PAGE_ID
            else:
                owner = state.fb_profiles[accounts.IG_TOKEN_OWNER_ID]
                return 200, select({"id": owner.id, "name": owner.name}, context.specs_or("user"))
        if (
            object_id == accounts.IG_USER_ID
            and context.specs
            and ("mentioned_media" in context.specs or "mentioned_comment" in context.specs)
        ):
            return self._mentioned(context)
        found = self._render_any(object_id)
        if found is None:
            return 400, _unsupported(object_id)
        kind, rendered = found
        return 200, select(rendered, context.specs_or(kind))

    def _render_any(self, object_id: str) -> tuple[str, Mapping[str, Any]] | None:
        state = self.state
        if object_id == accounts.FB_PAGE_ID:
            page = state.fb_profiles[object_id]
            return "page", {
                "id": page.id,
                "name": page.name,
                "username": accounts.X_HANDLE,
                "instagram_business_account": {"id": accounts.IG_USER_ID},
                "link": f"https://www.facebook.com/{accounts.X_HANDLE}",
            }
        if object_id in state.ig_profiles:
            profile = state.ig_profiles[object_id]
            return "ig_user", {
                "id": profile.id,
                "username": profile.username,
                "name": profile.name,
                "followers_count": profile.followers,
                "media_count": len(state.media_of(profile.id)),
            }
        if object_id in state.fb_profiles:
            profile_node = state.fb_profiles[object_id]
            return "user", {"id": profile_node.id, "name": profile_node.name}
        if object_id in state.fb_posts:
            return "post", self._post_node(state.fb_posts[object_id])
        if object_id in state.fb_comments:
            return "comment", self._fb_comment_node(state.fb_comments[object_id])
        if object_id in state.ig_media:
            return "media", self._media_node(state.ig_media[object_id])
        if object_id in state.ig_comments:
            return "ig_comment", self._ig_comment_node(state.ig_comments[object_id])
        return None

    def _mentioned(self, context: _RequestContext) -> tuple[int, Any]:
        assert context.specs is not None
        result: dict[str, Any] = {"id": accounts.IG_USER_ID}
        media_spec = context.specs.get("mentioned_media")
        if media_spec is not None:
            media = self.state.ig_media.get(media_spec.modifiers.get("media_id", ""))
            if media is None or f"@{accounts.IG_USERNAME}" not in media.caption.lower():
                return 400, _unsupported(media_spec.modifiers.get("media_id", ""))
            result["mentioned_media"] = select(
                self._media_node(media), media_spec.children or {"id": FieldSpec()}
            )
        comment_spec = context.specs.get("mentioned_comment")
        if comment_spec is not None:
            comment = self.state.ig_comments.get(comment_spec.modifiers.get("comment_id", ""))
            if comment is None or f"@{accounts.IG_USERNAME}" not in comment.text.lower():
                return 400, _unsupported(comment_spec.modifiers.get("comment_id", ""))
            result["mentioned_comment"] = select(
                self._ig_comment_node(comment), comment_spec.children or {"id": FieldSpec()}
            )
        return 200, result

    # Edges -------------------------------------------------------------------------------

    def _get_edge(self, object_id: str, edge: str, context: _RequestContext) -> tuple[int, Any]:
        state = self.state
        params = context.params
        if object_id == "me" and context.principal == "page":
            object_id = accounts.FB_PAGE_ID
        if object_id == accounts.FB_PAGE_ID and edge in _PAGE_EDGES:
            posts = state.page_posts(_PAGE_EDGES[edge])
            return self._page_of(
                posts,
                self._post_node,
                [p.created_time for p in posts],
                context,
                "post",
            )
        if edge == "comments" and (object_id in state.fb_posts or object_id in state.fb_comments):
            flat = params.get("filter") == "stream" and object_id in state.fb_posts
            comments = state.fb_comments_under(object_id, flat=flat)
            if params.get("order") == "reverse_chronological":
                comments.reverse()
            return self._page_of(
                comments,
                self._fb_comment_node,
                [c.created_time for c in comments],
                context,
                "comment",
            )
        if object_id in state.ig_profiles and edge in ("media", "tags"):
            media = state.media_of(object_id) if edge == "media" else state.media_tagging(object_id)
            return self._page_of(
                media, self._media_node, [m.timestamp for m in media], context, "media"
            )
        if (edge == "comments" and object_id in state.ig_media) or (
            edge == "replies" and object_id in state.ig_comments
        ):
            ig_comments = state.ig_comments_under(object_id)
            return self._page_of(
                ig_comments,
                self._ig_comment_node,
                [c.timestamp for c in ig_comments],
                context,
                "ig_comment",
            )
        return 400, _unsupported(object_id)

    def _page_of(
        self,
        objects: Sequence[Any],
        node_of: Callable[[Any], Mapping[str, Any]],
        times: list[datetime],
        context: _RequestContext,
        kind: str,
    ) -> tuple[int, Any]:
        """One page of an edge; only the page's own objects are turned into nodes, so reading
        a thread of 100,000 comments costs one pass over ids per page, not 100,000 nodes."""
        params = context.params
        since = _parse_time_bound(params.get("since"))
        until = _parse_time_bound(params.get("until"))
        kept = [
            obj
            for obj, moment in zip(objects, times, strict=True)
            if (since is None or moment.timestamp() >= since)
            and (until is None or moment.timestamp() <= until)
        ]
        start = 0
        if params.get("after"):
            target = _cursor_target(params["after"])
            ids = [str(obj.id) for obj in kept]
            if target not in ids:
                return 400, graph_error("(#100) The after cursor is invalid or expired", 100)
            start = ids.index(target) + 1
        raw_limit = params.get("limit", "25")
        limit = min(int(raw_limit), 100) if raw_limit.isdigit() and int(raw_limit) > 0 else 25
        page = [node_of(obj) for obj in kept[start : start + limit]]
        specs = context.specs_or(kind)
        payload: dict[str, Any] = {"data": [select(node, specs) for node in page]}
        if page:
            paging: dict[str, Any] = {
                "cursors": {
                    "before": _cursor(str(page[0]["id"])),
                    "after": _cursor(str(page[-1]["id"])),
                }
            }
            if start + limit < len(kept):
                next_params = {
                    k: v
                    for k, v in params.items()
                    if k not in ("after", "before", "appsecret_proof")
                }
                next_params["after"] = paging["cursors"]["after"]
                paging["next"] = f"{context.base}{context.relative}?{urlencode(next_params)}"
            payload["paging"] = paging
        return 200, payload

    def _post_edge(self, object_id: str, edge: str, context: _RequestContext) -> tuple[int, Any]:
        state = self.state
        message = context.params.get("message", "")
        if not message.strip():
            return 400, graph_error("(#100) The parameter message is required", 100)
        if edge == "comments" and (object_id in state.fb_posts or object_id in state.fb_comments):
            if context.principal != "page":
                return 403, graph_error("(#200) Permissions error", 200)
            return 200, {"id": state.add_fb_comment(object_id, accounts.FB_PAGE_ID, message).id}
        if edge == "replies" and object_id in state.ig_comments:
            if state.ig_comments[object_id].parent_id is not None:
                # Instagram files a reply to a reply under the top-level comment.
                object_id = state.ig_comments[object_id].parent_id or object_id
            return 200, {"id": state.add_ig_comment(object_id, accounts.IG_USER_ID, message).id}
        if edge == "comments" and object_id in state.ig_media:
            return 200, {"id": state.add_ig_comment(object_id, accounts.IG_USER_ID, message).id}
        if edge == "mentions" and object_id == accounts.IG_USER_ID:
            media_id = context.params.get("media_id", "")
            comment_id = context.params.get("comment_id")
            if media_id not in state.ig_media:
                return 400, _unsupported(media_id, "post")
            target = comment_id or media_id
            if comment_id is not None and (
                comment_id not in state.ig_comments
                or state.ig_comments[comment_id].media_id != media_id
            ):
                return 400, _unsupported(comment_id, "post")
            return 200, {"id": state.add_ig_comment(target, accounts.IG_USER_ID, message).id}
        return 400, _unsupported(object_id, "post")

    # Node rendering (every field the sandbox knows; ``select`` keeps the requested ones) --

    def _post_node(self, post: FbPost) -> dict[str, Any]:
        state = self.state
        author = state.fb_profiles.get(post.author_id)
        owner, number = post.id.split("_", 1)
        return {
            "id": post.id,
            "message": post.message,
            "created_time": format_graph_time(post.created_time),
            "updated_time": format_graph_time(post.updated_time),
            "from": {"id": post.author_id, "name": author.name if author else ""},
            "permalink_url": f"https://www.facebook.com/{owner}/posts/{number}",
            "status_type": "mobile_status_update",
            "is_hidden": False,
            "comments": lambda modifiers: _Nodes(
                state.fb_comments_under(post.id, flat=modifiers.get("filter") == "stream"),
                self._fb_comment_node,
            ),
        }

    def _fb_comment_node(self, comment: FbComment) -> dict[str, Any]:
        state = self.state
        author = state.fb_profiles.get(comment.author_id)
        owner, number = comment.post_id.split("_", 1)
        comment_number = comment.id.split("_", 1)[1]
        permalink = f"https://www.facebook.com/{owner}/posts/{number}/?comment_id="
        if comment.parent_id:
            permalink += f"{comment.parent_id.split('_', 1)[1]}&reply_comment_id={comment_number}"
        else:
            permalink += comment_number
        replies = state.fb_comments_under(comment.id, flat=False)
        node: dict[str, Any] = {
            "id": comment.id,
            "message": comment.message,
            "created_time": format_graph_time(comment.created_time),
            "from": {"id": comment.author_id, "name": author.name if author else ""},
            "permalink_url": permalink,
            "comment_count": len(replies),
            "like_count": 0,
            "is_hidden": False,
            "can_comment": comment.parent_id is None,
            "object": {"id": comment.post_id},
            "comments": lambda modifiers: _Nodes(replies, self._fb_comment_node),
        }
        if comment.parent_id:
            parent = state.fb_comments[comment.parent_id]
            node["parent"] = {
                "id": parent.id,
                "message": parent.message,
                "created_time": format_graph_time(parent.created_time),
            }
        return node

    def _media_node(self, media: IgMedia) -> dict[str, Any]:
        state = self.state
        owner = state.ig_profiles.get(media.owner_id)
        return {
            "id": media.id,
            "caption": media.caption,
            "media_type": media.media_type,
            "media_product_type": "FEED",
            "media_url": f"https://scontent.cdninstagram.com/v/t51.2885-15/{media.id}_n.jpg",
            "permalink": f"https://www.instagram.com/p/{media.shortcode}/",
            "shortcode": media.shortcode,
            "timestamp": format_graph_time(media.timestamp),
            "username": owner.username if owner else "",
            "owner": {"id": media.owner_id},
            "comments_count": state.ig_comment_count(media.id),
            "like_count": 0,
            "comments": lambda modifiers: _Nodes(
                state.ig_comments_under(media.id), self._ig_comment_node
            ),
        }

    def _ig_comment_node(self, comment: IgComment) -> dict[str, Any]:
        state = self.state
        author = state.ig_profiles.get(comment.author_id)
        media = state.ig_media[comment.media_id]
        node: dict[str, Any] = {
            "id": comment.id,
            "text": comment.text,
            "timestamp": format_graph_time(comment.timestamp),
            "username": author.username if author else "",
            "from": {"id": comment.author_id, "username": author.username if author else ""},
            "like_count": 0,
            "hidden": False,
            "media": {
                "id": media.id,
                "permalink": f"https://www.instagram.com/p/{media.shortcode}/",
                "media_product_type": "FEED",
            },
            "replies": lambda modifiers: _Nodes(
                state.ig_comments_under(comment.id), self._ig_comment_node
            ),
        }
        if comment.parent_id:
            node["parent_id"] = comment.parent_id
        return node


class _RequestContext:
    def __init__(
        self,
        params: dict[str, str],
        base: str,
        relative: str,
        principal: str,
        specs: dict[str, FieldSpec] | None,
    ) -> None:
        self.params = params
        self.base = base
        self.relative = relative
        self.principal = principal
        self.specs = specs

    def specs_or(self, kind: str) -> dict[str, FieldSpec]:
        return self.specs if self.specs is not None else parse_fields(DEFAULT_FIELDS[kind])


_PAGE_EDGES: dict[str, tuple[str, ...]] = {
    "feed": ("page", "visitor", "tagged"),
    "posts": ("page",),
    "published_posts": ("page",),
    "visitor_posts": ("visitor",),
    "tagged": ("tagged",),
}

_RATE_LIMIT_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80001: (
        "(#80001) There have been too many calls to this Page account. Wait a bit and try again. "
        "For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting."
    ),
    80002: (
        "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again. "
        "For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting."
    ),
}


class _Nodes(Sequence[Mapping[str, Any]]):
    """An edge's objects, turned into nodes only when read: a post's summary needs the count
    of its comments, not 30,000 rendered comments."""

    def __init__(self, objects: Sequence[Any], node_of: Callable[[Any], Mapping[str, Any]]) -> None:
        self._objects = objects
        self._node_of = node_of

    def __len__(self) -> int:
        return len(self._objects)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._node_of(obj) for obj in self._objects[index]]
        return self._node_of(self._objects[index])
