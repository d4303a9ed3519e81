"""Word patterns (pt, en, es) the policy lint recognises: thanks, apology, remedies, personal data."""

from __future__ import annotations

import re


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


# Patterns match any supported language: the language rule checks the language separately, and a
# reviewer mixing languages should not also lose the thanks/apology checks.
THANKS = _any(
    r"obrigad[oa]s?",
    r"agradec",
    r"\bvaleu\b",
    r"\bthank",
    r"\bgrateful\b",
    r"\bappreciate",
    r"\bgracias\b",
)
APOLOGY = _any(
    r"sentimos\s+(muito|mucho)",
    r"lamenta",
    r"desculp",
    r"perd[ãa]o",
    r"\bsorry\b",
    r"apolog",
    r"lo\s+siento",
    r"disculp",
    r"perd[óo]n",
)

# Acknowledging that a problem happened before ("sorry this happened again").
AGAIN = _any(
    r"de\s+novo",
    r"novamente",
    r"outra\s+vez",
    r"repet",
    r"\bagain\b",
    r"de\s+nuevo",
    r"otra\s+vez",
    r"vuelto\s+a",
    r"volvi",
)

# Remedy vocabulary. Policy names ("política de trocas", "returns policy") are removed before
# matching, since naming a policy is not offering its remedy.
REMEDY_WORDS: dict[str, re.Pattern[str]] = {
    "refund": _any(
        r"reembols",
        r"estorn",
        r"dinheiro\s+de\s+volta",
        r"devolu[çc][ãa]o\s+do\s+(valor|dinheiro)",
        r"\brefund",
        r"money\s+back",
        r"devoluci[óo]n\s+del\s+dinero",
        r"devolver(te)?\s+el\s+dinero",
    ),
    "exchange": _any(r"\btroca(r|mos|s)?\b", r"\bexchang", r"\breplace", r"\bcambi(o|ar|amos)\b"),
    "reshipment": _any(
        r"reenvi",
        r"enviar\s+(novamente|de\s+novo|de\s+nuevo|otra\s+vez)",
        r"novo\s+envio",
        r"nuevo\s+env[íi]o",
        r"\bre-?ship",
        r"\bresend",
        r"send\s+(it|them|your\s+order|the\s+item|a\s+new\s+one)\s+again",
    ),
    "voucher": _any(
        r"\bcupo[mn]",
        r"\bcup[óo]n",
        r"\bvoucher",
        r"\bcoupon",
        r"vale[\s-]?compra",
        r"store\s+credit",
        r"\bdesconto",
        r"\bdiscount",
        r"\bdescuento",
    ),
}
POLICY_NAMES = _any(
    r"pol[íi]tica\s+de\s+[^\W\d_]+(\s+(e|y)\s+[^\W\d_]+)?",
    r"\b([^\W\d_]+\s+(and|&)\s+)?[^\W\d_]+\s+polic(y|ies)",
    r"trocas\s+e\s+devolu[çc][õo]es",
    r"cambios\s+y\s+devoluciones",
)

# Deadlines. Only the response times configured per language may be promised.
DEADLINES = _any(
    r"\b\d+\s*(h|hs|hrs?|horas?|hours?|min|mins|minutos?|minutes?|dias?|d[íi]as|days?|semanas?|weeks?)\b",
    r"\bamanh[ãa]\b",
    r"\btomorrow\b",
    r"\bma[ñn]ana\b",
    r"\b(hoje\s+mesmo|ainda\s+hoje|by\s+today|today\s+itself|by\s+end\s+of\s+day|hoy\s+mismo)\b",
    r"\b(vinte\s+e\s+quatro|twenty[\s-]four|veinticuatro)\s+(horas|hours)\b",
)

URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
# The lookbehind keeps these linear on long runs of word characters (no retry mid-run).
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(\.[\w-]+)+")

PERSONAL_DATA = _any(
    r"n[úu]mero\s+d[oe]\s+(seu\s+|su\s+|tu\s+)?pedido",
    r"\bn[º°o]\.?\s*d[oe]\s+pedido",
    r"c[óo]digo\s+d[oe]\s+(seu\s+)?pedido",
    r"\bcpf\b",
    r"\brg\b",
    r"\bcnpj\b",
    r"\bendere[çc]o\b",
    r"\be-?mail\b",
    r"\btelefone\b",
    r"\bcelular\b",
    r"\bcart[ãa]o\b",
    r"seus\s+dados",
    r"order\s*(number|no\.?|#|id)",
    r"\baddress\b",
    r"\bphone\b",
    r"\bcard\b",
    r"your\s+(personal\s+)?(details|data|info)\b",
    r"\bdni\b",
    r"\bdirecci[óo]n\b",
    r"\bcorreo\b",
    r"\btel[ée]fono\b",
    r"\btarjeta\b",
    r"tus\s+datos",
)
# What makes a sentence a request ("qual o número...", "send us...", a question mark).
DATA_REQUEST = _any(
    r"\?",
    r"\b(qual|quais|informe|informa|envie|envia|mande|manda|passe|passa|diga|digite|coloque|comente|confirme|confirma|compartilhe|poderia|precisamos|fala|responda|deixe)\b",
    r"\b(what'?s|what\s+is|send|share|tell\s+us|provide|give\s+us|reply\s+with|post|comment|confirm|could\s+you|can\s+you|please|we\s+need|drop)\b",
    r"\b(cu[áa]l|ind[íi]ca(nos)?|env[íi]a(nos)?|comparte|dinos|danos|p[áa]sanos|confirma|necesitamos|podr[íi]as|deja)\b",
)
# What moves the data to a private channel.
PRIVATE_CUE = _any(
    r"\bdm\b",
    r"\bdirect\b",
    r"\binbox\b",
    r"\bmessenger\b",
    r"\bwhats\s*app\b",
    r"\bprivad[oa]\b",
    r"\bprivate(ly)?\b",
    r"mensagem\s+(privada|direta)",
    r"mensaje\s+(privado|directo)",
    r"\b(por|pelo|via|by|no|al|a\s+nuestro)\s+(e-?mail|correo)\b",
    r"(?<![\w.+-])[\w.+-]+@[\w-]+(\.[\w-]+)+",
)
DM_WORDS = _any(
    r"\bdm\b",
    r"\bdirect\b",
    r"\binbox\b",
    r"\bmessenger\b",
    r"mensagem\s+(privada|direta)",
    r"private\s+message",
    r"mensaje\s+(privado|directo)",
)
WHATSAPP = _any(r"\bwhats\s*app\b")

PLACEHOLDER = re.compile(
    r"\{\{|\}\}|\{%|%\}|\{#|#\}|\[[A-Z][A-Z0-9_ ]*\]|<[^<>\s][^<>]*>|\bTODO\b|\bXXX\b|\bFIXME\b|\bTBD\b"
)

# Words frequent in one language and absent from the other two (accents kept, so "está" vs "esta").
STOPWORDS: dict[str, frozenset[str]] = {
    "pt": frozenset(
        [
            "você",
            "voce",
            "não",
            "nao",
            "obrigado",
            "obrigada",
            "sentimos",
            "muito",
            "pelo",
            "pela",
            "seu",
            "sua",
            "nosso",
            "nossa",
            "com",
            "um",
            "uma",
            "isso",
            "está",
            "estamos",
            "já",
            "também",
            "agradecemos",
            "gente",
            "ou",
            "ao",
            "do",
            "da",
            "dos",
            "das",
            "na",
            "em",
            "pra",
            "chame",
            "oi",
            "olá",
            "vamos",
        ]
    ),
    "en": frozenset(
        [
            "the",
            "and",
            "you",
            "your",
            "we",
            "us",
            "our",
            "to",
            "of",
            "for",
            "is",
            "it",
            "this",
            "that",
            "with",
            "sorry",
            "thanks",
            "thank",
            "here",
            "please",
            "can",
            "will",
            "we're",
            "we'll",
            "hi",
            "hello",
            "order",
            "reach",
            "again",
            "be",
            "on",
            "in",
            "at",
        ]
    ),
    "es": frozenset(
        [
            "gracias",
            "mucho",
            "mucha",
            "muy",
            "con",
            "el",
            "los",
            "las",
            "del",
            "al",
            "en",
            "y",
            "lo",
            "es",
            "tu",
            "tus",
            "su",
            "sus",
            "hola",
            "nuestro",
            "nuestra",
            "nosotros",
            "escríbenos",
            "tuviste",
            "hayas",
            "contigo",
            "aquí",
            "también",
        ]
    ),
}
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
