"""Built-in templates: every combination renders, fits its platform and passes the policy lint."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from social_care.config import Brand, ReplyPolicy
from social_care.drafting import DraftRequest, blocking, draft_reply, lint_draft, reply_language
from social_care.drafting.render import BUILTIN_TEMPLATES, candidate_names

RequestFactory = Callable[..., DraftRequest]

LANGUAGES = ("pt", "en", "es")
PLATFORMS = ("x", "facebook", "instagram")
CATEGORIES = (
    "delivery",
    "wrong_item",
    "damaged_defective",
    "refund_return",
    "payment_billing",
    "customer_service",
    "website_app",
    "other",
)
# Long names and the longest handles each platform allows.
PEOPLE = {
    "x": ("abcdefghijklmno", "Maximiliano Bartolomeu de Albuquerque Wolfeschlegelsteinhausen"),
    "facebook": ("maria.aparecida.conceicao.sant", "Wolfeschlegelsteinhausenbergerdorff da Silva"),
    "instagram": ("maria.aparecida.conceicao.sant", "Maria Aparecida da Conceição dos Santos"),
}


def combinations() -> list[dict[str, object]]:
    cases: list[dict[str, object]] = []
    for category, severity, remedy_due, prior in itertools.product(
        CATEGORIES, range(5), (False, True), (0, 2)
    ):
        cases.append(
            {
                "intent": "complaint",
                "categories": (category,),
                "severity": severity,
                "remedy_due": remedy_due,
                "prior_complaints": prior,
                "prior_mentions": prior,
            }
        )
    for category in (*CATEGORIES, None):
        cases.append(
            {
                "intent": "question",
                "categories": (category,) if category else (),
                "severity": 0,
                "remedy_due": False,
            }
        )
    for prior in (0, 3):
        cases.append(
            {
                "intent": "praise",
                "categories": (),
                "severity": 0,
                "remedy_due": False,
                "prior_mentions": prior,
            }
        )
    cases.append({"intent": "other", "categories": (), "severity": 0, "remedy_due": False})
    return cases


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("configured", [True, False], ids=["full-config", "bare-config"])
def test_every_builtin_template_renders_and_passes_lint(
    platform: str,
    lang: str,
    configured: bool,
    brand: Brand,
    policy: ReplyPolicy,
    bare_brand: Brand,
    bare_policy: ReplyPolicy,
    make_request: RequestFactory,
) -> None:
    if not configured:
        brand = bare_brand.model_copy(update={"languages": list(LANGUAGES)})
        policy = bare_policy
    handle, name = PEOPLE[platform]
    limit = policy.max_length[platform]
    for case in combinations():
        request = make_request(
            platform=platform, language=lang, author_handle=handle, author_name=name, **case
        )
        draft = draft_reply(request, brand=brand, policy=policy)
        assert not draft.fallback, (case, draft.error)
        assert draft.language == lang
        assert 0 < len(draft.text) <= limit, (case, draft.text)
        findings = lint_draft(draft.text, request, brand=brand, policy=policy)
        assert not blocking(findings), (case, draft.text, findings)
        # Warnings a built-in template itself could avoid must not occur either.
        noisy = {"language", "addressed", "placeholder", "history"}
        assert not [f for f in findings if f.rule in noisy], (draft.text, findings)
        if platform == "x":
            assert draft.text.startswith(f"@{handle} ")


def test_every_template_file_is_reachable() -> None:
    files = {str(p.relative_to(BUILTIN_TEMPLATES)) for p in BUILTIN_TEMPLATES.rglob("*.j2")}
    reachable = {
        name
        for lang, intent, category, severity in itertools.product(
            LANGUAGES, ("complaint", "question", "praise", "other"), CATEGORIES, range(5)
        )
        for name in candidate_names(lang, intent, category, severity)
    }
    assert files and files <= reachable, files - reachable
    for lang in LANGUAGES:  # the generic file of each intent exists, so no lookup falls through
        for intent in ("complaint", "question", "praise", "other"):
            assert (BUILTIN_TEMPLATES / lang / f"{intent}.j2").is_file()
    assert (BUILTIN_TEMPLATES / "README.md").is_file()


def test_lookup_order_most_specific_first() -> None:
    assert candidate_names("pt", "complaint", "delivery", 3) == [
        "pt/complaint_delivery_sev3.j2",
        "pt/complaint_delivery.j2",
        "pt/complaint_sev3.j2",
        "pt/complaint.j2",
    ]


def test_custom_dir_wins_and_builtins_fill_gaps(
    tmp_path: Path, brand: Brand, make_request: RequestFactory
) -> None:
    (tmp_path / "pt").mkdir()
    (tmp_path / "pt" / "complaint_delivery_sev4.j2").write_text(
        "{{ greeting }} Sentimos muitíssimo, {{ first_name }}. {{ remedy_sentence }} {{ channel_sentence }} {{ policy_sentence }}",
        encoding="utf-8",
    )
    policy = ReplyPolicy(templates_dir=str(tmp_path), remedies={"delivery": ["refund"]})
    severe = draft_reply(make_request(severity=4), brand=brand, policy=policy)
    assert severe.template == str(tmp_path / "pt" / "complaint_delivery_sev4.j2")
    assert "Sentimos muitíssimo, Ana." in severe.text
    mild = draft_reply(make_request(severity=1), brand=brand, policy=policy)
    assert mild.template == "pt/complaint_delivery.j2"


def test_natural_portuguese_delivery_complaint(
    brand: Brand, policy: ReplyPolicy, make_request: RequestFactory
) -> None:
    draft = draft_reply(make_request(severity=2), brand=brand, policy=policy)
    assert draft.text.startswith("Oi, Ana! Sentimos muito pelo atraso na entrega do seu pedido")
    assert "Podemos reenviar o pedido ou fazer o reembolso" in draft.text
    assert "em até 2 horas" in draft.text
    assert brand.policy_links.delivery in draft.text
    assert draft.text.endswith("\nEquipe Aurora")
    assert lint_draft(draft.text, make_request(severity=2), brand=brand, policy=policy) == []


def test_only_configured_remedies_are_offered(brand: Brand, make_request: RequestFactory) -> None:
    policy = ReplyPolicy(remedies={"delivery": ["reshipment"]})
    text = draft_reply(make_request(), brand=brand, policy=policy).text
    assert "reenviar" in text and "reembolso" not in text
    nothing = draft_reply(make_request(), brand=brand, policy=ReplyPolicy()).text
    assert "Podemos" not in nothing
    not_due = draft_reply(make_request(remedy_due=False), brand=brand, policy=policy).text
    assert "reenviar" not in not_due


def test_multi_category_addresses_main_category(
    brand: Brand, policy: ReplyPolicy, make_request: RequestFactory
) -> None:
    request = make_request(categories=("delivery", "customer_service", "wrong_item"))
    draft = draft_reply(request, brand=brand, policy=policy)
    assert draft.template == "pt/complaint_wrong_item.j2"
    assert brand.policy_links.returns in draft.text
    assert "trocar o produto" in draft.text


def test_returning_complainer_is_acknowledged(
    brand: Brand, policy: ReplyPolicy, make_request: RequestFactory
) -> None:
    first = draft_reply(make_request(prior_complaints=0), brand=brand, policy=policy).text
    again = draft_reply(make_request(prior_complaints=2), brand=brand, policy=policy).text
    assert "de novo" not in first
    assert "de novo" in again
    en = draft_reply(
        make_request(language="en", prior_complaints=1), brand=brand, policy=policy
    ).text
    assert "again" in en


def test_severity_raises_care(
    brand: Brand, policy: ReplyPolicy, make_request: RequestFactory
) -> None:
    calm = draft_reply(
        make_request(severity=1, platform="facebook"), brand=brand, policy=policy
    ).text
    severe = draft_reply(
        make_request(severity=4, platform="facebook"), brand=brand, policy=policy
    ).text
    assert "prioridade" not in calm
    assert "Entendemos sua frustração" in severe


def test_reply_language_choice(brand: Brand, make_request: RequestFactory) -> None:
    assert reply_language(make_request(language="es"), brand) == "es"
    assert reply_language(make_request(language="other"), brand) == "pt"
    only_pt = brand.model_copy(update={"languages": ["pt"]})
    assert reply_language(make_request(language="en"), only_pt) == "pt"
    english_default = brand.model_copy(update={"languages": ["en"], "default_language": "en"})
    assert reply_language(make_request(language="pt"), english_default) == "en"


def test_addressing_per_platform(
    brand: Brand, policy: ReplyPolicy, make_request: RequestFactory
) -> None:
    x = draft_reply(make_request(platform="x"), brand=brand, policy=policy).text
    assert x.startswith("@ana_silva ")
    fb = draft_reply(make_request(platform="facebook"), brand=brand, policy=policy).text
    assert fb.startswith("Oi, Ana!") and "@ana_silva" not in fb
    ig_no_name = draft_reply(make_request(author_name=None), brand=brand, policy=policy).text
    assert ig_no_name.startswith("Oi, @ana_silva!")
    anonymous = draft_reply(
        make_request(author_name=None, author_handle=None), brand=brand, policy=policy
    ).text
    assert anonymous.startswith(("Oi!", "Olá!"))


def test_signature_dropped_before_content_on_x(
    brand: Brand, policy: ReplyPolicy, make_request: RequestFactory
) -> None:
    request = make_request(
        platform="x", author_handle="abcdefghijklmno", severity=4, categories=("wrong_item",)
    )
    draft = draft_reply(request, brand=brand, policy=policy)
    assert len(draft.text) <= 280
    assert "Equipe Aurora" not in draft.text
    assert brand.policy_links.returns in draft.text  # the policy link survived the shortening
    praise = draft_reply(
        make_request(platform="x", intent="praise", categories=()), brand=brand, policy=policy
    )
    assert praise.text.endswith("\nEquipe Aurora")  # short replies keep it


def test_tiny_limit_trims_whole_sentences(brand: Brand, make_request: RequestFactory) -> None:
    policy = ReplyPolicy(max_length={"x": 280, "facebook": 8000, "instagram": 60})
    text = draft_reply(make_request(), brand=brand, policy=policy).text
    assert 0 < len(text) <= 60
    assert text.endswith((".", "!", "…"))


def test_same_request_same_draft(
    brand: Brand, policy: ReplyPolicy, make_request: RequestFactory
) -> None:
    request = make_request(intent="praise", categories=())
    assert draft_reply(request, brand=brand, policy=policy) == draft_reply(
        request, brand=brand, policy=policy
    )
    openings = {
        draft_reply(
            make_request(intent="praise", categories=(), text=f"amei {i}"),
            brand=brand,
            policy=policy,
        ).text
        for i in range(12)
    }
    assert len(openings) > 1  # wording varies between mentions


def test_first_name_and_handle_cleaning() -> None:
    from social_care.drafting.people import clean_handle, first_name

    assert first_name("ANA PAULA") == "Ana"
    assert first_name("Dr. Roberto Carlos") == "Roberto"
    assert first_name("🌸 maría josé") == "María"
    assert first_name("McDonald Silva") == "McDonald"
    assert (
        first_name("{{ 7*7 }}") is None and first_name("12345") is None and first_name("") is None
    )
    assert clean_handle("@ana_silva", "x") == "ana_silva"
    # An invalid handle is not "repaired" into somebody else's.
    assert clean_handle("ana-silva", "x") is None
    assert clean_handle("a" * 16, "x") is None
    assert clean_handle("ana.silva", "instagram") == "ana.silva"
    assert clean_handle("ana.silva", "x") is None


def test_odd_category_never_shapes_a_template_path(
    brand: Brand, policy: ReplyPolicy, make_request: RequestFactory
) -> None:
    assert candidate_names("pt", "complaint", "../../etc/passwd", 2)[1] == "pt/complaint_other.j2"
    draft = draft_reply(make_request(categories=("../../../x",)), brand=brand, policy=policy)
    assert draft.template == "pt/complaint.j2" and not draft.fallback


@pytest.mark.parametrize("source", ["fixture", "default-config"])
def test_multi_category_complaints_fit_x_without_errors(
    source: str, brand: Brand, policy: ReplyPolicy, make_request: RequestFactory
) -> None:
    if source == "default-config":  # the configuration a new install starts with
        from social_care.config import DEFAULT_CONFIG_PATH, parse_config

        config = parse_config(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"), environ={})
        brand, policy = config.brand, config.settings.reply_policy
    for lang, pair, severity in itertools.product(
        LANGUAGES, itertools.combinations(CATEGORIES, 2), (0, 4)
    ):
        request = make_request(
            platform="x",
            language=lang,
            author_handle="abcdefghijklmno",
            categories=pair,
            severity=severity,
            remedy_due=True,
            prior_complaints=1,
        )
        draft = draft_reply(request, brand=brand, policy=policy)
        assert len(draft.text) <= 280 and not draft.fallback
        findings = lint_draft(draft.text, request, brand=brand, policy=policy)
        assert not blocking(findings), (pair, draft.text, findings)
