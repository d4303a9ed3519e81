"""In-memory state of the fake platforms: people, tweets, posts, media, comments and brand replies.

Every mutation goes through :class:`SandboxState` under one lock, so the HTTP handler threads,
the drip thread and the tests can share it. Ids grow with time, like the real platforms'.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from social_care.sandbox import accounts

Clock = Callable[[], datetime]
NewItemListener = Callable[[str, Any], None]

TWITTER_EPOCH_MS = 1288834974657


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class XUser:
    id: str
    username: str
    name: str
    followers: int = 0


@dataclass
class Tweet:
    id: str
    author_id: str
    text: str
    created_at: datetime
    lang: str = "und"
    conversation_id: str = ""
    in_reply_to_tweet_id: str | None = None
    in_reply_to_user_id: str | None = None
    retweet_of: str | None = None


@dataclass
class FbProfile:
    id: str
    name: str


@dataclass
class FbPost:
    id: str
    author_id: str
    message: str
    created_time: datetime
    kind: str  # "page" (the brand's own), "visitor" (posted on the page), "tagged" (tags the page)
    updated_time: datetime


@dataclass
class FbComment:
    id: str
    post_id: str
    parent_id: str | None  # the top-level comment this one replies to
    author_id: str
    message: str
    created_time: datetime


@dataclass
class IgProfile:
    id: str
    username: str
    name: str
    followers: int = 0


@dataclass
class IgMedia:
    id: str
    owner_id: str
    caption: str
    timestamp: datetime
    shortcode: str
    media_type: str = "IMAGE"
    tagged_user_ids: list[str] = field(default_factory=list)


@dataclass
class IgComment:
    id: str
    media_id: str
    parent_id: str | None  # the top-level comment this one replies to
    author_id: str
    text: str
    timestamp: datetime


@dataclass(frozen=True)
class BrandReply:
    """A reply the brand posted through the API, for the HTML page and the tests."""

    platform: str
    external_id: str
    in_reply_to: str
    text: str
    created_at: datetime


class SandboxState:
    """Everything the fake platforms know. Thread-safe; read methods return copies of lists."""

    def __init__(self, clock: Clock = utc_now) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.x_users: dict[str, XUser] = {}
        self.tweets: dict[str, Tweet] = {}
        self._derived: dict[str, list[Tweet]] = {}
        self._derived_version = 0
        # Comments are only ever added: these indexes keep a thread's read from scanning every
        # comment the sandbox holds (a 100,000-mention benchmark puts ~30,000 under one post).
        self._fb_by_post: dict[str, list[FbComment]] = {}
        self._fb_by_parent: dict[str, list[FbComment]] = {}
        self._ig_by_media: dict[str, list[IgComment]] = {}
        self._ig_by_parent: dict[str, list[IgComment]] = {}
        self.fb_profiles: dict[str, FbProfile] = {}
        self.fb_posts: dict[str, FbPost] = {}
        self.fb_comments: dict[str, FbComment] = {}
        self.ig_profiles: dict[str, IgProfile] = {}
        self.ig_media: dict[str, IgMedia] = {}
        self.ig_comments: dict[str, IgComment] = {}
        self.brand_replies: list[BrandReply] = []
        self.listeners: list[NewItemListener] = []
        self._last_tweet_id = 0
        self._x_user_ids = itertools.count(1_500_000_000_000_000_001, 7_919)
        self._fb_profile_ids = itertools.count(100_000_000_000_101, 1_013)
        self._fb_post_numbers = itertools.count(122_100_000_000_000_001, 3_571)
        self._fb_comment_numbers = itertools.count(1_200_000_000_000_001, 2_111)
        self._ig_profile_ids = itertools.count(17_841_400_000_000_001, 4_099)
        self._ig_media_ids = itertools.count(17_900_000_000_000_001, 6_007)
        self._ig_comment_ids = itertools.count(17_850_000_000_000_001, 5_003)
        self._add_brand_accounts()

    def _add_brand_accounts(self) -> None:
        self.add_x_user(
            "lojaaurora", accounts.BRAND_NAME, followers=48_213, user_id=accounts.X_USER_ID
        )
        self.add_fb_profile(accounts.FB_PAGE_NAME, profile_id=accounts.FB_PAGE_ID)
        self.add_fb_profile(accounts.IG_TOKEN_OWNER_NAME, profile_id=accounts.IG_TOKEN_OWNER_ID)
        self.add_ig_profile(
            accounts.IG_USERNAME,
            accounts.BRAND_NAME,
            followers=91_502,
            profile_id=accounts.IG_USER_ID,
        )

    def _notify(self, kind: str, item: Any) -> None:
        for listener in list(self.listeners):
            listener(kind, item)

    # X -----------------------------------------------------------------------------------

    def add_x_user(
        self, username: str, name: str, followers: int = 0, user_id: str | None = None
    ) -> XUser:
        with self.lock:
            user = XUser(user_id or str(next(self._x_user_ids)), username, name, followers)
            self.x_users[user.id] = user
            return user

    def x_user_by_username(self, username: str) -> XUser | None:
        with self.lock:
            wanted = username.lower()
            return next((u for u in self.x_users.values() if u.username.lower() == wanted), None)

    def _next_tweet_id(self, created_at: datetime) -> str:
        snowflake = (int(created_at.timestamp() * 1000) - TWITTER_EPOCH_MS) << 22
        self._last_tweet_id = max(snowflake, self._last_tweet_id + 1)
        return str(self._last_tweet_id)

    def add_tweet(
        self,
        author_id: str,
        text: str,
        *,
        created_at: datetime | None = None,
        lang: str = "pt",
        in_reply_to: str | None = None,
        retweet_of: str | None = None,
    ) -> Tweet:
        with self.lock:
            created = created_at or self.clock()
            tweet_id = self._next_tweet_id(created)
            parent = self.tweets.get(in_reply_to) if in_reply_to else None
            tweet = Tweet(
                id=tweet_id,
                author_id=author_id,
                text=text,
                created_at=created,
                lang=lang,
                conversation_id=parent.conversation_id if parent else tweet_id,
                in_reply_to_tweet_id=parent.id if parent else None,
                in_reply_to_user_id=parent.author_id if parent else None,
                retweet_of=retweet_of,
            )
            self.tweets[tweet.id] = tweet
            if author_id == accounts.X_USER_ID and parent is not None:
                self.brand_replies.append(BrandReply("x", tweet.id, parent.id, text, created))
        self._notify("x_tweet", tweet)
        return tweet

    def tweets_newest_first(self) -> list[Tweet]:
        # Tweets are only ever added, so their count versions the sorted list: paging through
        # 100,000 tweets sorts (and tokenises, below) once, not once per page.
        return self._derived_tweets(
            "newest", lambda: sorted(self.tweets.values(), key=lambda t: int(t.id), reverse=True)
        )

    def _derived_tweets(self, key: str, build: Callable[[], list[Tweet]]) -> list[Tweet]:
        """A list computed from the tweets, kept until the next tweet is added (a copy is
        returned, so callers may change it)."""
        with self.lock:
            if self._derived_version != len(self.tweets) or len(self._derived) > 64:
                self._derived.clear()  # a tweet was added (or too many queries were cached)
                self._derived_version = len(self.tweets)
            if key not in self._derived:
                self._derived[key] = build()
            return list(self._derived[key])

    def mentions_of(self, user_id: str) -> list[Tweet]:
        """Tweets that @mention the user, newest first (the user's mention timeline)."""
        with self.lock:
            user = self.x_users.get(user_id)
            if user is None:
                return []
            handle = "@" + user.username.lower()
            return self._derived_tweets(
                f"mentions:{handle}",
                lambda: [
                    t
                    for t in self.tweets_newest_first()
                    if t.retweet_of is None and handle in _mention_tokens(t.text)
                ],
            )

    def matching_tweets(self, key: str, predicate: Callable[[Tweet], bool]) -> list[Tweet]:
        """Tweets (newest first) for which ``predicate`` holds, cached under ``key`` (a search
        query) until a tweet is added."""
        return self._derived_tweets(
            f"search:{key}", lambda: [t for t in self.tweets_newest_first() if predicate(t)]
        )

    def tweets_by(self, user_id: str) -> list[Tweet]:
        return [t for t in self.tweets_newest_first() if t.author_id == user_id]

    # Facebook ----------------------------------------------------------------------------

    def add_fb_profile(self, name: str, profile_id: str | None = None) -> FbProfile:
        with self.lock:
            profile = FbProfile(profile_id or str(next(self._fb_profile_ids)), name)
            self.fb_profiles[profile.id] = profile
            return profile

    def add_fb_post(
        self, author_id: str, message: str, *, kind: str, created_time: datetime | None = None
    ) -> FbPost:
        if kind not in ("page", "visitor", "tagged"):
            raise ValueError(f"unknown Facebook post kind {kind!r}")
        with self.lock:
            created = created_time or self.clock()
            # Posts on the page carry the page id as prefix; a post that tags the page lives
            # on its author's profile.
            owner = author_id if kind == "tagged" else accounts.FB_PAGE_ID
            post = FbPost(
                f"{owner}_{next(self._fb_post_numbers)}", author_id, message, created, kind, created
            )
            self.fb_posts[post.id] = post
        self._notify("fb_post", post)
        return post

    def add_fb_comment(
        self, target_id: str, author_id: str, message: str, *, created_time: datetime | None = None
    ) -> FbComment:
        """Comment on a post, or reply to a comment (replies to replies join the top thread)."""
        with self.lock:
            created = created_time or self.clock()
            if target_id in self.fb_posts:
                post_id, parent_id = target_id, None
            elif target_id in self.fb_comments:
                target = self.fb_comments[target_id]
                post_id, parent_id = target.post_id, target.parent_id or target.id
            else:
                raise KeyError(target_id)
            post_number = post_id.split("_", 1)[1]
            comment = FbComment(
                f"{post_number}_{next(self._fb_comment_numbers)}",
                post_id,
                parent_id,
                author_id,
                message,
                created,
            )
            self.fb_comments[comment.id] = comment
            self._fb_by_post.setdefault(post_id, []).append(comment)
            if parent_id is not None:
                self._fb_by_parent.setdefault(parent_id, []).append(comment)
            post = self.fb_posts[post_id]
            post.updated_time = max(post.updated_time, created)
            if author_id == accounts.FB_PAGE_ID:
                self.brand_replies.append(
                    BrandReply("facebook", comment.id, target_id, message, created)
                )
        self._notify("fb_comment", comment)
        return comment

    def page_posts(self, kinds: tuple[str, ...]) -> list[FbPost]:
        with self.lock:
            posts = [p for p in self.fb_posts.values() if p.kind in kinds]
        return sorted(posts, key=lambda p: (p.created_time, p.id), reverse=True)

    def fb_comments_under(self, object_id: str, *, flat: bool) -> list[FbComment]:
        """Comments of a post (top level, or every level when ``flat``) or replies of a comment,
        oldest first."""
        with self.lock:
            if object_id in self.fb_posts:
                found = [
                    c for c in self._fb_by_post.get(object_id, ()) if flat or c.parent_id is None
                ]
            else:
                found = list(self._fb_by_parent.get(object_id, ()))
        return sorted(found, key=lambda c: (c.created_time, c.id))

    # Instagram ---------------------------------------------------------------------------

    def add_ig_profile(
        self, username: str, name: str, followers: int = 0, profile_id: str | None = None
    ) -> IgProfile:
        with self.lock:
            profile = IgProfile(
                profile_id or str(next(self._ig_profile_ids)), username, name, followers
            )
            self.ig_profiles[profile.id] = profile
            return profile

    def add_ig_media(
        self,
        owner_id: str,
        caption: str,
        *,
        timestamp: datetime | None = None,
        tagged_user_ids: list[str] | None = None,
        media_type: str = "IMAGE",
    ) -> IgMedia:
        with self.lock:
            media_id = str(next(self._ig_media_ids))
            media = IgMedia(
                media_id,
                owner_id,
                caption,
                timestamp or self.clock(),
                _shortcode(int(media_id)),
                media_type,
                list(tagged_user_ids or []),
            )
            self.ig_media[media.id] = media
        self._notify("ig_media", media)
        return media

    def add_ig_comment(
        self, target_id: str, author_id: str, text: str, *, timestamp: datetime | None = None
    ) -> IgComment:
        """Comment on a media, or reply to a comment (always filed under the top-level one)."""
        with self.lock:
            created = timestamp or self.clock()
            if target_id in self.ig_media:
                media_id, parent_id = target_id, None
            elif target_id in self.ig_comments:
                target = self.ig_comments[target_id]
                media_id, parent_id = target.media_id, target.parent_id or target.id
            else:
                raise KeyError(target_id)
            comment = IgComment(
                str(next(self._ig_comment_ids)), media_id, parent_id, author_id, text, created
            )
            self.ig_comments[comment.id] = comment
            self._ig_by_media.setdefault(media_id, []).append(comment)
            if parent_id is not None:
                self._ig_by_parent.setdefault(parent_id, []).append(comment)
            if author_id == accounts.IG_USER_ID:
                self.brand_replies.append(
                    BrandReply("instagram", comment.id, target_id, text, created)
                )
        self._notify("ig_comment", comment)
        return comment

    def media_of(self, owner_id: str) -> list[IgMedia]:
        with self.lock:
            found = [m for m in self.ig_media.values() if m.owner_id == owner_id]
        return sorted(found, key=lambda m: (m.timestamp, m.id), reverse=True)

    def media_tagging(self, user_id: str) -> list[IgMedia]:
        with self.lock:
            found = [m for m in self.ig_media.values() if user_id in m.tagged_user_ids]
        return sorted(found, key=lambda m: (m.timestamp, m.id), reverse=True)

    def ig_comments_under(self, object_id: str) -> list[IgComment]:
        """Top-level comments of a media, or replies of a comment, newest first."""
        with self.lock:
            if object_id in self.ig_media:
                found = [c for c in self._ig_by_media.get(object_id, ()) if c.parent_id is None]
            else:
                found = list(self._ig_by_parent.get(object_id, ()))
        return sorted(found, key=lambda c: (c.timestamp, c.id), reverse=True)

    def ig_comment_count(self, media_id: str) -> int:
        with self.lock:
            return len(self._ig_by_media.get(media_id, ()))


def _mention_tokens(text: str) -> set[str]:
    tokens = set()
    for raw in text.split():
        word = raw.strip(".,;:!?()[]\"'").lower()
        if word.startswith("@"):
            # "@lojaaurora," and "@lojaaurora's" both mention the account
            tokens.add(
                "@" + "".join(ch for ch in word[1:].split("'")[0] if ch.isalnum() or ch == "_")
            )
    return tokens


_SHORTCODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _shortcode(number: int) -> str:
    code = ""
    while number:
        number, digit = divmod(number, 64)
        code = _SHORTCODE_ALPHABET[digit] + code
    return code[-11:]
