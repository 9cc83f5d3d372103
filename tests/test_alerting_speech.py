"""Text for a voice: numbers, times and dates in words, in Finnish, Swedish and English (no database)."""

from __future__ import annotations

import pytest

from alerting.call_scripts import alert_call, machine_call
from alerting.messages import MessageContent
from alerting.speech import cardinal, digits, ordinal, speakable
from alueturva.localized import LocalizedText


@pytest.mark.parametrize(
    ("n", "fi", "sv", "en"),
    [
        (0, "nolla", "noll", "zero"),
        (7, "seitsemän", "sju", "seven"),
        (10, "kymmenen", "tio", "ten"),
        (11, "yksitoista", "elva", "eleven"),
        (21, "kaksikymmentäyksi", "tjugoett", "twenty-one"),
        (100, "sata", "etthundra", "one hundred"),
        (215, "kaksisataaviisitoista", "tvåhundrafemton", "two hundred and fifteen"),
        (1000, "tuhat", "ettusen", "one thousand"),
        (1001, "tuhat yksi", "ettusen ett", "one thousand and one"),
        (2025, "kaksituhatta kaksikymmentäviisi", "tvåtusen tjugofem", "two thousand and twenty-five"),
        (21000, "kaksikymmentäyksituhatta", "tjugoettusen", "twenty-one thousand"),
        (48367, "neljäkymmentäkahdeksantuhatta kolmesataakuusikymmentäseitsemän", "fyrtioåttatusen trehundrasextiosju",
         "forty-eight thousand three hundred and sixty-seven"),
    ],
)  # fmt: skip
def test_cardinals(n: int, fi: str, sv: str, en: str) -> None:
    assert (cardinal(n, "fi"), cardinal(n, "sv"), cardinal(n, "en")) == (fi, sv, en)


@pytest.mark.parametrize(
    ("n", "fi", "sv", "en"),
    [
        (1, "ensimmäinen", "första", "first"),
        (11, "yhdestoista", "elfte", "eleventh"),
        (20, "kahdeskymmenes", "tjugonde", "twentieth"),
        (22, "kahdeskymmenestoinen", "tjugoandra", "twenty-second"),
        (28, "kahdeskymmeneskahdeksas", "tjugoåttonde", "twenty-eighth"),
        (31, "kolmaskymmenesensimmäinen", "trettioförsta", "thirty-first"),
    ],
)
def test_days_as_ordinals(n: int, fi: str, sv: str, en: str) -> None:
    assert (ordinal(n, "fi"), ordinal(n, "sv"), ordinal(n, "en")) == (fi, sv, en)


def test_numbers_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError):
        cardinal(1_000_000, "fi")
    with pytest.raises(ValueError):
        ordinal(32, "sv")


@pytest.mark.parametrize(
    ("language", "written", "spoken"),
    [
        ("fi", "Kokoontuminen klo 14.30.", "Kokoontuminen kello neljätoista kolmekymmentä."),
        ("fi", "Lähtö kello 9.05, paluu 17:00", "Lähtö kello yhdeksän nolla viisi, paluu seitsemäntoista"),
        ("fi", "Kokous 28.11. Tule ajoissa.", "Kokous kahdeskymmeneskahdeksas marraskuuta. Tule ajoissa."),
        ("fi", "Varoitus 1.12.2025 alkaen", "Varoitus ensimmäinen joulukuuta kaksituhatta kaksikymmentäviisi alkaen"),
        ("fi", "Tuulta 25 m/s, pakkasta -20 °C", "Tuulta kaksikymmentäviisi metriä sekunnissa, pakkasta miinus "
         "kaksikymmentä astetta"),
        ("fi", "Soita 112 tai 040 123 4567", "Soita yksi yksi kaksi tai nolla neljä nolla yksi kaksi kolme neljä viisi "
         "kuusi seitsemän"),
        ("fi", "Väestöstä 2,5 % eli 48 367 asukasta", "Väestöstä kaksi pilkku viisi prosenttia eli "
         "neljäkymmentäkahdeksantuhatta kolmesataakuusikymmentäseitsemän asukasta"),
        ("fi", "Ohjeet: https://example.fi/ohje esim. 5:llä", "Ohjeet: verkko-osoite esimerkiksi 5:llä"),
        ("sv", "Möte kl. 14.30 den 28.11.", "Möte klockan fjorton trettio den tjugoåttonde november."),
        ("sv", "Vind 1 m/s, 1 % av 21000", "Vind en meter per sekund, en procent av tjugoettusen"),
        ("sv", "Ring 112, t.ex. nu", "Ring ett ett två, till exempel nu"),
        ("en", "Meeting at 14:30 on 28.11.", "Meeting at fourteen thirty on the twenty-eighth of November."),
        ("en", "Wind 2.5 m/s at 09:05", "Wind two point five metres per second at nine oh five"),
    ],
)  # fmt: skip
def test_texts_are_written_out_for_speaking(language: str, written: str, spoken: str) -> None:
    assert speakable(written, language) == spoken


def test_codes_are_read_digit_by_digit() -> None:
    assert digits("4821", "fi") == "neljä kahdeksan kaksi yksi"
    assert digits("+358 40", "sv") == "plus tre fem åtta fyra noll"


def content(**fields: object) -> MessageContent:
    values: dict[str, object] = {
        "title": LocalizedText(fi="Myrsky", sv="Storm", en="Storm"),
        "message": LocalizedText(fi="Klo 14.", sv="Kl. 14.", en="At 14:00."),
        "exercise": True,
        "code": "4821",
        "options": (),
    }
    return MessageContent(**{**values, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("language", "first", "repeat", "last"),
    [
        ("fi", "Tämä on harjoitus. Alueturvan hälytys: Myrsky. Kello neljätoista. Kuittaa hälytys painamalla numeroa "
         "yksi.", "Toistan viestin.", "Painallusta ei kuulunut. Kuittaa hälytys tekstiviestillä tai linkillä. Tämä oli "
         "harjoitus."),
        ("sv", "Detta är en övning. Larm från Alueturva: Storm. Klockan fjorton. Kvittera larmet genom att trycka på "
         "siffran ett.", "Jag upprepar meddelandet.", "Ingen knapptryckning hördes. Kvittera larmet med SMS eller via "
         "länken. Detta var en övning."),
        ("en", "This is an exercise. Alert from Alueturva: Storm. At fourteen o'clock. To acknowledge the alert, press "
         "one.", "I will repeat the message.", "No key press was heard. Please acknowledge the alert by text message "
         "or through its link. This was an exercise."),
    ],
)  # fmt: skip
def test_the_call_marks_an_exercise_first_and_repeats_once(language: str, first: str, repeat: str, last: str) -> None:
    script = alert_call(content(), kind="alert", version=(language,))
    assert script.spoken().splitlines() == [first, repeat, first, last]


def test_a_reminder_call_says_so_and_the_finnish_and_swedish_version_is_each_whole() -> None:
    script = alert_call(content(exercise=False), kind="reminder", version=("fi", "sv"))
    lines = script.spoken().splitlines()
    assert lines[0].startswith("Muistutus: et ole vielä kuitannut tätä hälytystä. Alueturvan hälytys: Myrsky.")
    assert lines[1].startswith("Påminnelse: du har ännu inte kvitterat detta larm. Larm från Alueturva: Storm.")
    assert "harjoitus" not in script.spoken().lower() and "övning" not in script.spoken().lower()


def test_an_answering_machine_hears_the_code_to_send() -> None:
    assert machine_call(content(), version=("en",)).spoken() == (
        "This is an exercise. Alert from Alueturva: Storm. Please acknowledge the alert by text message, OK four "
        "eight two one, or through its link. This was an exercise."
    )
