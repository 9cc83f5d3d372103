"""Message texts: SMS segment counting, templates per language, exercise wording, and reading SMS replies."""

from __future__ import annotations

import pytest

from alerting.messages import MessageContent, render_email, render_sms
from alerting.replies import parse_reply
from alerting.segments import count_segments
from alueturva.localized import LocalizedText

KEYWORDS = frozenset({"ok", "kuittaa", "kvittera"})


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("Hälytys: Äänekoski, Österbotten, Åland", "GSM-7", 38, 1),  # ä ö å Ä Ö Å are in the GSM-7 alphabet
        ("€" * 80, "GSM-7", 160, 1),  # the extension table takes two septets a character
        ("€" * 81, "GSM-7", 162, 2),
        ("[OK]", "GSM-7", 6, 1),
        ("õ" * 70, "UCS-2", 70, 1),  # õ is not GSM-7: the whole message is UCS-2
        ("õ" * 71, "UCS-2", 71, 2),
        ("🌊" * 35, "UCS-2", 70, 1),  # outside the BMP: two UTF-16 units each
        ("🌊" * 36, "UCS-2", 72, 2),
        ("x" * 134 + "🌊", "UCS-2", 136, 3),
    ],
)
def test_sms_segments(text: str, encoding: str, units: int, segments: int) -> None:
    count = count_segments(text)
    assert (count.encoding, count.units, count.segments) == (encoding, units, segments)


def text(fi: str, sv: str | None = None, en: str | None = None) -> LocalizedText:
    return LocalizedText(fi=fi, sv=sv, en=en)


CONTENT = MessageContent(
    title=text("Myrskyvaroitus", "Stormvarning", "Storm warning"),
    message=text("Valmiusjohtoryhmä koolle klo 14.", "Beredskapsledningsgruppen samlas kl. 14.", "Meet at 14."),
    exercise=True,
    code="4821",
    options=(),
)
POLL = MessageContent(
    title=text("Hälytysharjoitus", "Larmövning"),
    message=text("Kokoontuminen klo 14.", "Samling kl. 14."),
    exercise=False,
    code="4821",
    options=(text("Tulen paikalle", "Jag kommer"), text("En pääse", "Jag kan inte")),
)


@pytest.mark.parametrize(("language", "word", "title"), [("fi", "HARJOITUS", "Myrskyvaroitus"),
                                                         ("sv", "ÖVNING", "Stormvarning"),
                                                         ("en", "EXERCISE", "Storm warning")])  # fmt: skip
def test_exercise_sms_say_so_at_both_ends_in_every_language(language: str, word: str, title: str) -> None:
    sms = render_sms(CONTENT, kind="alert", version=(language,))
    lines = sms.splitlines()
    assert lines[0] == f"{word} – {title}" and lines[-1] == word and "OK 4821" in sms
    # The exercise prefix takes an en dash, which GSM-7 lacks: an exercise SMS is UCS-2 (70 characters a segment)
    assert count_segments(sms).encoding == "UCS-2"


def test_the_poll_line_gives_the_instruction_first_then_the_options() -> None:
    assert render_sms(POLL, kind="alert", version=("fi",)).splitlines()[2] == (
        "Vastaa numerolla ja koodilla, esim. 1 4821: 1 = Tulen paikalle, 2 = En pääse"
    )
    assert render_sms(POLL, kind="alert", version=("sv",)).splitlines()[2] == (
        "Svara med nummer och kod, t.ex. 1 4821: 1 = Jag kommer, 2 = Jag kan inte"
    )


def test_the_finnish_and_swedish_version_is_each_text_whole_in_its_own_language() -> None:
    sms = render_sms(POLL, kind="alert", version=("fi", "sv"))
    finnish, swedish = sms.split("\n\n")
    assert finnish == render_sms(POLL, kind="alert", version=("fi",))
    assert swedish == render_sms(POLL, kind="alert", version=("sv",))
    assert "Jag" not in finnish and "Tulen" not in swedish


def test_real_alerts_do_not_say_exercise_and_reminders_and_cancellations_say_what_they_are() -> None:
    sms = render_sms(POLL, kind="alert", version=("fi",))
    assert "HARJOITUS" not in sms
    assert render_sms(POLL, kind="reminder", version=("sv",)).startswith("PÅMINNELSE: Larmövning")
    cancel = render_sms(POLL, kind="cancel", version=("fi",))
    assert cancel.startswith("PERUTTU: Hälytysharjoitus") and "OK" not in cancel


def test_a_version_the_text_does_not_have_is_never_filled_with_another_language() -> None:
    with pytest.raises(KeyError):
        render_sms(POLL, kind="alert", version=("en",))


def test_email_subject_and_bodies_mark_exercises_and_carry_the_link() -> None:
    message = render_email(CONTENT, kind="alert", version=("sv",), to="a@example.fi", ack_url="https://x/ack/t")
    assert message["Subject"] == "ÖVNING – Stormvarning"
    assert message["Content-Language"] == "sv" and message["Auto-Submitted"] == "auto-generated"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert "https://x/ack/t" in plain.get_content() and "ÖVNING" in plain.get_content()
    assert "Valmiusjohtoryhmä" not in plain.get_content()
    assert 'href="https://x/ack/t"' in html.get_content() and 'lang="sv"' in html.get_content()


def test_a_finnish_and_swedish_email_has_both_parts() -> None:
    message = render_email(POLL, kind="alert", version=("fi", "sv"), to="a@example.fi", ack_url="https://x/ack/t")
    assert message["Subject"] == "Hälytysharjoitus / Larmövning" and message["Content-Language"] == "fi, sv"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert "Kokoontuminen klo 14." in plain.get_content() and "Samling kl. 14." in plain.get_content()
    assert '<div lang="fi">' in html.get_content() and '<div lang="sv">' in html.get_content()


def test_html_email_escapes_what_the_operator_wrote() -> None:
    content = MessageContent(
        title=text("<b>x</b>"), message=text("<script>alert(1)</script>"), exercise=False, code="1", options=()
    )
    message = render_email(content, kind="alert", version=("fi",), to="a@example.fi", ack_url="https://x/ack/t")
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    assert "<script>" not in html.get_content() and "&lt;script&gt;" in html.get_content()


@pytest.mark.parametrize(
    ("body", "acknowledges", "option", "code"),
    [
        ("OK", True, None, None),
        ("ok 4821", True, None, "4821"),
        ("Ok, 4821!", True, None, "4821"),
        ("ok4821", True, None, "4821"),
        ("  Kuittaa. ", True, None, None),
        ("KVITTERA", True, None, None),
        ("1", True, 1, None),
        ("2 4821", True, 2, "4821"),
        ("4821", True, None, "4821"),
        ("hei mitä tämä on", False, None, None),
        ("", False, None, None),
        ("12", False, None, None),
        ("0", False, None, None),
    ],
)
def test_reading_sms_replies(body: str, acknowledges: bool, option: int | None, code: str | None) -> None:
    reply = parse_reply(body, keywords=KEYWORDS)
    assert (reply.acknowledges, reply.option, reply.code) == (acknowledges, option, code)


def test_the_language_of_an_unknown_sender_is_guessed_from_their_words() -> None:
    assert parse_reply("kvittera", keywords=KEYWORDS).language_hint == "sv"
    assert parse_reply("yes", keywords=KEYWORDS).language_hint == "en"
    assert parse_reply("ok", keywords=KEYWORDS).language_hint is None
