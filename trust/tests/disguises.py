"""Generators of disguised contact details for the screening tests.

Each generator takes a ``random.Random`` (Hypothesis's ``st.randoms()`` in the property tests,
a seeded one in the recall report) and returns ``(text, raw)``: a marketplace message hiding
one random email address, phone number or app handle in one particular way, and the pieces of
the detail that must never survive in the excerpt.

They disguise details the way people do (see the issue's list), not the way the detector
reads them: the point is to find what it misses.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable

Generated = tuple[str, list[str]]

FIRST = "anna ben carla david elena felix grace hugo ines jonas kate liam maria noah olga paul "
FIRST += "rosa sam tina umar vera will xena yusuf zoe marco julie lukas sofia pedro chloe"
FIRST_NAMES = FIRST.split()
LAST_NAMES = [
    "smith",
    "garcia",
    "martin",
    "rossi",
    "muller",
    "silva",
    "dubois",
    "jones",
    "lopez",
    "bianchi",
    "weber",
    "costa",
]
PROVIDERS = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "gmx.de"]
BRANDS = ["brightaudio", "bloomandvine", "velvetrope", "sunsetcatering", "glowbooth", "djnova"]
BRAND_TLDS = ["com", "co.uk", "events", "studio", "net", "es", "fr", "de", "it", "io"]

# Sentence frames; {x} is the detail. Several put an ordinary "at" before the address.
EMAIL_FRAMES = [
    "Write to me at {x}",
    "We'll be at the venue at 6 but email {x} for the contract",
    "I'm at the fair at the moment, my address is {x}",
    "email: {x}",
    "{x} is the best way to reach me",
    "send the rider to {x} please",
    "Meet at noon at the hall, or mail {x} before",
]

# Separators in the languages of the issue: (at, dot).
SPELLED = [
    (" at ", " dot "),
    (" AT ", " DOT "),
    (" (at) ", " (dot) "),
    ("[at]", "[dot]"),
    (" {at} ", " {dot} "),
    (" arroba ", " punto "),
    (" arobase ", " point "),
    (" (at) ", " (punkt) "),
    (" chiocciola ", " punto "),
    (" arroba ", " ponto "),
    ("(@)", "(.)"),
    (" @ ", " . "),
]

# Look-alikes: Cyrillic and Greek letters, full-width forms.
HOMOGLYPHS = {
    "a": "аα",
    "e": "е",
    "o": "оο",
    "c": "с",
    "p": "р",
    "x": "х",
    "y": "у",
    "i": "іι",
    "s": "ѕ",
    "j": "ј",
}
DOTS = ["·", "•", "。", "．", "∙"]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]


def _local(rng: random.Random) -> str:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    shape = rng.randrange(5)
    if shape == 0:
        return f"{first}.{last}"
    if shape == 1:
        return f"{first}_{last}{rng.randrange(10, 99)}"
    if shape == 2:
        return f"{first}{rng.randrange(1970, 2005)}"
    if shape == 3:
        return f"{first[0]}.{last}"
    return f"{first}{last}"


def _domain(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return rng.choice(PROVIDERS)
    return f"{rng.choice(BRANDS)}.{rng.choice(BRAND_TLDS)}"


def _frame(rng: random.Random, frames: list[str], detail: str) -> str:
    return rng.choice(frames).format(x=detail)


# --------------------------------------------------------------------------------------------
# Emails
# --------------------------------------------------------------------------------------------


def email_spelled(rng: random.Random) -> Generated:
    local, domain = _local(rng), _domain(rng)
    at, dot = rng.choice(SPELLED)
    written = local.replace(".", dot) + at + domain.replace(".", dot)
    return _frame(rng, EMAIL_FRAMES, written), [written.strip(), domain.split(".")[0]]


def email_spaced_letters(rng: random.Random) -> Generated:
    local, domain = _local(rng), _domain(rng)
    written = " ".join(f"{local}@{domain}")
    return _frame(rng, EMAIL_FRAMES, written), [" ".join(domain.split(".")[0])]


def email_homoglyphs(rng: random.Random) -> Generated:
    local, domain = _local(rng), _domain(rng)
    address = f"{local}@{domain}"
    written = "".join(
        rng.choice(HOMOGLYPHS[c]) if c in HOMOGLYPHS and rng.random() < 0.5 else c for c in address
    )
    if rng.random() < 0.3:
        written = written.replace(".", rng.choice(DOTS))
    if rng.random() < 0.3:
        written = written.translate(_FULL_WIDTH)
    return _frame(rng, EMAIL_FRAMES, written), [written, written.split("@")[0]]


def email_invisible(rng: random.Random) -> Generated:
    local, domain = _local(rng), _domain(rng)
    address = f"{local}@{domain}"
    written = "".join(c + (rng.choice(ZERO_WIDTH) if rng.random() < 0.3 else "") for c in address)
    return _frame(rng, EMAIL_FRAMES, written), [local, domain.split(".")[0]]


_FULL_WIDTH = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}

# --------------------------------------------------------------------------------------------
# Phones
# --------------------------------------------------------------------------------------------

PHONE_FRAMES = [
    "call me on {x}",
    "my number is {x}",
    "{x} (mobile)",
    "text {x} after 6",
    "WhatsApp {x}",
    "reach me at {x}, thanks",
    "{x}",
]
US_AREAS = ["212", "312", "415", "646", "718", "917", "305", "512", "617", "202"]
WORDS = {
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    "es": ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"],
    "fr": ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"],
    "de": ["null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"],
    "it": ["zero", "uno", "due", "tre", "quattro", "cinque", "sei", "sette", "otto", "nove"],
    "pt": ["zero", "um", "dois", "três", "quatro", "cinco", "seis", "sete", "oito", "nove"],
}


def _phone_groups(rng: random.Random) -> tuple[list[str], str]:
    """Groups of a valid number as written nationally, and the language spoken there."""
    kind = rng.randrange(6)
    if kind == 0:
        line = f"01{rng.randrange(0, 100):02d}"
        return [rng.choice(US_AREAS), "555", line], "en"
    if kind == 1:
        return ["020", "7946", f"0{rng.randrange(0, 1000):03d}"], "en"
    if kind == 2:
        rest = [f"{rng.randrange(0, 100):02d}" for _ in range(4)]
        return ["06", *rest], "fr"
    if kind == 3:
        return [f"6{rng.randrange(10, 100)}", f"{rng.randrange(100, 1000)}", "678"], "es"
    if kind == 4:
        return ["0151", f"{rng.randrange(1000, 10000)}", f"{rng.randrange(1000, 10000)}"], "de"
    return [f"34{rng.randrange(0, 10)}", f"{rng.randrange(100, 1000)}", "4567"], "it"


def phone_look_alike_letters(rng: random.Random) -> Generated:
    groups, _ = _phone_groups(rng)
    sep = rng.choice([" ", "-", "."])
    number = sep.join(groups)
    swap = {"0": "Oo", "1": "Il"}
    written = "".join(
        rng.choice(swap[c]) if c in swap and rng.random() < 0.6 else c for c in number
    )
    return _frame(rng, PHONE_FRAMES, written), [written, number]


def phone_split_lines(rng: random.Random) -> Generated:
    groups, _ = _phone_groups(rng)
    sep = rng.choice(["\n", " / ", "/", "\n\n", " |\n"])
    written = sep.join(groups)
    return _frame(rng, PHONE_FRAMES, written), ["".join(groups), groups[-1]]


def phone_number_words(rng: random.Random) -> Generated:
    groups, lang = _phone_groups(rng)
    words = WORDS[lang]
    pieces = []
    for group in groups:
        pieces.append(" ".join(words[int(d)] for d in group))
    written = rng.choice([", ", " ", " - "]).join(pieces)
    return _frame(rng, PHONE_FRAMES, written), [pieces[-1]]


def phone_double_triple(rng: random.Random) -> Generated:
    area = rng.choice(US_AREAS)
    line = f"01{rng.randrange(0, 100):02d}"
    digits = [*area, "5", "5", "5", *line]
    words = WORDS["en"]
    out = []
    i = 0
    while i < len(digits):
        run = 1
        while i + run < len(digits) and digits[i + run] == digits[i] and run < 3:
            run += 1
        word = words[int(digits[i])]
        out.append({1: word, 2: f"double {word}", 3: f"triple {word}"}[run])
        i += run
    written = " ".join(out)
    return _frame(rng, PHONE_FRAMES, written), [written]


def phone_spaced_or_wide(rng: random.Random) -> Generated:
    groups, _ = _phone_groups(rng)
    number = "".join(groups)
    spaced = rng.random() < 0.5
    written = " ".join(number) if spaced else " ".join(groups).translate(_FULL_WIDTH)
    return _frame(rng, PHONE_FRAMES, written), [written]


# --------------------------------------------------------------------------------------------
# Handles
# --------------------------------------------------------------------------------------------

APPS = [
    "WhatsApp", "Telegram", "Signal", "WeChat", "Discord", "Instagram", "Insta", "IG",
    "Snapchat", "TikTok", "Venmo", "Cash App", "Revolut", "Viber",
]  # fmt: skip
HANDLE_FRAMES = [
    "add me on {app}: {h}",
    "my {app} is {h}",
    "{app} @{h}",
    "{app} username: {h}",
    "find me on {app} as {h}",
    "@{h} on {app}",
    "{app} ID {h}, message me there",
]


def _username(rng: random.Random) -> str:
    first = rng.choice(FIRST_NAMES)
    shape = rng.randrange(4)
    if shape == 0:
        return f"{first}_{rng.choice(LAST_NAMES)}"
    if shape == 1:
        return f"{first}.{rng.choice(['events', 'dj', 'photo', 'cakes'])}{rng.randrange(1, 99)}"
    if shape == 2:
        return f"{first}{rng.randrange(10, 9999)}"
    letters = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randrange(3, 8)))
    return f"{letters}_{rng.randrange(1, 999)}"


def handle_on_app(rng: random.Random) -> Generated:
    app, handle = rng.choice(APPS), _username(rng)
    return rng.choice(HANDLE_FRAMES).format(app=app, h=handle), [handle]


CONTACT_DISGUISES: dict[str, Callable[[random.Random], Generated]] = {
    "email: spelled separators": email_spelled,
    "email: spaced letters": email_spaced_letters,
    "email: homoglyphs": email_homoglyphs,
    "email: invisible characters": email_invisible,
    "phone: look-alike letters": phone_look_alike_letters,
    "phone: split lines/slashes": phone_split_lines,
    "phone: number words": phone_number_words,
    "phone: double/triple": phone_double_triple,
    "phone: spaced/full-width": phone_spaced_or_wide,
    "handle: app handles": handle_on_app,
}
