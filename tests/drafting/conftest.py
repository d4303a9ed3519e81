"""Fixtures for drafting tests: a fully configured brand, a bare one, and a request factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from social_care.config import Brand, PolicyLinks, PrivateChannel, ReplyPolicy
from social_care.drafting import DraftRequest

ALL_REMEDIES = {
    "delivery": ["reshipment", "refund"],
    "wrong_item": ["exchange", "refund"],
    "damaged_defective": ["exchange", "refund"],
    "refund_return": ["refund"],
}


@pytest.fixture
def brand() -> Brand:
    # Realistic, deliberately long-ish links and all three private channels: the hardest case for X.
    return Brand(
        name="Loja Aurora",
        handles={"x": "lojaaurora", "instagram": "lojaaurora"},
        languages=["pt", "en", "es"],
        default_language="pt",
        policy_links=PolicyLinks(
            returns="https://www.lojaaurora.com.br/politicas/trocas-e-devolucoes",
            delivery="https://www.lojaaurora.com.br/politicas/entregas",
            refunds="https://www.lojaaurora.com.br/politicas/reembolso",
        ),
        private_channel=PrivateChannel(
            direct_message=True,
            email="sac@lojaaurora.com.br",
            whatsapp="(11) 99999-0000",
            response_time={
                "pt": "em até 2 horas",
                "en": "within 2 hours",
                "es": "en menos de 2 horas",
            },
        ),
    )


@pytest.fixture
def policy() -> ReplyPolicy:
    return ReplyPolicy(
        remedies=ALL_REMEDIES,
        signature={"pt": "Equipe Aurora", "en": "Aurora Team", "es": "Equipo Aurora"},
    )


@pytest.fixture
def bare_brand() -> Brand:
    """No links, no e-mail or WhatsApp, no response time: drafts must still be sensible."""
    return Brand(name="Aurora", languages=["pt"], default_language="pt")


@pytest.fixture
def bare_policy() -> ReplyPolicy:
    return ReplyPolicy()


RequestFactory = Callable[..., DraftRequest]


@pytest.fixture
def make_request() -> RequestFactory:
    def make(**overrides: Any) -> DraftRequest:
        values: dict[str, Any] = {
            "platform": "instagram",
            "text": "meu pedido não chegou",
            "language": "pt",
            "author_handle": "ana_silva",
            "author_name": "Ana Souza",
            "intent": "complaint",
            "sentiment": "negative",
            "complaint": True,
            "categories": ("delivery",),
            "severity": 2,
            "remedy_due": True,
        }
        values.update(overrides)
        if "intent" in overrides and "complaint" not in overrides:
            values["complaint"] = overrides["intent"] == "complaint"
        return DraftRequest(**values)

    return make
