"""The fictional brand accounts and the credentials the sandbox accepts.

config.yaml and the tests reference these constants; the sandbox rejects any other token.
"""

from __future__ import annotations

BRAND_NAME = "Loja Aurora"

X_USER_ID = "1460598423711113216"
X_HANDLE = "lojaaurora"

FB_PAGE_ID = "104738215672913"
FB_PAGE_NAME = BRAND_NAME

IG_USER_ID = "17841405309211844"
IG_USERNAME = "lojaaurora"

# The Facebook user (a community manager) whose token administers the Instagram account.
IG_TOKEN_OWNER_ID = "10229384756102938"
IG_TOKEN_OWNER_NAME = "Equipe Social Aurora"

APP_SECRET = "sandbox-app-secret"
WEBHOOK_VERIFY_TOKEN = "sandbox-verify-token"

# X: an app-only bearer token (reads only), an OAuth 2 user token (reads and replies)
# and OAuth 1.0a user keys (reads and replies).
X_APP_BEARER_TOKEN = "sandbox-x-app-bearer"
X_USER_BEARER_TOKEN = "sandbox-x-user-bearer"
X_CONSUMER_KEY = "sandbox-x-consumer-key"
X_CONSUMER_SECRET = "sandbox-x-consumer-secret"
X_ACCESS_TOKEN = f"{X_USER_ID}-sandbox-x-access-token"
X_ACCESS_TOKEN_SECRET = "sandbox-x-access-token-secret"

FB_PAGE_ACCESS_TOKEN = "sandbox-fb-page-token"
IG_ACCESS_TOKEN = "sandbox-ig-token"


def sandbox_secrets() -> dict[str, dict[str, str]]:
    """The secrets, per platform, that make every connector work against the sandbox."""
    return {
        "x": {
            "bearer_token": X_USER_BEARER_TOKEN,
            "consumer_key": X_CONSUMER_KEY,
            "consumer_secret": X_CONSUMER_SECRET,
            "access_token": X_ACCESS_TOKEN,
            "access_token_secret": X_ACCESS_TOKEN_SECRET,
        },
        "facebook": {"page_access_token": FB_PAGE_ACCESS_TOKEN, "app_secret": APP_SECRET},
        "instagram": {"access_token": IG_ACCESS_TOKEN, "app_secret": APP_SECRET},
    }
