"""The safe generic draft used when a template is missing or broken: plain Python, no template."""

from __future__ import annotations

from typing import Any

_OPENING = {
    "pt": {
        "complaint": "Sentimos muito pelo transtorno e agradecemos por nos avisar.",
        "repeat": "Sentimos muito que isso tenha acontecido de novo e agradecemos por nos avisar.",
        "question": "Agradecemos sua mensagem!",
        "praise": "Muito obrigado pelo carinho! Ficamos muito felizes em ter você com a gente.",
        "other": "Agradecemos sua mensagem!",
    },
    "en": {
        "complaint": "We're sorry for the trouble, and thank you for letting us know.",
        "repeat": "We're sorry this happened again, and thank you for letting us know.",
        "question": "Thanks for your message!",
        "praise": "Thank you so much for the kind words! We're really glad to have you with us.",
        "other": "Thanks for your message!",
    },
    "es": {
        "complaint": "Lo sentimos mucho por las molestias y gracias por avisarnos.",
        "repeat": "Lamentamos mucho que esto haya vuelto a pasar y gracias por avisarnos.",
        "question": "¡Gracias por tu mensaje!",
        "praise": "¡Muchas gracias por tus palabras! Nos alegra mucho tenerte con nosotros.",
        "other": "¡Gracias por tu mensaje!",
    },
}
_FOLLOW_UP = {
    "pt": "Nossa equipe vai te responder por aqui.",
    "en": "Our team will get back to you here.",
    "es": "Nuestro equipo te responderá por aquí.",
}


def fallback_body(context: dict[str, Any]) -> str:
    """Greeting, thanks or apology, and the policy-critical sentences, in the reply language."""
    lang = context["language"]
    intent = context["intent"]
    key = "repeat" if context["repeat_complaint"] else intent
    parts = [context["greeting"], _OPENING[lang].get(key, _OPENING[lang]["other"])]
    if intent == "complaint":
        parts += [context["care"], context["remedy_sentence"]]
    if intent in ("complaint", "question"):
        parts.append(context["channel_sentence"] or _FOLLOW_UP[lang])
        parts.append(context["policy_sentence"])
    return " ".join(part for part in parts if part)


def minimal_body(lang: str) -> str:
    """Used only if even the context could not be built: no request data at all."""
    opening = _OPENING.get(lang, _OPENING["en"])
    return f"{opening['other']} {_FOLLOW_UP.get(lang, _FOLLOW_UP['en'])}"
