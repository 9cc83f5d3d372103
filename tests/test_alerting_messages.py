"""Message texts: SMS segment counting, templates per language, exercise wording, and reading SMS replies."""

from __future__ import annotations

import pytest

from alerting.messages import MessageContent, render_email, render_sms
from alerting.replies import parse_reply
from alerting.segments import count_segments

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


CONTENT = MessageContent(
    title="Myrskyvaroitus", message="Valmiusjohtoryhmä koolle klo 14.", exercise=True, code="4821", options=()
)


@pytest.mark.parametrize(("language", "word", "how"), [("fi", "HARJOITUS", "OK 4821"), ("sv", "ÖVNING", "OK 4821"),
                                                       ("en", "EXERCISE", "OK 4821")])  # fmt: skip
def test_exercise_sms_say_so_at_both_ends_in_every_language(language: str, word: str, how: str) -> None:
    text = render_sms(CONTENT, kind="alert", language=language)
    lines = text.splitlines()
    assert lines[0].startswith(word) and lines[-1] == word and how in text
    assert "Myrskyvaroitus" in text and count_segments(text).encoding == "GSM-7"


def test_real_alerts_do_not_say_exercise_and_reminders_and_cancellations_say_what_they_are() -> None:
    real = MessageContent(title="T", message="M", exercise=False, code="1234", options=("Tulen", "En pääse"))
    text = render_sms(real, kind="alert", language="fi")
    assert "HARJOITUS" not in text and "1=Tulen, 2=En pääse" in text
    assert render_sms(real, kind="reminder", language="sv").startswith("PÅMINNELSE: T")
    cancel = render_sms(real, kind="cancel", language="fi")
    assert cancel.startswith("PERUTTU: T") and "OK" not in cancel
    assert render_sms(real, kind="alert", language="de").startswith("T")  # unknown language: the default (fi)


def test_email_subject_and_bodies_mark_exercises_and_carry_the_link() -> None:
    message = render_email(CONTENT, kind="alert", language="sv", to="a@example.fi", ack_url="https://x/ack/t")
    assert message["Subject"] == "[ÖVNING] Myrskyvaroitus"
    assert message["Content-Language"] == "sv" and message["Auto-Submitted"] == "auto-generated"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert "https://x/ack/t" in plain.get_content() and "ÖVNING" in plain.get_content()
    assert 'href="https://x/ack/t"' in html.get_content() and 'lang="sv"' in html.get_content()


def test_html_email_escapes_what_the_operator_wrote() -> None:
    content = MessageContent(
        title="<b>x</b>", message="<script>alert(1)</script>", exercise=False, code="1", options=()
    )
    message = render_email(content, kind="alert", language="fi", to="a@example.fi", ack_url="https://x/ack/t")
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
