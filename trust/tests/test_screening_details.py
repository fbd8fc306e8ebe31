"""What issue #18 added to the screening, one behaviour per test (pure function, no database)."""

import pytest

from trust.screening import MASKS, screen_text
from trust.screening import common as screening_common


def test_an_earlier_at_does_not_hide_the_address_or_leak_it():
    text = "We're at the venue at 5; write to maria dot lopez at gmail dot com for the contract"
    result = screen_text(text)
    assert (result.action, result.signals) == ("block", ["email"])
    assert result.excerpt == "We're at the venue at 5; write to [email removed] for the contract"


@pytest.mark.parametrize(
    "text, signals",
    [
        ("IBAN DE89 3704 0044 0532 0130 00 please", ["off_platform_payment", "payment_account"]),
        ("sort code 20-00-00 account 55779911", ["off_platform_payment", "payment_account"]),
        (
            "send BTC to 1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
            ["off_platform_payment", "payment_account"],
        ),
        ("card 4111 1111 1111 1111", ["off_platform_payment", "payment_account"]),
    ],
)
def test_payment_details_are_blocked_and_masked(text, signals):
    result = screen_text(text)
    assert (result.action, result.signals) == ("block", signals)
    assert MASKS["payment_account"] in result.excerpt
    assert not any(ch.isdigit() for ch in result.excerpt.split("[")[-1])


def test_a_wrong_iban_checksum_is_not_an_iban_but_a_labelled_one_still_is():
    assert screen_text("DE89 3704 0044 0532 0130 01").signals != ["payment_account"]
    labelled = screen_text("IBAN: DE89 3704 0044 0532 0130 01")
    assert "payment_account" in labelled.signals and "0532" not in labelled.excerpt


def test_an_invitation_to_another_app_warns_and_stays_readable():
    result = screen_text("Let's move to WhatsApp, easier for photos")
    assert (result.action, result.signals) == ("warn", ["off_platform_contact"])
    assert result.excerpt == "Let's move to WhatsApp, easier for photos"


def test_mentioning_an_app_is_not_an_invitation():
    assert screen_text("The band posts their setlists on Instagram.").action == "allow"
    assert screen_text("No signal in the barn, text me if the signal is bad").action == "allow"


def test_a_partial_detection_masks_the_whole_written_token():
    # The handle is read up to the look-alike; the mask still covers every character of it.
    result = screen_text("Telegram @jane_doe٣٣ for the quote")
    assert result.excerpt == "Telegram [link removed] for the quote"


def test_masks_cover_the_disguised_characters_not_their_folded_form():
    result = screen_text("email: ѕаrаh.lее@gmаil.соm thanks")
    assert result.excerpt == "email: [email removed] thanks"


def test_reasons_explain_without_quoting():
    text = "pay me directly, venmo @jane-doe, or call 415 555 0134"
    result = screen_text(text)
    assert result.reasons
    assert not any(piece in reason for reason in result.reasons for piece in ("jane", "415"))


def test_on_platform_payment_talk_is_not_flagged_but_a_negated_one_is():
    assert screen_text("You can pay directly through Strathwell").action == "allow"
    assert screen_text("Pay me directly, not through the app").action == "warn"


def test_the_suffix_list_is_the_bundled_snapshot():
    extractor = screening_common._EXTRACT
    assert extractor.suffix_list_urls == ()
    assert screening_common.registered("janesevents.studio") == ("janesevents", "studio")
