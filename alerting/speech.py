"""Text written for reading turned into text for speaking, in Finnish, Swedish and English: what a call says.

A text-to-speech voice reads "klo 14.30" as a decimal or a date, "112" as a hundred and twelve and a web address
letter by letter. So before a call speaks an alert, times, dates, numbers with their units, phone numbers and codes
are written out as words here, in the reader's language ("kello neljätoista kolmekymmentä", "klockan fjorton
trettio", "fourteen thirty"); web addresses become a word that says one is in the written message.

Number words are made here rather than by a library: the ones at hand misspell Swedish ("etttusen", "tjugode"), and
a call must say nothing a native listener would correct. Cardinals go up to 999 999 (larger numbers are read digit
by digit), ordinals to 31 (the days of a month).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from alueturva.i18n import plural_category

ASCII_DIGITS = "0123456789"  # "²" is a digit to str.isdigit() but not to int()
FINNISH_UNITS = ["nolla", "yksi", "kaksi", "kolme", "neljä", "viisi", "kuusi", "seitsemän", "kahdeksan", "yhdeksän"]
SWEDISH_UNITS = [
    "noll", "ett", "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio",
    "tio", "elva", "tolv", "tretton", "fjorton", "femton", "sexton", "sjutton", "arton", "nitton",
]  # fmt: skip
SWEDISH_TENS = {2: "tjugo", 3: "trettio", 4: "fyrtio", 5: "femtio", 6: "sextio", 7: "sjuttio", 8: "åttio", 9: "nittio"}
ENGLISH_UNITS = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
]  # fmt: skip
ENGLISH_TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty", 7: "seventy", 8: "eighty", 9: "ninety"}

FINNISH_ORDINALS = [
    "ensimmäinen", "toinen", "kolmas", "neljäs", "viides", "kuudes", "seitsemäs", "kahdeksas", "yhdeksäs",
    "kymmenes", "yhdestoista", "kahdestoista", "kolmastoista", "neljästoista", "viidestoista", "kuudestoista",
    "seitsemästoista", "kahdeksastoista", "yhdeksästoista",
]  # fmt: skip
SWEDISH_ORDINALS = [
    "första", "andra", "tredje", "fjärde", "femte", "sjätte", "sjunde", "åttonde", "nionde", "tionde", "elfte",
    "tolfte", "trettonde", "fjortonde", "femtonde", "sextonde", "sjuttonde", "artonde", "nittonde",
]  # fmt: skip
ENGLISH_ORDINALS = [
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh",
    "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth",
]  # fmt: skip
MONTHS = {
    # Finnish in the partitive, as a date is read: "kahdeskymmenes marraskuuta"
    "fi": [
        "tammikuuta",
        "helmikuuta",
        "maaliskuuta",
        "huhtikuuta",
        "toukokuuta",
        "kesäkuuta",
        "heinäkuuta",
        "elokuuta",
        "syyskuuta",
        "lokakuuta",
        "marraskuuta",
        "joulukuuta",
    ],
    "sv": [
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}
LARGEST = 999_999


def _finnish(n: int) -> str:
    if n < 10:
        return FINNISH_UNITS[n]
    if n == 10:
        return "kymmenen"
    if n < 20:
        return FINNISH_UNITS[n - 10] + "toista"
    if n < 100:
        tens, rest = divmod(n, 10)
        return FINNISH_UNITS[tens] + "kymmentä" + (FINNISH_UNITS[rest] if rest else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return ("sata" if hundreds == 1 else FINNISH_UNITS[hundreds] + "sataa") + (_finnish(rest) if rest else "")
    thousands, rest = divmod(n, 1000)
    head = "tuhat" if thousands == 1 else _finnish(thousands) + "tuhatta"
    return head + (" " + _finnish(rest) if rest else "")


def _swedish(n: int) -> str:
    if n < 20:
        return SWEDISH_UNITS[n]
    if n < 100:
        tens, rest = divmod(n, 10)
        return SWEDISH_TENS[tens] + (SWEDISH_UNITS[rest] if rest else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return SWEDISH_UNITS[hundreds] + "hundra" + (_swedish(rest) if rest else "")
    thousands, rest = divmod(n, 1000)
    head = _swedish(thousands)
    head = (head[:-1] if head.endswith("tt") else head) + "tusen"  # ett + tusen is written "ettusen"
    return head + (" " + _swedish(rest) if rest else "")


def _english(n: int) -> str:
    if n < 20:
        return ENGLISH_UNITS[n]
    if n < 100:
        tens, rest = divmod(n, 10)
        return ENGLISH_TENS[tens] + ("-" + ENGLISH_UNITS[rest] if rest else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{ENGLISH_UNITS[hundreds]} hundred" + (f" and {_english(rest)}" if rest else "")
    thousands, rest = divmod(n, 1000)
    tail = "" if not rest else (f" and {_english(rest)}" if rest < 100 else f" {_english(rest)}")
    return f"{_english(thousands)} thousand{tail}"


_CARDINALS: dict[str, Callable[[int], str]] = {"fi": _finnish, "sv": _swedish, "en": _english}


def cardinal(n: int, language: str) -> str:
    """``n`` (0 to 999 999) in words: "kaksikymmentäyksi", "tjugoett", "twenty-one"."""
    if not 0 <= n <= LARGEST:
        raise ValueError(f"{n} is outside 0 to {LARGEST}")
    return _CARDINALS[language](n)


def ordinal(n: int, language: str) -> str:
    """A day of the month (1 to 31) as an ordinal: "kahdeskymmenestoinen", "tjugoandra", "twenty-second"."""
    if not 1 <= n <= 31:
        raise ValueError(f"{n} is not a day of a month")
    if n < 20:
        return {"fi": FINNISH_ORDINALS, "sv": SWEDISH_ORDINALS, "en": ENGLISH_ORDINALS}[language][n - 1]
    tens, rest = divmod(n, 10)
    if language == "fi":
        head = "kahdeskymmenes" if tens == 2 else "kolmaskymmenes"
        return head + (FINNISH_ORDINALS[rest - 1] if rest else "")
    if language == "sv":
        head = SWEDISH_TENS[tens]
        return head + (SWEDISH_ORDINALS[rest - 1] if rest else "nde")
    head = ENGLISH_TENS[tens]
    return head[:-1] + "ieth" if not rest else f"{head}-{ENGLISH_ORDINALS[rest - 1]}"


def digits(text: str, language: str) -> str:
    """Each digit as a word ("4821" -> "neljä kahdeksan kaksi yksi"); a plus sign as "plus"."""
    words = [cardinal(int(ch), language) if ch in ASCII_DIGITS else "plus" for ch in text if ch in ASCII_DIGITS + "+"]
    return " ".join(words)


# --- reading a text ---------------------------------------------------------------------------------------------

URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
URL_WORDS = {"fi": "verkko-osoite", "sv": "en webbadress", "en": "a web address"}
TIME_WORDS = {"fi": r"klo|kello", "sv": r"kl\.?|klockan", "en": r"at"}
CLOCK_WORD = {"fi": "kello", "sv": "klockan", "en": "at"}
# A phone number or a code: starts with + or 0 (a leading zero is never a quantity), or an emergency number.
DIGIT_STRING = re.compile(r"(?<![\w,.])(?:\+\d[\d \-]{4,}\d|0\d(?:[\d \-]*\d)?|112)(?!\w|,\d)")
DATE = re.compile(r"(?<![\w.])(\d{1,2})\.(\d{1,2})\.(\d{4})?(?![\w])")
COLON_TIME = re.compile(r"(?<![\w:.])([01]?\d|2[0-3]):([0-5]\d)(?![\w:])")
UNITS = {
    # unit: (Finnish after 1, Finnish after other numbers (partitive), Swedish after 1, other, English 1, other)
    "%": ("prosentti", "prosenttia", "procent", "procent", "percent", "percent"),
    "°C": ("aste", "astetta", "grad", "grader", "degree", "degrees"),
    "m/s": ("metri sekunnissa", "metriä sekunnissa", "meter per sekund", "meter per sekund",
            "metre per second", "metres per second"),
    "km/h": ("kilometri tunnissa", "kilometriä tunnissa", "kilometer i timmen", "kilometer i timmen",
             "kilometre per hour", "kilometres per hour"),
}  # fmt: skip
NUMBER_WITH_UNIT = re.compile(r"([-−]?)(\d+(?:[,.]\d+)?)\s?(%|°\s?C|m/s|km/h)(?!\w)")
DECIMAL = {"fi": re.compile(r"(?<![\w,.])(\d+),(\d+)(?![\w,])"), "sv": re.compile(r"(?<![\w,.])(\d+),(\d+)(?![\w,])")}
DECIMAL_EN = re.compile(r"(?<![\w,.])(\d+)\.(\d+)(?![\w.])")
DECIMAL_WORDS = {"fi": "pilkku", "sv": "komma", "en": "point"}
MINUS = {"fi": "miinus", "sv": "minus", "en": "minus"}
# A number with a Finnish case ending ("5:llä") is left as written: the ending decides its form.
INTEGER = re.compile(r"(?<![\w,.:])(\d{1,3}(?:[ \u00a0]\d{3})+|\d+)(?![\w:]|[,.]\d)")
ABBREVIATIONS = {
    "fi": {"esim.": "esimerkiksi", "puh.": "puhelin", "mm.": "muun muassa", "n.": "noin"},
    "sv": {"t.ex.": "till exempel", "tel.": "telefon", "bl.a.": "bland annat", "ca": "cirka"},
    "en": {"e.g.": "for example", "tel.": "telephone", "approx.": "approximately"},
}


def _number(raw: str, language: str) -> str:
    value = int(raw.replace(" ", "").replace("\u00a0", ""))
    return cardinal(value, language) if value <= LARGEST else digits(raw, language)


def _fraction(integer: str, fraction: str, language: str) -> str:
    """2,5 -> "kaksi pilkku viisi"; 2,05 -> "kaksi pilkku nolla viisi"; English reads each digit after the point."""
    tail = digits(fraction, language) if language == "en" or fraction.startswith("0") else _number(fraction, language)
    return f"{_number(integer, language)} {DECIMAL_WORDS[language]} {tail}"


def _clock(hour: str, minute: str | None, language: str) -> str:
    """14.30 -> "neljätoista kolmekymmentä"; 9.05 -> "yhdeksän nolla viisi"; 14.00 -> "neljätoista"."""
    words = cardinal(int(hour), language)
    if minute is None or int(minute) == 0:
        return words + (" o'clock" if language == "en" else "")
    minute_words = cardinal(int(minute), language)
    if int(minute) < 10:
        minute_words = ("oh" if language == "en" else cardinal(0, language)) + " " + minute_words
    return f"{words} {minute_words}"


def _same_case(written: str, spoken: str) -> str:
    """ "Klo 14" at the start of a sentence becomes "Kello neljätoista"."""
    return spoken[:1].upper() + spoken[1:] if written[:1].isupper() else spoken


def _times(text: str, language: str) -> str:
    prefixed = re.compile(rf"\b(?:{TIME_WORDS[language]})\s*([01]?\d|2[0-3])(?:[.:]([0-5]\d))?(?![\d])", re.IGNORECASE)
    text = prefixed.sub(lambda m: _same_case(m[0], f"{CLOCK_WORD[language]} {_clock(m[1], m[2], language)}"), text)
    return COLON_TIME.sub(lambda m: _clock(m[1], m[2], language), text)


def _date(match: re.Match[str], language: str, text: str) -> str:
    """28.11. -> "kahdeskymmeneskahdeksas marraskuuta", "den tjugoåttonde november", "the twenty-eighth of
    November" (a year after it in words); the date's last dot ends the sentence too when one ends there."""
    day, month, year = int(match[1]), int(match[2]), match[3]
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return match[0]
    after = text[match.end() :]
    end = "." if not year and (not after.strip() or re.match(r"\s+[A-ZÅÄÖ]", after)) else ""
    spoken_year = f" {_number(year, language)}{end}" if year else end
    if language == "fi":
        return f"{ordinal(day, 'fi')} {MONTHS['fi'][month - 1]}{spoken_year}"
    if language == "sv":
        before = text[: match.start()].rstrip().lower()
        article = "" if before.endswith("den") else "den "
        return f"{article}{ordinal(day, 'sv')} {MONTHS['sv'][month - 1]}{spoken_year}"
    before = text[: match.start()].rstrip().lower()
    article = "" if before.endswith("the") else "the "
    return f"{article}{ordinal(day, 'en')} of {MONTHS['en'][month - 1]}{spoken_year}"


def _with_unit(match: re.Match[str], language: str) -> str:
    sign, number, unit = match[1], match[2], match[3].replace(" ", "")
    if "," in number or "." in number:
        integer, fraction = re.split(r"[,.]", number)
        spoken, one = _fraction(integer, fraction, language), False
    else:
        spoken, one = _number(number, language), plural_category(int(number), language) == "one"
        if one and language == "sv":
            spoken = "en"  # the units are common gender: "en procent", "en grad"
    index = {"fi": 0, "sv": 2, "en": 4}[language] + (0 if one else 1)
    return f"{MINUS[language] + ' ' if sign else ''}{spoken} {UNITS[unit][index]}"


def _abbreviations(text: str, language: str) -> str:
    for short, long in ABBREVIATIONS[language].items():
        text = re.sub(rf"(?<![\w.]){re.escape(short)}(?=\s|$)", long, text, flags=re.IGNORECASE)
    return text


def speakable(text: str, language: str) -> str:
    """``text`` written out for a ``language`` voice: addresses, times, dates, numbers with units, phone numbers
    and codes, decimals and whole numbers in words; everything else as written."""
    text = URL.sub(URL_WORDS[language], text)
    text = _times(text, language)
    text = DATE.sub(lambda m: _date(m, language, m.string), text)
    text = NUMBER_WITH_UNIT.sub(lambda m: _with_unit(m, language), text)
    text = DIGIT_STRING.sub(lambda m: digits(m[0], language), text)
    if language == "en":
        text = DECIMAL_EN.sub(lambda m: _fraction(m[1], m[2], language), text)
    else:
        text = DECIMAL[language].sub(lambda m: _fraction(m[1], m[2], language), text)
    text = INTEGER.sub(lambda m: _number(m[1], language), text)
    text = _abbreviations(text, language)
    return " ".join(text.split())
