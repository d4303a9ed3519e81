"""The inbox offers replies the team approved for similar mentions, escaped, one click to approve."""

from __future__ import annotations

from social_care import models as m

from .conftest import GOOD_TEXT, draft_state, insert_draft


def test_alternatives_fragment_lists_escaped_past_replies_and_approves_one(core, as_user) -> None:
    engine = core.engine
    past = insert_draft(engine, 1, mention="Amei o vestido <i>azul</i>, chegou lindo!", text=GOOD_TEXT)
    paula = as_user("paula")
    edited = GOOD_TEXT + " Volte sempre & conte pra gente!"
    assert paula.post(f"/drafts/{past}/approve", {"text": edited}).status_code == 200
    new = insert_draft(engine, 2, mention="Amei o vestido azul, lindo!", text=GOOD_TEXT)

    fragment = paula.client.get(f"/drafts/{new}/alternatives")
    assert fragment.status_code == 200
    assert "&lt;i&gt;azul&lt;/i&gt;" in fragment.text and "<i>azul</i>" not in fragment.text
    assert "Volte sempre &amp; conte pra gente!" in fragment.text
    assert "edited by the team" in fragment.text

    assert paula.post(f"/drafts/{new}/approve", {"text": edited}).status_code == 200
    row = draft_state(engine, new)
    assert row.state == m.ReplyState.APPROVED and row.text == edited


def test_viewer_sees_alternatives_without_the_approve_button(core, as_user) -> None:
    past = insert_draft(core.engine, 1, mention="Amei!", text=GOOD_TEXT)
    as_user("paula").post(f"/drafts/{past}/approve", {"text": GOOD_TEXT + " Até logo!"})
    new = insert_draft(core.engine, 2, mention="Amei demais!")
    fragment = as_user("vera").client.get(f"/drafts/{new}/alternatives")
    assert "Até logo!" in fragment.text and "Approve this text instead" not in fragment.text
