"""Loads a seed file (people and items with relative timestamps) into the sandbox state."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from social_care.sandbox import accounts
from social_care.sandbox.state import SandboxState

BRAND = "brand"
DEFAULT_SEED = "lojaaurora"
SEED_ALIASES = {"demo": DEFAULT_SEED, DEFAULT_SEED: DEFAULT_SEED}


@dataclass
class People:
    """Platform accounts created for seed people, by seed key."""

    x: dict[str, str] = field(default_factory=dict)
    facebook: dict[str, str] = field(default_factory=dict)
    instagram: dict[str, str] = field(default_factory=dict)


@dataclass
class LoadedSeed:
    """What a seed created: platform ids by item key, and the labels the seed author gave."""

    ids: dict[str, str]
    labels: dict[str, dict[str, Any]]
    items: list[dict[str, Any]]


def read_seed(name: str = DEFAULT_SEED) -> dict[str, Any]:
    """The seed document: a packaged name (``"demo"``, ``"lojaaurora"``) or a path to a JSON file."""
    packaged = SEED_ALIASES.get(name)
    if packaged is not None:
        text = (
            resources.files("social_care.sandbox")
            .joinpath("seed", f"{packaged}.json")
            .read_text("utf-8")
        )
    else:
        text = Path(name).read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def ensure_person(
    state: SandboxState, people: People, key: str, person: dict[str, Any], platform: str
) -> str:
    """The platform account id of a seed person, created on first use."""
    if key == BRAND:
        return {
            "x": accounts.X_USER_ID,
            "facebook": accounts.FB_PAGE_ID,
            "instagram": accounts.IG_USER_ID,
        }[platform]
    known = getattr(people, platform)
    if key in known:
        return str(known[key])
    if platform == "x":
        x = person.get("x") or {"username": key, "followers": 0}
        account_id = state.add_x_user(x["username"], person["name"], int(x.get("followers", 0))).id
    elif platform == "facebook":
        account_id = state.add_fb_profile(person["name"]).id
    else:
        ig = person.get("instagram") or {"username": key, "followers": 0}
        account_id = state.add_ig_profile(
            ig["username"], person["name"], int(ig.get("followers", 0))
        ).id
    known[key] = account_id
    return account_id


def add_item(
    state: SandboxState,
    people: People,
    person_table: dict[str, dict[str, Any]],
    item: dict[str, Any],
    ids: dict[str, str],
    created: datetime | None,
) -> str:
    """Create one seed item; ``ids`` maps earlier item keys to platform ids (for threads)."""
    platform = item["platform"]
    author_key = item["author"]
    author_id = ensure_person(
        state, people, author_key, person_table.get(author_key, {"name": author_key}), platform
    )
    text = item["text"]
    if platform == "x":
        return state.add_tweet(
            author_id,
            text,
            created_at=created,
            lang=item.get("lang", "pt"),
            in_reply_to=ids.get(item["reply_to"]) if item.get("reply_to") else None,
            retweet_of=ids.get(item["retweet_of"]) if item.get("retweet_of") else None,
        ).id
    if platform == "facebook":
        if item["type"] == "post":
            return state.add_fb_post(author_id, text, kind=item["kind"], created_time=created).id
        return state.add_fb_comment(ids[item["on"]], author_id, text, created_time=created).id
    if platform == "instagram":
        if item["type"] == "media":
            tagged = [
                ensure_person(state, people, k, person_table.get(k, {"name": k}), "instagram")
                for k in item.get("tags", [])
            ]
            return state.add_ig_media(author_id, text, timestamp=created, tagged_user_ids=tagged).id
        return state.add_ig_comment(ids[item["on"]], author_id, text, timestamp=created).id
    raise ValueError(f"unknown platform {platform!r} in seed item {item.get('key')!r}")


def load_seed(
    state: SandboxState, name: str = DEFAULT_SEED, now: datetime | None = None
) -> LoadedSeed:
    """Load a seed into ``state``; timestamps are ``now`` minus each item's ``minutes_ago``."""
    document = read_seed(name)
    reference = now or state.clock()
    people = People()
    person_table: dict[str, dict[str, Any]] = document.get("people", {})
    ids: dict[str, str] = {}
    labels: dict[str, dict[str, Any]] = {}
    # Oldest first, so ids grow with time and every parent exists before its replies.
    items = sorted(document["items"], key=lambda i: -int(i["minutes_ago"]))
    for item in items:
        created = reference - timedelta(minutes=int(item["minutes_ago"]))
        ids[item["key"]] = add_item(state, people, person_table, item, ids, created)
        labels[item["key"]] = dict(item.get("labels", {}))
    return LoadedSeed(ids=ids, labels=labels, items=items)
