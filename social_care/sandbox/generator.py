"""Deterministic synthetic mentions composed from phrase pieces, for benchmarks, soak tests and
the sandbox's drip.

``generate_mentions(n, seed)`` always returns the same items for the same arguments. Each item has
the seed file's item shape plus an inline ``person``, so :func:`add_generated_mention` can put it
into a sandbox state.
"""

from __future__ import annotations

import itertools
import random
import unicodedata
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from social_care.sandbox import accounts
from social_care.sandbox.seed_loader import People, add_item, ensure_person
from social_care.sandbox.state import SandboxState

PLATFORM_WEIGHTS = {"x": 0.4, "facebook": 0.3, "instagram": 0.3}
LANGUAGE_WEIGHTS = {"pt": 0.8, "en": 0.13, "es": 0.07}
INTENT_WEIGHTS = {"complaint": 0.5, "question": 0.22, "praise": 0.13, "noise": 0.08, "spam": 0.07}

FIRST_NAMES = [
    "Ana",
    "Bruno",
    "Camila",
    "Diego",
    "Eduarda",
    "Felipe",
    "Giovana",
    "Henrique",
    "Isabela",
    "João",
    "Karina",
    "Leandro",
    "Manuela",
    "Nicolas",
    "Olívia",
    "Paulo",
    "Quésia",
    "Rodrigo",
    "Sabrina",
    "Túlio",
    "Úrsula",
    "Vinícius",
    "Wesley",
    "Yasmin",
    "Zeca",
    "Emily",
    "Mark",
    "Lucía",
    "Martín",
]
SURNAMES = [
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Rodrigues",
    "Ferreira",
    "Alves",
    "Pereira",
    "Lima",
    "Gomes",
    "Costa",
    "Ribeiro",
    "Martins",
    "Carvalho",
    "Araújo",
    "Melo",
    "Barros",
    "Cardoso",
    "Nunes",
    "Teixeira",
    "Moreira",
    "Cavalcanti",
    "Dias",
    "Castro",
    "Campos",
    "Brown",
    "García",
]
CITIES = [
    "Recife",
    "Salvador",
    "Belo Horizonte",
    "Curitiba",
    "Fortaleza",
    "Manaus",
    "Goiânia",
    "Belém",
    "Florianópolis",
    "Natal",
    "Campinas",
    "Porto Alegre",
    "Vitória",
    "São Luís",
]
PRODUCTS = {
    "pt": [
        "air fryer",
        "sofá",
        "jogo de panelas",
        "luminária",
        "tapete",
        "cafeteira",
        "cadeira de escritório",
        "jogo de cama",
        "mochila",
        "liquidificador",
        "guarda-roupa",
        "conjunto de taças",
    ],
    "en": [
        "air fryer",
        "sofa",
        "cookware set",
        "lamp",
        "rug",
        "coffee maker",
        "office chair",
        "backpack",
    ],
    "es": [
        "freidora de aire",
        "sofá",
        "juego de ollas",
        "lámpara",
        "alfombra",
        "cafetera",
        "mochila",
    ],
}

COMPLAINTS: dict[str, dict[str, list[str]]] = {
    "pt": {
        "delivery_late": [
            "meu pedido {order} era pra chegar há {days} dias e nada",
            "o rastreio do pedido {order} está parado há {days} dias",
        ],
        "delivery_lost": [
            "a transportadora diz que entregou o pedido {order} mas nunca recebi",
            "meu pedido {order} foi extraviado",
        ],
        "wrong_item": [
            "pedi {product} e chegou outra coisa",
            "veio o tamanho errado no pedido {order}",
        ],
        "damaged_defective": [
            "{product} chegou quebrado",
            "{product} parou de funcionar com {days} dias de uso",
        ],
        "refund_return": [
            "devolvi {product} há {days} dias e nada do reembolso",
            "solicitei a troca do pedido {order} e ninguém retorna",
        ],
        "payment_billing": [
            "fui cobrado duas vezes pelo pedido {order}",
            "paguei o Pix e o pedido {order} continua aguardando pagamento",
        ],
        "customer_service": [
            "mandei {days} mensagens e ninguém responde",
            "o chat fecha sozinho e ninguém atende",
        ],
        "website_app": ["o app trava na hora de pagar", "o site dá erro ao aplicar o cupom"],
        "other": [
            "a nota fiscal do pedido {order} veio com meu nome errado",
            "o montador não apareceu no horário marcado",
        ],
    },
    "en": {
        "delivery_late": [
            "order {order} is {days} days late",
            "tracking for order {order} hasn't moved in {days} days",
        ],
        "delivery_lost": [
            "my package was marked delivered but never arrived",
            "order {order} got lost",
        ],
        "wrong_item": [
            "I ordered a {product} and got something else",
            "wrong size in order {order}",
        ],
        "damaged_defective": [
            "the {product} arrived broken",
            "my {product} stopped working after {days} days",
        ],
        "refund_return": ["returned the {product} {days} days ago and still no refund"],
        "payment_billing": ["I was charged twice for order {order}"],
        "customer_service": ["{days} emails and not a single reply"],
        "website_app": ["the checkout page keeps crashing"],
        "other": ["the invoice for order {order} is wrong"],
    },
    "es": {
        "delivery_late": ["mi pedido {order} lleva {days} días de retraso"],
        "delivery_lost": ["mi pedido {order} se perdió"],
        "wrong_item": ["pedí {product} y llegó otra cosa"],
        "damaged_defective": ["la {product} llegó rota"],
        "refund_return": ["devolví la {product} hace {days} días y no me reembolsan"],
        "payment_billing": ["me cobraron dos veces el pedido {order}"],
        "customer_service": ["nadie responde mis mensajes"],
        "website_app": ["la app se cierra al pagar"],
        "other": ["la factura del pedido {order} está mal"],
    },
}
SEVERITY_CLOSERS: dict[str, list[list[str]]] = {
    "pt": [
        [""],
        ["Podem me ajudar?", "Aguardo retorno, obrigada."],
        ["Que decepção.", "Já é a segunda vez!"],
        ["Quero uma solução AGORA.", "Absurdo, ninguém resolve nada!!"],
        [
            "Vou abrir reclamação no Procon.",
            "Vou registrar no Reclame Aqui.",
            "Já falei com meu advogado.",
            "Nunca mais compro e vou avisar todo mundo.",
        ],
    ],
    "en": [
        [""],
        ["Can you help?"],
        ["Really disappointed."],
        ["Fix this NOW."],
        ["Filing a chargeback.", "My lawyer will contact you."],
    ],
    "es": [
        [""],
        ["¿Me ayudan?"],
        ["Qué decepción."],
        ["¡Quiero una solución YA!"],
        ["Voy a denunciarlos."],
    ],
}
QUESTIONS = {
    "pt": [
        ("delivery_late", "qual o prazo de entrega pra {city}?"),
        ("refund_return", "como funciona a troca de {product}?"),
        ("other", "a {product} tem em outras cores?"),
        ("other", "como sei meu tamanho? tem tabela de medidas?"),
        ("payment_billing", "parcelam em quantas vezes sem juros?"),
    ],
    "en": [
        ("delivery_late", "do you ship to {city}?"),
        ("refund_return", "what's your return policy?"),
    ],
    "es": [
        ("delivery_late", "¿hacen envíos a {city}?"),
        ("other", "¿la {product} viene en otros colores?"),
    ],
}
PRAISE = {
    "pt": [
        "amei {product}, chegou antes do prazo!",
        "atendimento nota 10, resolveram tudo rapidinho 👏",
        "melhor compra do ano 💛",
    ],
    "en": ["love my new {product}!", "great service, thanks!"],
    "es": ["¡me encantó la {product}!", "excelente atención, gracias"],
}
NOISE = {
    "pt": [
        "alguém viu o jogo ontem?",
        "bom dia pra quem já tomou café ☕",
        "que frio hoje em {city}",
    ],
    "en": ["what a game last night", "coffee first, then everything else"],
    "es": ["qué calor hace hoy", "buenos días a todos"],
}
SPAM = [
    "GANHE R$500 POR DIA trabalhando de casa! link na bio 💰",
    "Seguidores reais e baratos, chama no direct!!",
    "Earn $$$ from home, DM me 🚀",
]


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _ascii(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", text) if c.isascii() and c.isalnum()
    ).lower()


def iter_mentions(seed: int = 0) -> Iterator[dict[str, Any]]:
    """An endless, reproducible stream of synthetic mentions (the drip's source)."""
    rng = random.Random(seed)
    for index in itertools.count():
        yield _one_mention(rng, index, seed)


def generate_mentions(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` synthetic mentions, reproducible for a given ``seed``; a prefix of
    ``iter_mentions(seed)``."""
    return list(itertools.islice(iter_mentions(seed), n))


def _one_mention(rng: random.Random, index: int, seed: int) -> dict[str, Any]:
    platform = _pick(rng, PLATFORM_WEIGHTS)
    lang = _pick(rng, LANGUAGE_WEIGHTS)
    intent = _pick(rng, INTENT_WEIGHTS)
    first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
    handle = f"{_ascii(first)}{rng.choice(['', '_', '.'])}{_ascii(last)}{rng.randint(1, 999)}"
    if platform == "x":
        handle = handle.replace(".", "_")
    slots = {
        "order": f"#{rng.randint(10000, 99999)}",
        "days": str(rng.randint(2, 30)),
        "product": rng.choice(PRODUCTS[lang]),
        "city": rng.choice(CITIES),
    }
    category, severity = "other", 0
    if intent == "complaint":
        category = rng.choice(sorted(COMPLAINTS[lang]))
        severity = rng.choices([1, 2, 3, 4], weights=[0.35, 0.3, 0.2, 0.15])[0]
        body = (
            rng.choice(COMPLAINTS[lang][category])
            + ". "
            + rng.choice(SEVERITY_CLOSERS[lang][severity])
        )
    elif intent == "question":
        category, body = rng.choice(QUESTIONS[lang])
    elif intent == "praise":
        body = rng.choice(PRAISE[lang])
    elif intent == "noise":
        body = rng.choice(NOISE[lang])
    else:
        body = rng.choice(SPAM)
    text = body.format(**slots).strip()
    text = text[0].upper() + text[1:]
    if platform == "x" and intent != "noise":
        text = f"@{accounts.X_HANDLE} {text}"
    person: dict[str, Any] = {"name": f"{first} {last}"}
    followers = int(rng.paretovariate(1.2) * 80)
    if platform == "x":
        person["x"] = {"username": handle, "followers": followers}
    elif platform == "instagram":
        person["instagram"] = {"username": handle, "followers": followers}
    item: dict[str, Any] = {
        "key": f"gen-{seed}-{index}",
        "platform": platform,
        "author": f"gen:{handle}",
        "person": person,
        "lang": lang,
        "text": text,
        "minutes_ago": 0,
        "labels": {"intent": intent, "category": category, "severity": severity},
    }
    if platform == "facebook":
        # Visitors post on the page or comment under its newest post.
        item["type"] = rng.choice(["post", "comment"])
        if item["type"] == "post":
            item["kind"] = "visitor"
    elif platform == "instagram":
        item["type"] = "comment"
    return item


class GeneratedMentionWriter:
    """Adds generated mentions to a state, reusing the accounts it created before."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.people = People()

    def add(self, item: dict[str, Any], created: datetime | None = None) -> str:
        """Add one generated item; comments go under the brand's newest post or media."""
        state = self.state
        prepared = dict(item)
        ids: dict[str, str] = {}
        if item["platform"] == "facebook" and item.get("type") == "comment":
            posts = state.page_posts(("page",))
            target = (
                posts[0].id
                if posts
                else state.add_fb_post(
                    accounts.FB_PAGE_ID, "Novidades da semana na Loja Aurora ✨", kind="page"
                ).id
            )
            prepared["on"], ids["target"] = "target", target
        if item["platform"] == "instagram":
            media = state.media_of(accounts.IG_USER_ID)
            target = (
                media[0].id
                if media
                else state.add_ig_media(
                    accounts.IG_USER_ID, "Novidades da semana ✨ #lojaaurora"
                ).id
            )
            prepared["on"], ids["target"] = "target", target
        table = {item["author"]: item["person"]}
        ensure_person(state, self.people, item["author"], item["person"], item["platform"])
        return add_item(state, self.people, table, prepared, ids, created)
