"""The sandbox's HTML overview at ``/``: mentions per platform and the replies the brand posted."""

from __future__ import annotations

from html import escape

from social_care.sandbox import accounts
from social_care.sandbox.state import SandboxState

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
    "table{border-collapse:collapse;width:100%;margin-bottom:2rem}"
    "td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}"
    "tr.own{background:#eef6ff}.muted{color:#777;font-size:.85em}"
)


def _row(when: str, who: str, text: str, own: bool, context: str) -> str:
    css = ' class="own"' if own else ""
    return (
        f"<tr{css}><td class=muted>{escape(when)}</td><td>{escape(who)}</td>"
        f"<td>{escape(text)}</td><td class=muted>{escape(context)}</td></tr>"
    )


def render_overview(state: SandboxState, limit: int = 200) -> str:
    """The whole page; every piece of platform text is HTML-escaped."""
    with state.lock:
        x_rows = [
            _row(
                t.created_at.strftime("%Y-%m-%d %H:%M"),
                "@" + state.x_users[t.author_id].username
                if t.author_id in state.x_users
                else t.author_id,
                t.text,
                t.author_id == accounts.X_USER_ID,
                f"reply to {t.in_reply_to_tweet_id}" if t.in_reply_to_tweet_id else f"tweet {t.id}",
            )
            for t in state.tweets_newest_first()[:limit]
        ]
        fb_items = [
            (p.created_time, p.author_id, p.message, f"{p.kind} post {p.id}")
            for p in state.fb_posts.values()
        ] + [
            (c.created_time, c.author_id, c.message, f"comment on {c.parent_id or c.post_id}")
            for c in state.fb_comments.values()
        ]
        fb_rows = [
            _row(
                when.strftime("%Y-%m-%d %H:%M"),
                state.fb_profiles[author].name if author in state.fb_profiles else author,
                text,
                author == accounts.FB_PAGE_ID,
                context,
            )
            for when, author, text, context in sorted(fb_items, key=lambda i: i[0], reverse=True)[
                :limit
            ]
        ]
        ig_items = [
            (m.timestamp, m.owner_id, m.caption, f"media {m.id}") for m in state.ig_media.values()
        ] + [
            (c.timestamp, c.author_id, c.text, f"comment on {c.parent_id or c.media_id}")
            for c in state.ig_comments.values()
        ]
        ig_rows = [
            _row(
                when.strftime("%Y-%m-%d %H:%M"),
                "@" + state.ig_profiles[author].username if author in state.ig_profiles else author,
                text,
                author == accounts.IG_USER_ID,
                context,
            )
            for when, author, text, context in sorted(ig_items, key=lambda i: i[0], reverse=True)[
                :limit
            ]
        ]
        reply_rows = [
            _row(
                r.created_at.strftime("%Y-%m-%d %H:%M"),
                r.platform,
                r.text,
                True,
                f"in reply to {r.in_reply_to}",
            )
            for r in reversed(state.brand_replies)
        ]
    header = "<tr><th>When (UTC)</th><th>Who</th><th>Text</th><th>Where</th></tr>"

    def section(title: str, rows: list[str]) -> str:
        body = "".join(rows) or "<tr><td colspan=4 class=muted>nothing yet</td></tr>"
        return f"<h2>{escape(title)}</h2><table>{header}{body}</table>"

    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta http-equiv="refresh" content="5">'
        f"<title>social-care sandbox: {escape(accounts.BRAND_NAME)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>social-care sandbox &mdash; {escape(accounts.BRAND_NAME)}</h1>"
        "<p class=muted>Fake X, Facebook and Instagram. Rows in blue are the brand's own.</p>"
        + section(f"Replies posted by the brand ({len(reply_rows)})", reply_rows)
        + section("X", x_rows)
        + section("Facebook Page", fb_rows)
        + section("Instagram", ig_rows)
        + "</body></html>"
    )
