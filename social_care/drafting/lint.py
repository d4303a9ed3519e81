"""Policy lint: check any reply text (drafted or edited by a human) against the reply policy.

Errors block approval unless a reviewer records an override; warnings are shown beside the draft.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from . import vocabulary as v
from .choices import (
    allowed_remedies,
    effective_intent,
    fitting_links,
    main_category,
    max_length,
    needs_private_channel,
    offered_remedies,
    remedy_category,
    reply_language,
)
from .models import DraftRequest, LintFinding
from .people import clean_handle, first_name
from .phrases import REMEDY_PHRASES

if TYPE_CHECKING:
    from social_care.config import Brand, ReplyPolicy

ERROR = "error"
WARNING = "warning"

_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")


def blocking(findings: Sequence[LintFinding]) -> bool:
    """True when any finding is an error (approval then needs an explicit override)."""
    return any(f.level == ERROR for f in findings)


def _finding(rule: str, level: str, message: str) -> LintFinding:
    return LintFinding(rule=rule, level=level, message=message)


def _without_links(text: str) -> str:
    return v.EMAIL.sub(" ", v.URL.sub(" ", text))


def _without_names(text: str, request: DraftRequest, brand: Brand, policy: ReplyPolicy) -> str:
    """The text minus who it names (person, handle, brand, signature): a customer called "Troca" or
    a brand called "Loja 24h" must not read as a remedy or a deadline."""
    names = (
        first_name(request.author_name),
        clean_handle(request.author_handle, request.platform),
        brand.name,
        *policy.signature.values(),
    )
    lowered = text.lower()
    for name in sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True):
        if name.lower() in lowered:  # most names are absent: skip the regex pass
            text = _name_pattern(name).sub(" ", text)
            lowered = text.lower()
    return text


@functools.lru_cache(maxsize=4096)
def _name_pattern(name: str) -> re.Pattern[str]:
    """Cached: the brand's names are in every call, and a draft and its lint share the author's."""
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)


def _check_empty(
    text: str, request: DraftRequest, brand: Brand, policy: ReplyPolicy
) -> list[LintFinding]:
    if text.strip():
        return []
    return [_finding("empty", ERROR, "The reply is empty.")]


def _check_length(
    text: str, request: DraftRequest, brand: Brand, policy: ReplyPolicy
) -> list[LintFinding]:
    limit = max_length(request.platform, policy)
    if limit is None or len(text) <= limit:
        return []
    where = "including the @handle " if request.platform == "x" else ""
    return [
        _finding(
            "length",
            ERROR,
            f"The reply has {len(text)} characters {where}but {request.platform} allows {limit}; shorten it.",
        )
    ]


def _check_placeholder(
    text: str, request: DraftRequest, brand: Brand, policy: ReplyPolicy
) -> list[LintFinding]:
    found = sorted({m.group(0)[:20] for m in v.PLACEHOLDER.finditer(text)})
    if not found:
        return []
    return [
        _finding(
            "placeholder",
            ERROR,
            f"Unresolved placeholder(s) left in the reply: {', '.join(found)}.",
        )
    ]


def _check_thanks(
    text: str, request: DraftRequest, brand: Brand, policy: ReplyPolicy
) -> list[LintFinding]:
    intent = effective_intent(request)
    if intent not in ("praise", "complaint") or v.THANKS.search(text):
        return []
    if intent == "praise":
        return [_finding("thanks", ERROR, "Praise must be thanked: add a thank-you.")]
    return [_finding("thanks", WARNING, "Consider thanking the customer for the feedback.")]


def _check_apology(
    text: str, request: DraftRequest, brand: Brand, policy: ReplyPolicy
) -> list[LintFinding]:
    if effective_intent(request) != "complaint" or v.APOLOGY.search(text):
        return []
    return [_finding("apology", ERROR, "A complaint needs an apology (e.g. 'Sentimos muito...').")]


def _check_policy_link(
    text: str, request: DraftRequest, brand: Brand, policy: ReplyPolicy
) -> list[LintFinding]:
    intent = effective_intent(request)
    if intent not in ("complaint", "question"):
        return []
    category = main_category(request)
    urls = fitting_links(category, brand)
    if not urls or any(url in text for url in urls):
        return []
    level = ERROR if intent == "complaint" else WARNING
    return [
        _finding(
            "policy_link",
            level,
            f"Point to the policy that covers {category.replace('_', ' ')}: {' or '.join(urls)}.",
        )
    ]


def _mentioned_remedies(text: str) -> set[str]:
    """Remedies the text offers (policy names and links removed first)."""
    plain = v.POLICY_NAMES.sub(" ", _without_links(text))
    return {name for name, pattern in v.REMEDY_WORDS.items() if pattern.search(plain)}


def _mentions_remedy(text: str, remedy: str) -> bool:
    if remedy in v.REMEDY_WORDS:
        return remedy in _mentioned_remedies(text)
    # A brand-specific remedy: look for its configured name or the phrase drafts use for it.
    lowered = text.lower()
    words = [remedy.lower(), remedy.replace("_", " ").lower()]
    words += [phrases[remedy].lower() for phrases in REMEDY_PHRASES.values() if remedy in phrases]
    return any(w in lowered for w in words)


def _check_remedy(
    text: str, request: DraftRequest, brand: Brand, policy: ReplyPolicy
) -> list[LintFinding]:
    offered = offered_remedies(request, policy)
    if not offered or any(_mentions_remedy(text, r) for r in offered):
        return []
    category = remedy_category(request, policy) or main_category(request)
    return [
        _finding(
            "remedy",
            ERROR,
            f"The complaint is valid: offer what the policy allows for {category}: {', '.join(offered)}.",
        )
    ]


def _check_promise(
    text: str, request: DraftRequest, brand: Brand, policy: ReplyPolicy
) -> list[LintFinding]:
    findings: list[LintFinding] = []
    # The configured response times and WhatsApp number are the promises the brand made: remove
    # them first, then the names, so that neither reads as an unconfigured deadline or remedy.
    plain = _without_links(text)
    for promised in brand.private_channel.response_time.values():
        if promised.strip():
            plain = re.sub(re.escape(promised.strip()), " ", plain, flags=re.IGNORECASE)
    if brand.private_channel.whatsapp:
        plain = plain.replace(brand.private_channel.whatsapp, " ")
    text = _without_names(plain, request, brand, policy)
    allowed = allowed_remedies(request, policy)
    extra = sorted(_mentioned_remedies(text) - allowed)
    if extra:
        where = ", ".join(request.categories) or "this mention"
        findings.append(
            _finding(
                "promise",
                ERROR,
                f"Offers {', '.join(extra)}, which the policy does not allow for {where} "
                f"(allowed: {', '.join(sorted(allowed)) or 'none'}).",
            )
        )
    deadlines = sorted({m.group(0) for m in v.DEADLINES.finditer(text)})
    if deadlines:
        findings.append(
            _finding(
                "promise",
                ERROR,
                f"Promises a deadline not in the configured response times: {', '.join(deadlines)}.",
            )
        )
    return findings


def _check_private_channel(
    text: str, request: DraftRequest, brand: Brand, policy: ReplyPolicy
) -> list[LintFinding]:
    private = brand.private_channel
    findings: list[LintFinding] = []
    offers_dm = bool(v.DM_WORDS.search(text))
    offers_whatsapp = bool(v.WHATSAPP.search(text))
    emails = {m.group(0).lower() for m in v.EMAIL.finditer(v.URL.sub(" ", text))}
    if offers_dm and not private.direct_message:
        findings.append(
            _finding(
                "private_channel",
                ERROR,
                "Offers DMs, but direct messages are not a configured channel.",
            )
        )
    if offers_whatsapp and not private.whatsapp:
        findings.append(
            _finding(
                "private_channel", ERROR, "Offers WhatsApp, but no WhatsApp number is configured."
            )
        )
    unknown = sorted(emails - {private.email.lower()})
    if unknown:
        findings.append(
            _finding(
                "private_channel",
                ERROR,
                f"Offers an e-mail address that is not the configured one: {', '.join(unknown)}.",
            )
        )
    offered = (
        (offers_dm and private.direct_message)
        or (offers_whatsapp and bool(private.whatsapp))
        or (bool(private.email) and private.email.lower() in emails)
    )
    configured = private.direct_message or bool(private.whatsapp) or bool(private.email)
    if needs_private_channel(request) and not offered:
        if configured:
            level = ERROR if effective_intent(request) == "complaint" else WARNING
            findings.append(
                _finding(
                    "private_channel",
                    level,
                    "Order details are needed: offer a private channel (DM, e-mail or WhatsApp).",
                )
            )
        else:
            findings.append(
                _finding(
                    "private_channel",
                    WARNING,
                    "No private channel is configured (brand.private_channel).",
                )
            )
    lang = reply_language(request, brand)
    response_time = private.response_time.get(lang, "").strip()
    if offered and response_time and response_time.lower() not in text.lower():
        findings.append(
            _finding(
                "private_channel",
                WARNING,
                f"Say how fast the private channel answers: {response_time!r}.",
            )
        )
    return findings


def _check_personal_data(
    text: str, request: DraftRequest, brand: Brand, policy: ReplyPolicy
) -> list[LintFinding]:
    findings = []
    for sentence in _SENTENCES.split(text):
        plain = v.URL.sub(" ", sentence)
        if not v.PERSONAL_DATA.search(plain):  # cheap pre-filter: most sentences name no data
            continue
        # Names are removed only for the data and request words; the private-channel cue is read
        # from the sentence as written (a brand name may be part of the support e-mail address).
        words = _without_names(v.EMAIL.sub(" ", plain), request, brand, policy)
        data = v.PERSONAL_DATA.search(words)
        if data and v.DATA_REQUEST.search(words) and not v.PRIVATE_CUE.search(plain):
            findings.append(
                _finding(
                    "personal_data_request",
                    ERROR,
                    f"Asks for personal data ({data.group(0)}) in public: ask for it by DM or another "
                    f"private channel instead: {sentence.strip()[:120]!r}",
                )
            )
    return findings


def _language_scores(text: str) -> dict[str, int]:
    words = v.WORD.findall(_without_links(text).lower())
    return {lang: sum(1 for w in words if w in stop) for lang, stop in v.STOPWORDS.items()}


def _check_language(
    text: str, request: DraftRequest, brand: Brand, policy: ReplyPolicy
) -> list[LintFinding]:
    lang = reply_language(request, brand)
    scores = _language_scores(text)
    if lang not in scores:
        return []
    detected = max(scores, key=lambda k: scores[k])
    if detected == lang or scores[detected] < 3 or scores[lang] * 2 >= scores[detected]:
        return []
    return [
        _finding(
            "language",
            WARNING,
            f"The reply looks like {detected}, but this mention should be answered in {lang}.",
        )
    ]


def _check_addressed(
    text: str, request: DraftRequest, brand: Brand, policy: ReplyPolicy
) -> list[LintFinding]:
    handle = clean_handle(request.author_handle, request.platform)
    name = first_name(request.author_name)
    lowered = text.lower()
    if request.platform == "x":
        if handle and not lowered.startswith(f"@{handle.lower()}"):
            return [_finding("addressed", WARNING, f"On X the reply should start with @{handle}.")]
        return []
    candidates = [c for c in (name, f"@{handle}" if handle else None) if c]
    if candidates and not any(c.lower() in lowered for c in candidates):
        return [
            _finding(
                "addressed", WARNING, f"Address the person by name ({' or '.join(candidates)})."
            )
        ]
    return []


def _check_history(
    text: str, request: DraftRequest, brand: Brand, policy: ReplyPolicy
) -> list[LintFinding]:
    if effective_intent(request) != "complaint" or request.prior_complaints <= 0:
        return []
    if v.AGAIN.search(text):
        return []
    return [
        _finding(
            "history",
            WARNING,
            f"This customer complained {request.prior_complaints} time(s) before: acknowledge it "
            "(e.g. 'sentimos muito que isso tenha acontecido de novo').",
        )
    ]


_RULES: tuple[Callable[[str, DraftRequest, Brand, ReplyPolicy], list[LintFinding]], ...] = (
    _check_empty,
    _check_length,
    _check_placeholder,
    _check_thanks,
    _check_apology,
    _check_policy_link,
    _check_remedy,
    _check_promise,
    _check_private_channel,
    _check_personal_data,
    _check_language,
    _check_addressed,
    _check_history,
)


def lint_draft(
    text: str, request: DraftRequest, *, brand: Brand, policy: ReplyPolicy
) -> list[LintFinding]:
    """Every policy rule the reply breaks, errors first."""
    findings = [f for rule in _RULES for f in rule(text, request, brand, policy)]
    return sorted(findings, key=lambda f: f.level != ERROR)
