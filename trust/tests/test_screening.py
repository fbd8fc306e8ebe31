"""Table-driven tests for the pure-Python trust screening service (no DB, no Django)."""

import re

import pytest

from trust.screening import MASKS, MAX_EXCERPT_CHARS, ScreeningResult, screen_text

EMAIL = "email"
PHONE = "phone"
URL = "url"
PAY = "off_platform_payment"

# (text, expected action, expected signals, raw contact details that must never be echoed)
CAUGHT = [
    # --- email, plain and obfuscated -----------------------------------------------------------
    (
        "Email me at jane.doe@gmail.com and I'll send the quote",
        "block",
        [EMAIL],
        ["jane.doe@gmail.com"],
    ),
    ("jane at gmail dot com", "block", [EMAIL], ["jane", "gmail"]),
    ("reach me: jane(at)gmail(dot)com", "block", [EMAIL], ["jane(at)gmail(dot)com", "gmail"]),
    ("my address is jane [at] gmail [dot] com", "block", [EMAIL], ["jane [at]", "gmail"]),
    ("shoot me a note, jane@gmail", "block", [EMAIL], ["jane@gmail"]),
    ("contact jane(at)gmail for the menu", "block", [EMAIL], ["jane(at)gmail"]),
    ("JANE AT GMAIL DOT COM", "block", [EMAIL], ["JANE", "GMAIL"]),
    ("write to jane @ yahoo.com please", "block", [EMAIL], ["jane @ yahoo.com", "yahoo"]),
    ("It's jane dot doe at hotmail dot com", "block", [EMAIL], ["doe", "hotmail"]),
    ("Email: bookings@janes-events.co.uk.", "block", [EMAIL], ["bookings@", "janes-events"]),
    # --- phone -----------------------------------------------------------------------------------
    ("call me at +1 415 555 0134", "block", [PHONE], ["415 555 0134"]),
    ("UK office: +44 20 7946 0958", "block", [PHONE], ["7946 0958"]),
    ("from abroad dial 0044 20 7946 0958", "block", [PHONE], ["0044 20 7946 0958"]),
    ("My cell is (415) 555-0134", "block", [PHONE], ["555-0134", "(415)"]),
    ("415.555.0134 anytime after 5", "block", [PHONE], ["415.555.0134"]),
    ("Ring 415-555-0134 tomorrow", "block", [PHONE], ["415-555-0134"]),
    ("4155550134", "block", [PHONE], ["4155550134"]),
    ("digits are 4 1 5 5 5 5 0 1 3 4", "block", [PHONE], ["4 1 5 5 5 5 0 1 3 4"]),
    ("four one five five five five zero one three four", "block", [PHONE], ["four one five"]),
    ("WhatsApp me on +1-415-555-0134!", "block", [PHONE], ["415-555-0134"]),
    ("text me at 555-0134", "block", [PHONE], ["555-0134"]),
    ("London number 020 7946 0958", "block", [PHONE], ["020 7946 0958"]),
    ("1-800-555-0134 is our line", "block", [PHONE], ["800-555-0134"]),
    ("reach me at four-one-five 555 0134", "block", [PHONE], ["four-one-five", "0134"]),
    # --- links -----------------------------------------------------------------------------------
    ("see https://janesevents.com/book?ref=sw for dates", "block", [URL], ["janesevents.com"]),
    ("www.janesevents.com has the full gallery", "block", [URL], ["janesevents"]),
    ("book us at janesevents.com instead", "block", [URL], ["janesevents.com"]),
    ("portfolio: mysite.io", "block", [URL], ["mysite.io"]),
    ("instagram.com/janes.events has more photos", "block", [URL], ["instagram.com/janes"]),
    ("google janesevents dot com", "block", [URL], ["janesevents"]),
    ("IG: @janes.events", "block", [URL], ["@janes.events"]),
    ("follow @janes.events on Instagram", "block", [URL], ["janes.events"]),
    ("my IG is janes_events", "block", [URL], ["janes_events"]),
    ("all my links: linktr.ee/janes", "block", [URL], ["linktr.ee/janes"]),
    # --- off-platform payment only ---------------------------------------------------------------
    ("Venmo me the deposit and we're good", "warn", [PAY], []),
    ("Can you send it via Zelle?", "warn", [PAY], []),
    # The $cashtag next to Cash App is how to pay them off the platform: masked like a handle.
    ("Cash App works, my tag is $janedoe", "block", [PAY, URL], ["$janedoe", "janedoe"]),
    ("Lets use Venmo @jane-doe", "block", [PAY, URL], ["@jane-doe", "jane-doe", "doe"]),
    ("PayPal me at paypal.me/janedoe", "block", [PAY, URL], ["paypal.me/janedoe", "janedoe"]),
    ("@jane.doe-7 on Venmo, $janedoe on Cash App", "block", [PAY, URL], ["jane.doe", "janedoe"]),
    ("PayPal is easier for me", "warn", [PAY], []),
    ("Just wire the money to my account", "warn", [PAY], []),
    ("pay me directly and we both skip the fees", "warn", [PAY], []),
    ("let's keep this off the platform", "warn", [PAY], []),
    ("We can settle off-platform next week", "warn", [PAY], []),
    ("A bank transfer is fine", "warn", [PAY], []),
    ("cash only on the day, thanks", "warn", [PAY], []),
    # --- mixed -----------------------------------------------------------------------------------
    ("Venmo me and text 415-555-0134", "block", [PAY, PHONE], ["415-555-0134"]),
    (
        "my number is 415 555 0134 or email jane@x.co",
        "block",
        [EMAIL, PHONE],
        ["415 555 0134", "jane@x.co"],
    ),
    (
        "Pay outside the app: zelle to jane@gmail.com, site janesevents.com",
        "block",
        [EMAIL, PAY, URL],
        ["jane@gmail.com", "janesevents.com"],
    ),
]

ALLOWED = [
    "Can you call the venue's front desk to confirm parking?",
    "Please email me the menu through the app.",
    "We need 120 guests on 2026-12-24 at 7:30pm.",
    "Our budget is $4,500 for catering.",
    "The venue is at 1200 Market Street, Suite 400, San Francisco, CA 94103.",
    "Pay the deposit through Strathwell and we're all set.",
    "You can pay directly through Strathwell when you book.",
    "Total comes to 1,200.50 including tax.",
    "The event is on 12/24/2026, doors open at 6:30 pm.",
    "We'd like to keep it under 4500 dollars, Dec 24 2026 works best.",
    "We expect 150 guests, e.g. family and close friends, i.e. no plus-ones.",
    "Setup starts at 9 a.m. and teardown ends by 11 p.m.",
    "The caterer is rated 4.5 stars.",
    "Mr.Smith and the St. Regis staff will be there.",
    "Can you text me when you arrive at the venue?",
    "We expect 800-1200 guests across both days.",
    "The price is $12,500.00 for the full package.",
    "Our dates are 24.12.2026 and 2026-12-26, zip 94103-1234.",
    "Booking #12345678 is confirmed, invoice ref 20261224 attached.",
    "We got married in 2019 and are celebrating in 2026.",
    "Cash bar is fine, we'll tip the bartenders.",
    "Tables 1 2 3 4 5 6 7 are reserved for family.",
    "Dinner@the rooftop at 8, then dancing.",
    "Let's meet at the venue at noon and look at the room.",
    "The hall is 2500 sq ft with 3 rooms and 12 tables of 10.",
    "See strathwell.com/help or write to support@strathwell.com.",
    "Please message me here on the platform with any questions.",
    "We loved it.Me too, honestly.",
    "The view at Outlook Point is lovely; we are at live music night after.",
    "Doors 6-11pm, ages 21+, rooms 101-105 and 201-210.",
    "Follow the signs to the loading dock at 5th St. and Howard.",
    "Countdown at midnight: three, two, one, 2027!",
    "My insta is private, sorry.",
    "The final invoice # is 55512345.",
]


def _expected_mask(signals):
    return [MASKS[s] for s in signals if s in MASKS]


@pytest.mark.parametrize(("text", "action", "signals", "raw"), CAUGHT)
def test_caught_phrasings(text, action, signals, raw):
    result = screen_text(text)
    assert result.action == action
    assert result.signals == signals


@pytest.mark.parametrize(("text", "action", "signals", "raw"), CAUGHT)
def test_excerpt_never_echoes_contact_details(text, action, signals, raw):
    excerpt = screen_text(text).excerpt
    for detail in raw:
        assert detail.lower() not in excerpt.lower()
    for mask in _expected_mask(signals):
        assert mask in excerpt
    if PHONE in signals:
        # No fragment of the number survives either (three or more digits in a row).
        assert not re.search(r"\d{3}", excerpt)


@pytest.mark.parametrize("text", ALLOWED)
def test_innocent_text_is_allowed(text):
    result = screen_text(text)
    assert result == ScreeningResult(action="allow", signals=[], excerpt=text)


def test_table_sizes():
    assert len(CAUGHT) + len(ALLOWED) >= 40
    assert sum(1 for row in CAUGHT if row[1] == "block") >= 20
    assert len(ALLOWED) >= 15


def test_payment_words_are_kept_readable():
    result = screen_text("Venmo me the deposit")
    assert result.excerpt == "Venmo me the deposit"


def test_masking_keeps_surrounding_text():
    result = screen_text("Hi! Email jane@gmail.com or call 415-555-0134. Thanks")
    assert result.excerpt == "Hi! Email [email removed] or call [phone removed]. Thanks"
    assert result.signals == ["email", "phone"]


def test_phone_number_glued_to_a_year_is_still_found():
    result = screen_text("for 2026 415 555 0134 is best")
    assert result.signals == ["phone"]
    assert result.excerpt == "for 2026 [phone removed] is best"


def test_url_trailing_punctuation_stays_in_the_sentence():
    assert screen_text("Go to janesevents.com/menu.").excerpt == "Go to [link removed]."


@pytest.mark.parametrize("text", ["", "   ", "\n\t  \n"])
def test_empty_input(text):
    assert screen_text(text) == ScreeningResult(action="allow", signals=[], excerpt="")


def test_none_is_treated_as_empty():
    assert screen_text(None) == ScreeningResult(action="allow", signals=[], excerpt="")


def test_surrounding_whitespace_is_trimmed():
    assert screen_text("  hello there \n").excerpt == "hello there"


def test_result_is_frozen():
    result = screen_text("hello")
    with pytest.raises(AttributeError):
        result.action = "block"


# --- truncation -----------------------------------------------------------------------------------


def test_short_text_is_not_truncated():
    text = "x" * MAX_EXCERPT_CHARS
    assert screen_text(text).excerpt == text


def test_long_text_is_truncated_to_the_limit():
    excerpt = screen_text("word " * 300).excerpt
    assert len(excerpt) <= MAX_EXCERPT_CHARS
    assert excerpt.endswith("…")
    assert excerpt.startswith("word word")


@pytest.mark.parametrize("offset", range(470, 510, 3))
def test_contact_detail_straddling_the_cut_never_leaks(offset):
    # Wherever the address lands relative to the cut, no fragment of it survives.
    text = "a" * offset + " jane.doe@gmail.com call 415-555-0134 " + "b" * 200
    result = screen_text(text)
    assert result.action == "block"
    assert len(result.excerpt) <= MAX_EXCERPT_CHARS
    for fragment in ("jane", "doe@", "gmail", "@", "415", "555", "0134"):
        assert fragment not in result.excerpt


@pytest.mark.parametrize("offset", range(480, 500))
def test_mask_token_is_never_cut_in_half(offset):
    text = "a" * offset + " jane@gmail.com " + "b" * 100
    excerpt = screen_text(text).excerpt
    assert len(excerpt) <= MAX_EXCERPT_CHARS
    assert "[email" not in excerpt or "[email removed]" in excerpt


def test_detail_beyond_the_excerpt_still_blocks():
    result = screen_text("hello " * 200 + "call me 415-555-0134")
    assert result.action == "block"
    assert result.signals == ["phone"]
    assert "415" not in result.excerpt


def test_masking_happens_before_truncation():
    # 490 chars of prose then a long URL: masked first, the token fits, nothing is cut mid-URL.
    text = "p" * 480 + " https://janesevents.com/a/very/long/path/that/goes/on"
    excerpt = screen_text(text).excerpt
    assert excerpt == "p" * 480 + " [link removed]"


# --- robustness -----------------------------------------------------------------------------------


def test_invisible_characters_do_not_hide_an_address():
    result = screen_text("jane\u200b@gmail\u200b.com")
    assert result.signals == ["email"]
    assert "gmail" not in result.excerpt


def test_full_width_digits_are_normalised():
    result = screen_text("TEXT ４１５５５５０１３４")
    assert result.signals == ["phone"]
    assert "[phone removed]" in result.excerpt


def test_platform_links_are_not_a_loophole_for_other_hosts():
    result = screen_text("https://strathwell.com@evil.io/pay")
    assert result.signals == ["url"]
