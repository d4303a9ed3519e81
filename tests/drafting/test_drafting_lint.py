"""lint_draft: each policy rule with replies that pass it and replies that break it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from social_care.config import Brand, PrivateChannel, ReplyPolicy
from social_care.drafting import DraftRequest, LintFinding, blocking, lint_draft

RequestFactory = Callable[..., DraftRequest]

LINK_DELIVERY = "https://www.lojaaurora.com.br/politicas/entregas"
LINK_RETURNS = "https://www.lojaaurora.com.br/politicas/trocas-e-devolucoes"
GOOD_PT = (
    "Oi, Ana! Sentimos muito pelo atraso na entrega do seu pedido e agradecemos por nos avisar. "
    "Podemos reenviar o pedido ou fazer o reembolso, como você preferir. "
    "Nos chame na DM com o número do pedido e te respondemos em até 2 horas. "
    f"Confira nossa política de entregas: {LINK_DELIVERY}"
)


def found(findings: list[LintFinding], rule: str) -> set[str]:
    """The levels at which `rule` fired."""
    return {f.level for f in findings if f.rule == rule}


@pytest.fixture
def lint(brand: Brand, policy: ReplyPolicy) -> Callable[[str, DraftRequest], list[LintFinding]]:
    def run(text: str, request: DraftRequest) -> list[LintFinding]:
        return lint_draft(text, request, brand=brand, policy=policy)

    return run


def test_good_reply_has_no_findings(lint: Callable, make_request: RequestFactory) -> None:
    assert lint(GOOD_PT, make_request()) == []


def test_blocking_only_on_errors() -> None:
    assert blocking([LintFinding("x", "error", "m")]) is True
    assert blocking([LintFinding("x", "warning", "m")]) is False
    assert blocking([]) is False


def test_errors_come_first(lint: Callable, make_request: RequestFactory) -> None:
    findings = lint("Oi! Que pena.", make_request())
    levels = [f.level for f in findings]
    assert levels == sorted(levels, key=lambda level: level != "error")
    assert "error" in levels and "warning" in levels


# --- thanks -----------------------------------------------------------------------------------


def test_praise_without_thanks_is_an_error(lint: Callable, make_request: RequestFactory) -> None:
    request = make_request(intent="praise", categories=(), remedy_due=False, severity=0)
    assert found(lint("Oi, Ana! Que alegria ler isso!", request), "thanks") == {"error"}
    assert found(lint("Oi, Ana! Muito obrigado pelo carinho!", request), "thanks") == set()
    assert found(lint("Hi Ana! Thank you so much!", request), "thanks") == set()
    assert found(lint("¡Hola, Ana! ¡Muchas gracias!", request), "thanks") == set()


def test_complaint_without_thanks_is_a_warning(
    lint: Callable, make_request: RequestFactory
) -> None:
    text = GOOD_PT.replace(" e agradecemos por nos avisar", "")
    assert found(lint(text, make_request()), "thanks") == {"warning"}
    assert found(lint(GOOD_PT, make_request()), "thanks") == set()


# --- apology ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "apology",
    [
        "Sentimos muito pelo atraso.",
        "Pedimos desculpas pelo atraso.",
        "We're sorry.",
        "Lo sentimos mucho.",
    ],
)
def test_apology_is_recognised(lint: Callable, make_request: RequestFactory, apology: str) -> None:
    assert found(lint(f"Oi, Ana! {apology}", make_request()), "apology") == set()


def test_complaint_without_apology_is_an_error(
    lint: Callable, make_request: RequestFactory
) -> None:
    text = GOOD_PT.replace(
        "Sentimos muito pelo atraso na entrega do seu pedido e agradecemos", "Agradecemos"
    )
    assert found(lint(text, make_request()), "apology") == {"error"}
    praise = make_request(intent="praise", categories=(), remedy_due=False)
    assert found(lint("Oi, Ana! Obrigado!", praise), "apology") == set()


# --- policy link --------------------------------------------------------------------------------


def test_policy_link_required_for_delivery_complaint(
    lint: Callable, make_request: RequestFactory
) -> None:
    text = GOOD_PT.replace(LINK_DELIVERY, "nosso site")
    assert found(lint(text, make_request()), "policy_link") == {"error"}
    assert found(
        lint(GOOD_PT.replace(LINK_DELIVERY, LINK_RETURNS), make_request()), "policy_link"
    ) == {"error"}


@pytest.mark.parametrize("category", ["wrong_item", "damaged_defective", "refund_return"])
def test_returns_or_refunds_link_fits_item_categories(
    lint: Callable, make_request: RequestFactory, category: str
) -> None:
    request = make_request(categories=(category,), remedy_due=False)
    assert (
        found(lint(f"Oi, Ana! Sentimos muito. Veja: {LINK_RETURNS}", request), "policy_link")
        == set()
    )
    assert found(lint("Oi, Ana! Sentimos muito.", request), "policy_link") == {"error"}


def test_no_link_rule_without_configured_link(
    bare_brand: Brand, bare_policy: ReplyPolicy, make_request: RequestFactory
) -> None:
    findings = lint_draft(
        "Oi, Ana! Sentimos muito pelo atraso.", make_request(), brand=bare_brand, policy=bare_policy
    )
    assert found(findings, "policy_link") == set()


def test_policy_link_for_questions_is_a_warning(
    lint: Callable, make_request: RequestFactory
) -> None:
    request = make_request(intent="question", remedy_due=False, severity=0)
    assert found(
        lint("Oi, Ana! Obrigado pela mensagem! Nos chame na DM.", request), "policy_link"
    ) == {"warning"}


def test_multi_category_uses_main_category_link(
    lint: Callable, make_request: RequestFactory
) -> None:
    # wrong_item outranks delivery: the returns link is the one that fits.
    request = make_request(categories=("delivery", "wrong_item"), remedy_due=False)
    assert found(lint(f"Oi, Ana! Sentimos muito. {LINK_RETURNS}", request), "policy_link") == set()
    assert found(lint(f"Oi, Ana! Sentimos muito. {LINK_DELIVERY}", request), "policy_link") == {
        "error"
    }


# --- remedy and promise ---------------------------------------------------------------------


def test_remedy_due_requires_an_allowed_remedy(
    lint: Callable, make_request: RequestFactory
) -> None:
    without = GOOD_PT.replace(
        "Podemos reenviar o pedido ou fazer o reembolso, como você preferir. ", ""
    )
    assert found(lint(without, make_request()), "remedy") == {"error"}
    only_reship = GOOD_PT.replace(" ou fazer o reembolso", "")
    assert found(lint(only_reship, make_request()), "remedy") == set()
    assert found(lint(without, make_request(remedy_due=False)), "remedy") == set()


def test_remedy_not_configured_is_a_promise_error(
    lint: Callable, make_request: RequestFactory
) -> None:
    # delivery allows reshipment and refund, not exchange or a voucher.
    exchange = GOOD_PT.replace("reenviar o pedido", "trocar o produto")
    assert found(lint(exchange, make_request()), "promise") == {"error"}
    voucher = GOOD_PT + " Também vamos te dar um cupom de desconto."
    assert found(lint(voucher, make_request()), "promise") == {"error"}
    assert found(
        lint("We can send you a replacement.", make_request(language="en")), "promise"
    ) == {"error"}


def test_policy_names_are_not_remedy_offers(lint: Callable, make_request: RequestFactory) -> None:
    text = GOOD_PT + " Veja também a política de trocas e devoluções."
    assert found(lint(text, make_request()), "promise") == set()


def test_remedy_for_uncovered_category_is_a_promise(
    lint: Callable, make_request: RequestFactory
) -> None:
    request = make_request(categories=("website_app",), remedy_due=False)
    assert found(
        lint("Oi, Ana! Sentimos muito. Podemos fazer o reembolso.", request), "promise"
    ) == {"error"}


@pytest.mark.parametrize(
    "deadline",
    [
        "Seu pedido chega amanhã.",
        "Resolvemos em 24 horas.",
        "It will arrive within 3 days.",
        "Llega en 5 días hábiles.",
    ],
)
def test_deadline_not_configured_is_a_promise_error(
    lint: Callable, make_request: RequestFactory, deadline: str
) -> None:
    assert found(lint(f"{GOOD_PT} {deadline}", make_request()), "promise") == {"error"}


def test_configured_response_time_is_not_a_promise(
    lint: Callable, make_request: RequestFactory
) -> None:
    assert found(lint(GOOD_PT, make_request()), "promise") == set()
    text = "Reach us by DM and we'll reply within 2 hours."
    assert found(lint(text, make_request(language="en")), "promise") == set()


# --- private channel ----------------------------------------------------------------------------


def test_order_complaint_needs_a_private_channel(
    lint: Callable, make_request: RequestFactory
) -> None:
    without = GOOD_PT.replace(
        "Nos chame na DM com o número do pedido e te respondemos em até 2 horas. ", ""
    )
    assert found(lint(without, make_request()), "private_channel") == {"error"}
    by_email = without + " Escreva para sac@lojaaurora.com.br, respondemos em até 2 horas."
    assert found(lint(by_email, make_request()), "private_channel") == set()
    by_whatsapp = without + " Chame no WhatsApp (11) 99999-0000, respondemos em até 2 horas."
    assert found(lint(by_whatsapp, make_request()), "private_channel") == set()


def test_response_time_missing_is_a_warning(lint: Callable, make_request: RequestFactory) -> None:
    text = GOOD_PT.replace(" e te respondemos em até 2 horas", "")
    assert found(lint(text, make_request()), "private_channel") == {"warning"}


def test_unconfigured_channels_are_errors(
    make_request: RequestFactory, policy: ReplyPolicy
) -> None:
    brand = Brand(
        name="Aurora", private_channel=PrivateChannel(direct_message=False, email="sac@aurora.com")
    )
    request = make_request(categories=("customer_service",), remedy_due=False)
    for text in (
        "Sentimos muito. Nos chame na DM.",
        "Sentimos muito. Fale no WhatsApp.",
        "Sentimos muito. Escreva para outro@exemplo.com.",
    ):
        assert found(lint_draft(text, request, brand=brand, policy=policy), "private_channel") == {
            "error"
        }, text
    ok = "Sentimos muito. Escreva para sac@aurora.com."
    assert found(lint_draft(ok, request, brand=brand, policy=policy), "private_channel") == set()


def test_no_channel_configured_is_a_warning(
    make_request: RequestFactory, policy: ReplyPolicy
) -> None:
    brand = Brand(name="Aurora", private_channel=PrivateChannel(direct_message=False))
    findings = lint_draft("Oi, Ana! Sentimos muito.", make_request(), brand=brand, policy=policy)
    assert found(findings, "private_channel") == {"warning"}


# --- personal data in public ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "ask",
    [
        "Qual o número do seu pedido?",
        "Informe seu CPF, por favor.",
        "Pode nos passar seu endereço completo?",
        "Manda aqui o seu telefone.",
        "Send us your order number.",
        "What's your email address?",
        "Please share your phone number here.",
        "¿Cuál es el número de tu pedido?",
        "Envíanos tu dirección.",
    ],
)
def test_asking_personal_data_in_public_is_an_error(
    lint: Callable, make_request: RequestFactory, ask: str
) -> None:
    assert found(lint(f"{GOOD_PT} {ask}", make_request()), "personal_data_request") == {"error"}


@pytest.mark.parametrize(
    "ok",
    [
        "Nos chame por DM com o número do pedido.",
        "Envie seu CPF pelo inbox que a gente verifica.",
        "Send us a DM with your order number.",
        "Please e-mail your address to sac@lojaaurora.com.br.",
        "Envíanos tu número de pedido por mensaje privado.",
        "Seu endereço de entrega está correto no sistema.",
    ],
)
def test_pointing_personal_data_to_private_channel_is_fine(
    lint: Callable, make_request: RequestFactory, ok: str
) -> None:
    assert found(lint(f"{GOOD_PT} {ok}", make_request()), "personal_data_request") == set()


# --- length -------------------------------------------------------------------------------------


def test_length_counts_the_handle_on_x(lint: Callable, make_request: RequestFactory) -> None:
    request = make_request(platform="x")
    body = "Sentimos muito. " + "a" * (280 - len("@ana_silva Sentimos muito. "))
    assert len(f"@ana_silva {body}") == 280
    assert found(lint(f"@ana_silva {body}", request), "length") == set()
    assert found(lint(f"@ana_silva {body}a", request), "length") == {"error"}


def test_length_uses_platform_limit(lint: Callable, make_request: RequestFactory) -> None:
    assert found(lint("Oi, Ana! " + "a" * 2200, make_request(platform="instagram")), "length") == {
        "error"
    }
    assert (
        found(lint("Oi, Ana! " + "a" * 2200, make_request(platform="facebook")), "length") == set()
    )


def test_empty_reply_is_an_error(lint: Callable, make_request: RequestFactory) -> None:
    assert found(lint("   ", make_request()), "empty") == {"error"}


# --- language -----------------------------------------------------------------------------------


def test_reply_in_the_wrong_language_is_flagged(
    lint: Callable, make_request: RequestFactory
) -> None:
    english = "Hi Ana! We're so sorry your order is late, and thank you for letting us know. Reach us by DM."
    assert found(lint(english, make_request(language="pt")), "language") == {"warning"}
    assert found(lint(english, make_request(language="en")), "language") == set()
    assert found(lint(GOOD_PT, make_request(language="pt")), "language") == set()


def test_language_falls_back_to_brand_default(lint: Callable, make_request: RequestFactory) -> None:
    # French is not answered: the reply language is the default (pt), so a pt reply is right.
    assert found(lint(GOOD_PT, make_request(language="other")), "language") == set()


# --- placeholders --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "leftover", ["{{ first_name }}", "{% if x %}", "[NAME]", "<order number>", "TODO", "XXX"]
)
def test_unresolved_placeholders_are_errors(
    lint: Callable, make_request: RequestFactory, leftover: str
) -> None:
    assert found(lint(f"{GOOD_PT} {leftover}", make_request()), "placeholder") == {"error"}


def test_plain_text_has_no_placeholder(lint: Callable, make_request: RequestFactory) -> None:
    assert found(lint(GOOD_PT + " <3 todo dia", make_request()), "placeholder") == set()


# --- addressed --------------------------------------------------------------------------------------


def test_reply_should_address_the_person(lint: Callable, make_request: RequestFactory) -> None:
    anonymous = GOOD_PT.replace("Oi, Ana!", "Oi!")
    assert found(lint(anonymous, make_request()), "addressed") == {"warning"}
    assert (
        found(lint(GOOD_PT.replace("Oi, Ana!", "Oi, @ana_silva!"), make_request()), "addressed")
        == set()
    )
    assert (
        found(lint(anonymous, make_request(author_name=None, author_handle=None)), "addressed")
        == set()
    )


def test_x_reply_should_start_with_handle(lint: Callable, make_request: RequestFactory) -> None:
    request = make_request(platform="x")
    assert found(lint("@ana_silva " + GOOD_PT, request), "addressed") == set()
    assert found(lint(GOOD_PT, request), "addressed") == {"warning"}


# --- names are not words of the policy ----------------------------------------------------------


def test_names_do_not_read_as_remedies_or_deadlines(
    make_request: RequestFactory, policy: ReplyPolicy
) -> None:
    brand = Brand(
        name="Loja 24h", private_channel=PrivateChannel(response_time={"pt": "em até 2 horas"})
    )
    request = make_request(
        author_name="Troca Amanhã", categories=("customer_service",), remedy_due=False
    )
    text = "Oi, Troca! Sentimos muito e agradecemos o aviso. Nos chame na DM e te respondemos em até 2 horas.\nLoja 24h"
    assert found(lint_draft(text, request, brand=brand, policy=policy), "promise") == set()


def test_lint_stays_fast_on_long_text(lint: Callable, make_request: RequestFactory) -> None:
    import time

    pathological = "Oi, Ana! " + "a" * 8000 + " a@" * 2000 + " policy " * 500 + "<a " * 1000
    started = time.perf_counter()
    lint(pathological, make_request(platform="facebook"))
    assert time.perf_counter() - started < 2.0


# --- history ----------------------------------------------------------------------------------------


def test_repeat_complainer_should_be_acknowledged(
    lint: Callable, make_request: RequestFactory
) -> None:
    request = make_request(prior_complaints=2)
    assert found(lint(GOOD_PT, request), "history") == {"warning"}
    again = GOOD_PT.replace(
        "pelo atraso na entrega do seu pedido", "que o atraso tenha acontecido de novo"
    )
    assert found(lint(again, request), "history") == set()
    assert found(lint(GOOD_PT, make_request(prior_complaints=0)), "history") == set()
