"""Localised building blocks of a reply (greeting, care, remedy, private channel, policy link).

They are computed in Python, not in templates, so that every template and the fallback draft
word the policy-critical parts the same way, and the lint can recognise them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from social_care.config import Brand

_GREET_NAMED = {
    "pt": ("Oi, {name}!", "Olá, {name}!"),
    "en": ("Hi {name}!", "Hello {name}!"),
    "es": ("¡Hola, {name}!", "¡Hola, {name}!"),
}
_GREET_PLAIN = {"pt": ("Oi!", "Olá!"), "en": ("Hi!", "Hello!"), "es": ("¡Hola!", "¡Hola!")}

# Severity 3 (accusation) and 4 (blame, threat) get an explicit acknowledgement and priority;
# below that the category apology in the template is the right amount of care.
_CARE = {
    "pt": {
        3: (
            "Entendemos sua insatisfação e vamos tratar seu caso com prioridade.",
            "Seu caso terá prioridade.",
        ),
        4: (
            "Entendemos sua frustração e queremos resolver isso com você, com toda a prioridade.",
            "Seu caso terá prioridade.",
        ),
    },
    "en": {
        3: (
            "We understand your frustration and we're making your case a priority.",
            "Your case is a priority.",
        ),
        4: (
            "We completely understand your frustration and want to make this right with you as a priority.",
            "Your case is a priority.",
        ),
    },
    "es": {
        3: (
            "Entendemos cómo te sientes y vamos a dar prioridad a tu caso.",
            "Tu caso es prioridad.",
        ),
        4: (
            "Entendemos totalmente tu frustración y queremos resolverlo contigo con total prioridad.",
            "Tu caso es prioridad.",
        ),
    },
}

REMEDY_PHRASES: dict[str, dict[str, str]] = {
    "pt": {
        "refund": "fazer o reembolso",
        "exchange": "trocar o produto",
        "reshipment": "reenviar o pedido",
        "voucher": "oferecer um cupom",
    },
    "en": {
        "refund": "refund you",
        "exchange": "exchange the item",
        "reshipment": "reship your order",
        "voucher": "offer you a voucher",
    },
    "es": {
        "refund": "hacer el reembolso",
        "exchange": "cambiar el producto",
        "reshipment": "reenviar tu pedido",
        "voucher": "ofrecerte un cupón",
    },
}
_REMEDY_VERB = {"pt": "oferecer {}", "en": "offer {}", "es": "ofrecer {}"}
_OR = {"pt": "ou", "en": "or", "es": "o"}
_REMEDY_ONE = {"pt": "Podemos {} pra você.", "en": "We can {}.", "es": "Podemos {}."}
_REMEDY_MANY = {
    "pt": ("Podemos {}, como você preferir.", "Podemos {}."),
    "en": ("We can {}, whichever you prefer.", "We can {}."),
    "es": ("Podemos {}, como prefieras.", "Podemos {}."),
}

_DM = {
    "pt": {"facebook": "no inbox", "default": "na DM"},
    "en": {"facebook": "by private message", "default": "by DM"},
    "es": {"facebook": "por mensaje privado", "default": "por DM"},
}
_WHATSAPP = {"pt": "no WhatsApp {}", "en": "on WhatsApp at {}", "es": "por WhatsApp al {}"}
_EMAIL = {"pt": "pelo e-mail {}", "en": "by e-mail at {}", "es": "por correo a {}"}
_CHANNEL_LEAD = {
    "pt": "Nos chame {channels}",
    "en": "Reach us {channels}",
    "es": "Escríbenos {channels}",
}
_WITH_ORDER = {
    "pt": " com o número do pedido",
    "en": " with your order number",
    "es": " con el número de pedido",
}
# The short variant for tight replies (X): "nº" and a comma instead of a clause.
_BRIEF_ORDER = {
    "pt": " com o nº do pedido",
    "en": " with your order number",
    "es": " con tu nº de pedido",
}
_BRIEF_TIME = {
    "pt": ", respondemos {}.",
    "en": " and we'll reply {}.",
    "es": " y te respondemos {}.",
}
_CHANNEL_TIME = {
    "pt": " e te respondemos {}.",
    "en": " and we'll reply {}.",
    "es": " y te respondemos {}.",
}
_CHANNEL_PURPOSE = {
    "pt": {
        "complaint": " para resolvermos isso rapidinho.",
        "question": " para te ajudarmos rapidinho.",
    },
    "en": {
        "complaint": " so we can sort this out quickly.",
        "question": " so we can help you quickly.",
    },
    "es": {"complaint": " para resolverlo rápido.", "question": " para ayudarte rápido."},
}

_POLICY = {
    "pt": {
        "delivery": ("Confira nossa política de entregas: {}", "Política de entregas: {}"),
        "returns": ("Confira nossa política de trocas e devoluções: {}", "Trocas e devoluções: {}"),
        "refunds": ("Confira nossa política de reembolso: {}", "Política de reembolso: {}"),
    },
    "en": {
        "delivery": ("Here's our delivery policy: {}", "Delivery policy: {}"),
        "returns": ("Here's our returns policy: {}", "Returns policy: {}"),
        "refunds": ("Here's our refund policy: {}", "Refund policy: {}"),
    },
    "es": {
        "delivery": ("Aquí está nuestra política de envíos: {}", "Política de envíos: {}"),
        "returns": (
            "Aquí está nuestra política de cambios y devoluciones: {}",
            "Cambios y devoluciones: {}",
        ),
        "refunds": ("Aquí está nuestra política de reembolsos: {}", "Reembolsos: {}"),
    },
}


def greeting(
    lang: str, *, platform: str, name: str | None, handle: str | None, variant: int, brief: bool
) -> str:
    """On X the leading @handle already addresses the person; elsewhere greet by first name."""
    if platform == "x":
        return "" if brief else _GREET_PLAIN[lang][variant % 2]
    who = name or (f"@{handle}" if handle else None)
    if who:
        return _GREET_NAMED[lang][variant % 2].format(name=who)
    return _GREET_PLAIN[lang][variant % 2]


def care(lang: str, severity: int, *, brief: bool) -> str:
    options = _CARE[lang].get(min(severity, 4)) if severity >= 3 else None
    return (options[1] if brief else options[0]) if options else ""


def remedy_phrase(lang: str, remedy: str) -> str:
    return REMEDY_PHRASES[lang].get(remedy) or _REMEDY_VERB[lang].format(remedy.replace("_", " "))


def remedy_sentence(lang: str, remedies: list[str], *, brief: bool) -> str:
    phrases = [remedy_phrase(lang, r) for r in remedies]
    if not phrases:
        return ""
    if len(phrases) == 1:
        return _REMEDY_ONE[lang].format(phrases[0])
    joined = f"{', '.join(phrases[:-1])} {_OR[lang]} {phrases[-1]}"
    return _REMEDY_MANY[lang][1 if brief else 0].format(joined)


def channels(lang: str, platform: str, brand: Brand) -> list[str]:
    """The private channels the brand configured, worded for the sentence "reach us ..."."""
    private = brand.private_channel
    found: list[str] = []
    if private.direct_message:
        found.append(_DM[lang].get(platform, _DM[lang]["default"]))
    if private.whatsapp:
        found.append(_WHATSAPP[lang].format(private.whatsapp))
    if private.email:
        found.append(_EMAIL[lang].format(private.email))
    return found


def channel_sentence(
    lang: str, platform: str, brand: Brand, *, intent: str, with_order: bool, brief: bool
) -> str:
    """Move order details to a private channel, with the promised answer time when configured."""
    offered = channels(lang, platform, brand)
    if not offered:
        return ""
    if brief:  # a short reply names one channel; the first is the platform's own (DM) when enabled
        offered = offered[:1]
    joined = (
        offered[0] if len(offered) == 1 else f"{', '.join(offered[:-1])} {_OR[lang]} {offered[-1]}"
    )
    order = (_BRIEF_ORDER if brief else _WITH_ORDER)[lang] if with_order else ""
    lead = _CHANNEL_LEAD[lang].format(channels=joined) + order
    response_time = brand.private_channel.response_time.get(lang, "").strip()
    if response_time:
        return lead + (_BRIEF_TIME if brief else _CHANNEL_TIME)[lang].format(response_time)
    if brief:
        return lead + "."
    return lead + _CHANNEL_PURPOSE[lang].get(intent, _CHANNEL_PURPOSE[lang]["question"])


def policy_sentence(
    lang: str, link_kind: str | None, url: str, *, brief: bool, tight: bool = False
) -> str:
    if not link_kind or not url:
        return ""
    if tight:  # the bare link: the sentences before it already say what it is about
        return url
    return _POLICY[lang][link_kind][1 if brief else 0].format(url)
