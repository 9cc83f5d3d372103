"""What a call says, as a vendor-neutral ``CallScript``, in the reader's version (``versions_for``: one language, or
Finnish and then Swedish, each passage wholly in its own language and voice).

The alert call: the exercise marking first ("Tämä on harjoitus."), a reminder says so, the title and the message
written for speech (``alerting.speech``), then how to answer: "Kuittaa hälytys painamalla numeroa yksi.", or with a
poll one digit per answer. All of it is said while one key press is awaited, and once more if none came; then the
call tells where else to acknowledge and hangs up. An answering machine gets a short message saying where to
acknowledge.
"""

from __future__ import annotations

from alerting.channels import CallScript, Listen, Say
from alerting.messages import MessageContent
from alerting.speech import cardinal, digits, speakable
from alerting.texts import texts
from alueturva.localized import Version


def _instruction(content: MessageContent, language: str) -> str:
    t = texts(language)
    if not content.options:
        return t["call_press_one"]
    options = (
        t["call_option"].format(number=cardinal(n, language).capitalize(), option=speakable(option[language], language))
        for n, option in enumerate(content.options, 1)
    )
    return " ".join([t["call_press_option"], *options])


def _title(content: MessageContent, language: str) -> str:
    return speakable(content.title[language], language).rstrip(".")


def _marked(content: MessageContent, language: str, *passages: str) -> str:
    """The passages, an exercise's marking first."""
    marking = [texts(language)["call_exercise"]] if content.exercise else []
    return " ".join([*marking, *passages])


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def _end(content: MessageContent, language: str, *passages: str) -> str:
    """The last passages of a call, each a whole sentence, an exercise's reminder that it was one last."""
    marking = [texts(language)["call_exercise_end"]] if content.exercise else []
    return " ".join([*(_sentence(passage) for passage in passages), *marking])


def _message(content: MessageContent, kind: str, language: str) -> Say:
    t = texts(language)
    reminder = [t["reminder_text"]] if kind == "reminder" else []
    body = speakable(content.message[language], language)
    title = t["call_alert"].format(title=_title(content, language))
    return Say(language, _marked(content, language, *reminder, title, body, _instruction(content, language)))


def alert_call(content: MessageContent, *, kind: str, version: Version) -> CallScript:
    """The call of an alert or a reminder: said while a key is awaited, repeated once, then where else to
    acknowledge. A cancellation says that the alert was cancelled (a call answered after it was)."""
    if kind == "cancel":
        return cancelled_call(content, version=version)
    message = tuple(_message(content, kind, language) for language in version)
    return CallScript(
        (
            Listen(message),
            *(Say(language, texts(language)["call_repeat"]) for language in version),
            Listen(message),
            *(Say(language, _end(content, language, texts(language)["call_no_key"])) for language in version),
        )
    )


def machine_call(content: MessageContent, *, version: Version) -> CallScript:
    """For an answering machine: whose alert it is, and how to acknowledge it by SMS or through its link."""
    return CallScript(
        tuple(
            Say(
                language,
                _end(
                    content,
                    language,
                    _marked(content, language, texts(language)["call_alert"].format(title=_title(content, language))),
                    texts(language)["call_machine"].format(code=digits(content.code, language)),
                ),
            )
            for language in version
        )
    )


def cancelled_call(content: MessageContent, *, version: Version) -> CallScript:
    return CallScript(
        tuple(
            Say(
                language,
                _marked(content, language, texts(language)["call_cancelled"].format(title=_title(content, language))),
            )
            for language in version
        )
    )


def reply_call(content: MessageContent, *, version: Version, text_key: str, answer: int | None = None) -> CallScript:
    """What the call says after a key press, the SMS reply's words without its code (``reply_ok``, ``reply_answer``,
    ``reply_late``, ``reply_already``: said as ``call_reply_ok`` …); then it hangs up."""
    passages = []
    for language in version:
        words = texts(language)[f"call_{text_key}"]
        option = speakable(content.options[answer - 1][language], language) if answer else ""
        passages.append(
            Say(language, _end(content, language, words.format(title=_title(content, language), answer=option)))
        )
    return CallScript(tuple(passages))


def wrong_key_call(content: MessageContent, *, version: Version, digit: str, again: bool) -> CallScript:
    """A key that is not a choice: said so, and (``again``) the choices once more while a key is awaited."""
    said = tuple(
        Say(language, texts(language)["call_wrong_key"].format(digit=digits(digit, language) or digit))
        for language in version
    )
    listen = (Listen(tuple(Say(language, _instruction(content, language)) for language in version)),) if again else ()
    end = tuple(Say(language, _end(content, language, texts(language)["call_no_key"])) for language in version)
    return CallScript((*said, *listen, *end))
