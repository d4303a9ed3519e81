"""Keyword rules (EN + pt-BR) that give weak training labels for categories, remedy and severity.

No public data set labels complaint categories, remedy or (for Portuguese) severity, so the
training texts get labels from these rules, applied to real complaint texts only. The rules follow
the care_gold label definitions (data/care_gold/README.md); their agreement with the hand labels
on care_gold/dev is measured by `python -m social_care.classifier.weak_labels DATA_DIR` and
reported in the model card. A rule that does not fire leaves the label unknown (masked in
training), rather than asserting a negative.
"""

from __future__ import annotations

import re
import unicodedata

from social_care.classifier.labels import CATEGORIES


def fold(text: str) -> str:
    """Lower-case and strip accents so one pattern matches "não"/"nao", "ninguém"/"ninguem"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


# Patterns run on fold(text): lower-case, no accents.
CATEGORY_RULES: dict[str, re.Pattern[str]] = {
    "delivery": _rx(
        r"\bdeliver",
        r"\bshipping\b",
        r"\bshipment",
        r"\bshipped\b",
        r"\bpackage\b",
        r"\bparcel",
        r"\btracking\b",
        r"\bcourier",
        r"\bfedex\b",
        r"\busps\b",
        r"\bdhl\b",
        r"\bin transit\b",
        r"(never|not|hasn'?t|didn'?t|still not) (arrived|received|come|showed up)",
        r"\bentreg",
        r"\bnao (chegou|recebi|veio|foi entregue)",
        r"\bainda nao (chegou|recebi)",
        r"\batras",
        r"\bprazo\b",
        r"\bcorreios\b",
        r"\btransportadora",
        r"\brastrei",
        r"\bnunca chegou",
        r"\bnao recebemos",
        r"\bextravi",
    ),
    "wrong_item": _rx(
        r"\bwrong (item|size|colou?r|order|product|model|one|thing)",
        r"not what i ordered",
        r"\bmissing (item|part|piece|accessor)",
        r"\bsent me the wrong",
        r"\b(produto|item|modelo|cor|tamanho|voltagem|pedido) errad",
        r"\bveio errad",
        r"\bdiferente (do|da) (anunciad|foto|pedid|que (comprei|pedi))",
        r"\bfaltando\b",
        r"\bveio sem\b",
        r"\bveio faltando",
        r"\boutro produto\b",
        r"\bveio outr",
        r"\bnao veio (o|a|os|as) ",
        r"\bfalt(ou|a|am) (a|o|uma|um|as|os)? ?(peca|pecas|parafuso|cabo|controle|tampa|acessorio)",
    ),
    "damaged_defective": _rx(
        r"\bbroken\b",
        r"\bbroke\b",
        r"\bdefect",
        r"\bdamaged\b",
        r"\bfaulty\b",
        r"\bcracked\b",
        r"(does ?n'?o?t|doesnt|isn'?t|not|stopped|won'?t|wont|cant|can'?t) (work|working|charge|turn on|load|connect|print|open|stream|play)",
        r"\bkeeps? (crashing|freezing|dropping|disconnecting)",
        r"\bcrash",
        r"\bglitch",
        r"\boutage",
        r"\bno (signal|service|internet|power)\b",
        r"\bpoor quality\b",
        r"\bbug\b",
        r"\bquebr",
        r"\bdefeito",
        r"\bdefeituos",
        r"\bnao (funciona|liga|carrega|conecta|presta)",
        r"\bparou de funcionar",
        r"\bdanific",
        r"\bamassad",
        r"\briscad",
        r"\btrincad",
        r"\b(pessima|baixa|ma) qualidade",
        r"\bqualidade (ruim|pessima|baixa)",
        r"\bvazando",
        r"\bfalha",
        r"\besquenta muito",
        r"\bnao serve\b",
        r"\bqueim",
        r"\bavaria",
        r"\bmanchad",
        r"\bdead batter",
        r"\brusting\b",
    ),
    "refund_return": _rx(
        r"\brefund",
        r"\breturn(ed|ing)?\b",
        r"\bexchange\b",
        r"\bcancel",
        r"\bwarranty",
        r"\bmoney back",
        r"\breimburs",
        r"\breembols",
        r"\bdevol",
        r"\btroca\b",
        r"\btrocar\b",
        r"\bestorn",
        r"\bcancel",
        r"\bgarantia",
        r"\bdinheiro de volta",
        r"\barrependimento",
    ),
    "payment_billing": _rx(
        r"\bcharg(e|ed|es|ing)\b",
        r"\bbill(ed|ing)?\b",
        r"\bfees?\b",
        r"\bovercharg",
        r"\bpayment",
        r"\binvoice",
        r"\bcredit card",
        r"\bprice (increase|hike)",
        r"\bcoupon",
        r"\bcobr",
        r"\bfatura",
        r"\bboleto",
        r"\bpagamento",
        r"\bpaguei\b",
        r"\bcartao\b",
        r"\bjuros\b",
        r"\btaxa\b",
        r"\bcupom",
        r"\bfrete (caro|abusivo)",
        r"\bvalor cobrado",
    ),
    "customer_service": _rx(
        r"customer (service|care|support)",
        r"\bno (response|reply|answer|one (answers|responds|helps|replied))",
        r"\bnobody\b",
        r"\bon hold\b",
        r"\bhold for\b",
        r"\brude\b",
        r"\bunhelpful\b",
        r"\brepresentative",
        r"\bno support\b",
        r"\bignor",
        r"\bwaiting for (a )?(response|reply|call)",
        r"\bhung up",
        r"\bcalled \d+ times",
        r"\bstill no (reply|response|answer)",
        r"\batendiment",
        r"\bsac\b",
        r"\bninguem (responde|resolve|atende|me)",
        r"\bsem (resposta|retorno)",
        r"\bnao (me )?respond",
        r"\bdescaso",
        r"\bfalta de respeito",
        r"\bliguei",
        r"\bprotocolo",
        r"\bnenhum retorno",
        r"\batendente",
        r"\bnao resolve",
        r"\bnao tive retorno",
    ),
    "website_app": _rx(
        r"\bwebsite",
        r"\bsite\b",
        r"\bapp\b",
        r"\bapps\b",
        r"\blog ?in\b",
        r"\bpassword",
        r"\baccount\b",
        r"\bcheckout",
        r"\bonline\b",
        r"\bstreaming\b",
        r"\bserver",
        r"\bupdate\b",
        r"\bios\b",
        r"\bandroid\b",
        r"\bnetflix\b",
        r"\bitunes\b",
        r"\baplicativo",
        r"\bsenha\b",
        r"\bpelo site",
        r"\bno site\b",
    ),
}

# Problems that, taken as true, justify a refund, exchange, re-shipment or compensation.
REMEDY_RULE = _rx(
    r"(never|not|hasn'?t|didn'?t|still not) (arrived|received|delivered|come)",
    r"\bwrong (item|size|colou?r|order|product|model)",
    r"not what i ordered",
    r"\bmissing (item|part|piece)",
    r"\b(arrived|came|was) (broken|damaged|defective|cracked)",
    r"\bdefective\b",
    r"\bfaulty\b",
    r"\bcharged (me )?(twice|double)",
    r"\bdouble charged",
    r"\bovercharg",
    r"\bnever (got|received) (my|the|a) refund",
    r"\bstill (no|waiting for (my|a)) refund",
    r"\brefund",
    r"\bnao (chegou|recebi|foi entregue)",
    r"\bnunca chegou",
    r"\bainda nao (chegou|recebi)",
    r"\bextravi",
    r"\bveio (errad|quebrad|com defeito|danificad|faltando|sem\b|amassad|riscad|trincad)",
    r"\b(produto|item|modelo|cor|tamanho|voltagem) errad",
    r"\bfaltando\b",
    r"\bdefeito",
    r"\bquebrad",
    r"\bdanificad",
    r"\bparou de funcionar",
    r"\bnao funciona",
    r"\bnao liga\b",
    r"\bcobrad[oa]s? (duas vezes|em dobro|indevid)",
    r"\bcobranca indevida",
    r"\bestorno",
    r"\breembols",
)

SEVERITY_RULES: list[tuple[int, re.Pattern[str]]] = [
    (
        4,
        _rx(
            r"\bprocon\b",
            r"reclame ?aqui",
            r"\badvogad",
            r"\bjustica\b",
            r"\bprocess(ar|o judicial)",
            r"\bnao compre",
            r"\bnunca mais (compro|comprarei|volto)",
            r"\bnao recomendo a ninguem",
            r"\bboycott",
            r"\blawyer",
            r"\bsue\b",
            r"\blawsuit",
            r"\bnever again\b",
            r"\bdo not (buy|stay|use)",
            r"\bdon'?t (buy|stay|use)",
            r"\bswitch(ing)? to\b",
            r"\bcancel(l?ing)? my\b",
            r"\bbbb\b",
            r"\bvou cancelar",
            r"\bnever (buying|shopping|flying|using)",
            r"\bmudar para",
            r"\bfuck",
        ),
    ),
    (
        3,
        _rx(
            r"\bfalta de respeito",
            r"\bdescaso",
            r"\benganos",
            r"\bengan(ad|ar)",
            r"\bmentir",
            r"\bgolpe",
            r"\broub",
            r"\bpalhacada",
            r"\bvergonha",
            r"\bmisleading",
            r"\bscam\b",
            r"\blie(d|s)?\b",
            r"\bno support\b",
            r"what are you doing",
            r"\bshame on",
            r"\bdisrespect",
            r"\bincompeten",
            r"\bthieves\b",
            r"\bripped off",
            r"\bfalse advert",
        ),
    ),
    (
        2,
        _rx(
            r"\bpessim",
            r"\bhorrivel",
            r"\bruim\b",
            r"\blixo\b",
            r"\bdecepc",
            r"\bnao recomendo",
            r"\bdecepcion",
            r"\babsurdo",
            r"\bridicul",
            r"\bworst\b",
            r"\bterrible\b",
            r"\bawful\b",
            r"\bhorrible\b",
            r"\bugh\b",
            r"\bannoy",
            r"\bfrustrat",
            r"\bdisappoint",
            r"\bsucks?\b",
            r"\bwtf\b",
            r"\bjoke\b",
            r"\bpathetic",
            r"\bunacceptable",
            r"\binaceitavel",
            r"!!",
            "\U0001f621",
            "\U0001f620",
            "\U0001f92c",
        ),
    ),
]

QUESTION_RULE = re.compile(
    r"\?|^(how|what|when|where|why|can|could|do|does|is|are|will|como|quando|onde|qual|por ?que|posso|tem)\b"
)


def categories_for(text: str) -> list[str]:
    """Categories whose keyword rule fires on the text (possibly none)."""
    folded = fold(text)
    return [c for c in CATEGORIES if c in CATEGORY_RULES and CATEGORY_RULES[c].search(folded)]


def remedy_for(text: str) -> bool:
    return bool(REMEDY_RULE.search(fold(text)))


def severity_for(text: str) -> int:
    """Severity 1-4 of a text already known to be a complaint."""
    folded = fold(text)
    for level, rule in SEVERITY_RULES:
        if rule.search(folded):
            return level
    return 1


def looks_like_question(text: str) -> bool:
    return bool(QUESTION_RULE.search(fold(text).strip()))
