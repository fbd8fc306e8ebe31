"""The words the screening knows, in one place, for staff to extend.

Everything here is matched against the *folded* text (NFKC, homoglyphs and accents folded to
ASCII by ``anyascii``: "número" is written "numero", "fünf" is "funf", "微信" is "WeiXin"),
case-insensitively, on word boundaries. Add a word to the right list and every detector that
uses the list picks it up; multi-word entries match with any run of spaces between the words.

The lists are plain tuples of strings (no regex syntax) so adding one cannot slow the screening
down or break it: ``words_pattern`` escapes and bounds them.
"""

from __future__ import annotations

import re


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --------------------------------------------------------------------------------------------
# Contact channels
# --------------------------------------------------------------------------------------------

# Messaging and social apps: a handle next to one of these is a contact detail ("WhatsApp:
# jane_88", "@janes.events on Insta"); an invitation to move there is off-platform contact.
MESSAGING_APPS = (
    "whatsapp", "whats app", "watsapp", "wassap", "wsp", "wapp", "zap", "zapzap",
    "telegram", "telegrama", "tg",
    "signal", "signal app", "signal messenger",
    "wechat", "we chat", "weixin", "wechat id", "wei xin", "wei xin hao",
    "discord", "viber", "kik", "skype", "threema", "line app", "line id", "imessage", "facetime",
    "snapchat", "snap", "instagram", "insta", "ig", "tiktok", "tik tok", "facebook", "fb",
    "messenger", "twitter", "threads", "linkedin", "bluesky", "mastodon",
)  # fmt: skip

# Apps and rails that move money outside Strathwell. Naming one is off-platform payment talk
# (a warning); a handle, cashtag, account or wallet next to one is a payment detail (a block).
PAYMENT_APPS = (
    "venmo", "zelle", "cash app", "cashapp", "cashtag", "paypal", "pay pal", "paypal me",
    "revolut", "revtag", "bizum", "monzo", "paylib", "satispay", "lydia app",
    "mobilepay", "vipps", "mb way", "mbway", "multibanco", "payconiq", "interac",
    "e-transfer", "etransfer", "western union", "moneygram", "money gram", "remitly",
    "worldremit", "payoneer", "skrill", "neteller", "alipay", "wechat pay", "apple cash",
    "transferwise", "wise transfer", "wise account", "via wise", "with wise", "chave pix",
    "pix key", "via pix", "por pix", "no pix", "um pix", "faz um pix", "manda um pix",
)  # fmt: skip

# Rails and methods that only count as off-platform when named as a way to pay.
PAYMENT_RAILS = (
    "wire transfer", "bank transfer", "direct transfer", "bank wire", "sepa", "sepa transfer",
    "swift transfer", "ach transfer", "ach payment", "bacs", "faster payments",
    "money order", "cashier's check", "cashiers check", "e transfer", "wire the money",
    "wire me the money", "wire us the money", "wire the funds", "wire the deposit",
    "wire the balance", "wire the payment", "wire it", "wire me", "wiring the money",
    "pay by check", "pay by cheque", "pay with a check", "pay with a cheque", "send a check",
    "send a cheque", "mail a check", "mail me a check", "mail us a check", "mail a cheque",
    "send me a check", "send me a cheque", "payment by check",
    # es / fr / de / it / pt
    "transferencia", "transferencia bancaria", "ingreso en cuenta", "ingreso bancario",
    "virement", "virement bancaire", "uberweisung", "ueberweisung", "bankuberweisung",
    "bonifico", "bonifico bancario", "transferencia bancaria", "transferencia direta",
    "deposito bancario",
)  # fmt: skip

# Words that are payment talk only next to a payment verb ("pay in bitcoin", "send it with
# Wise"): crypto, and app names that are also ordinary words or first names.
CONTEXTUAL_PAYMENT_WORDS = (
    "bitcoin", "btc", "ethereum", "eth", "usdt", "usdc", "tether", "crypto", "cripto",
    "krypto", "cryptocurrency", "criptomoneda", "litecoin", "dogecoin", "solana",
    "stablecoin", "lydia", "wise", "swish", "pix", "blik", "twint",
)  # fmt: skip

# Payment verbs and nouns that make a contextual word above payment talk.
PAY_WORDS = (
    "pay", "paid", "paying", "payment", "payments", "send", "sent", "sending", "transfer",
    "wire", "deposit", "balance", "accept", "accepts", "take", "settle", "money", "fee",
    "fees", "cash", "pagar", "pago", "pagos", "pagame", "enviar", "envia", "enviame",
    "manda", "mandar", "payer", "paie", "paiement", "envoyer", "envoie", "zahlen",
    "bezahlen", "zahlung", "schicken", "senden", "uberweisen", "pagare", "pagamento",
    "inviare", "inviami", "pagamento", "faz", "fazer", "receber", "recebo", "acepto",
    "paye", "payes", "payez", "verse", "versez", "rembourse", "envoie", "envoyez",
    "accetto", "akzeptiere", "j'accepte", "wallet",
)  # fmt: skip

# Cash in hand, which escapes the platform as surely as an app does.
CASH_PHRASES = (
    "cash only", "only cash", "cash in hand", "in cash", "with cash", "cash on the day",
    "cash upfront", "cash up front", "cash payment", "pay cash", "paid cash", "cash deal",
    "en efectivo", "solo efectivo", "pago en efectivo", "pago en mano",
    "en especes", "en liquide", "de la main a la main",
    "in bar bezahlen", "in bar zahlen", "bar bezahlen", "bar zahlen", "barzahlung",
    "bar auf die hand", "nur bar", "bargeld",
    "in contanti", "solo contanti", "pagamento in contanti",
    "em dinheiro", "em especie", "so dinheiro", "dinheiro vivo",
)  # fmt: skip

# Intent: talk of cutting the platform out. Matched as phrases; "{pay}"-style placeholders
# are not supported on purpose: write the phrase out.
INTENT_PHRASES = (
    # en
    "skip the fee", "skip the fees", "skip the platform fee", "skip the service fee",
    "avoid the fee", "avoid the fees", "avoid the commission", "avoid the service fee",
    "avoid the platform fee", "dodge the fee", "bypass the fee", "bypass the platform",
    "save the fee", "save on the fee", "save on fees", "save the commission",
    "no platform fee", "no service fee", "without the fee", "without the fees",
    "without the commission", "cut out the middleman", "cut out strathwell",
    "cut strathwell out", "outside the app", "outside of the app", "outside the platform",
    "outside of the platform", "outside strathwell", "outside of strathwell",
    "outside the site", "off the app", "off the platform", "off platform", "off-platform",
    "off strathwell", "off app", "off the books", "under the table", "without the app",
    "without the platform", "without strathwell", "not through the app",
    "not through strathwell", "pay me directly", "pay us directly", "pay directly to me",
    "paid directly", "pay me direct", "pay direct", "pay each other directly",
    "pay directly", "paying directly", "pay them directly", "pay him directly",
    "pay her directly", "pay you directly", "pay the vendor directly", "pay the balance directly",
    "pay the rest directly", "pay the deposit directly", "pay the remainder directly",
    "settle directly", "settle up directly", "settle privately", "settle between us",
    "settle it between us", "settle in person", "deal directly", "book me directly",
    "book us directly", "book directly with me", "book directly with us", "book me privately",
    "book us privately", "book privately", "book direct", "book with me directly",
    "cancel on strathwell and", "pay me privately", "pay privately",
    # es
    "pagar directamente", "pagarme directamente", "pagame directamente",
    "pago directo", "fuera de la app", "fuera de la aplicacion", "fuera de la plataforma",
    "por fuera de la app", "por fuera de la plataforma", "sin comision", "sin comisiones",
    "sin la comision", "ahorrar la comision", "ahorrarnos la comision", "evitar la comision",
    "reservar directamente conmigo", "reservame directamente", "pagarte directamente",
    # fr
    "payer directement", "me payer directement", "paiement direct",
    "en dehors de l'appli", "en dehors de l'application", "en dehors de la plateforme",
    "en dehors du site", "hors plateforme", "hors de la plateforme", "sans commission",
    "sans la commission", "sans frais de service", "eviter la commission", "eviter les frais",
    "reserver directement", "reservez directement", "me payer en direct",
    # de
    "direkt bezahlen", "direkt an mich", "direkt zahlen", "direkt bei mir buchen",
    "ausserhalb der app", "ausserhalb der plattform", "an der plattform vorbei",
    "ohne provision", "ohne die provision", "ohne gebuhr", "ohne gebuhren", "ohne plattform",
    "provision sparen", "gebuhr sparen", "gebuhren sparen", "unter der hand",
    # it
    "pagare direttamente", "pagarmi direttamente", "pagamento diretto",
    "fuori dall'app", "fuori dalla app", "fuori dalla piattaforma", "senza commissioni",
    "senza commissione", "evitare la commissione", "prenotare direttamente",
    "pagami direttamente",
    # pt
    "pagar diretamente", "pagar direto", "pagamento direto", "fora da app",
    "fora do app", "fora da aplicacao", "fora da plataforma", "sem taxa",
    "sem comissao", "sem a comissao", "evitar a taxa", "evitar a comissao",
    "reservar direto comigo", "me paga direto", "me pague diretamente",
)  # fmt: skip

# "skip the fee", "avoid the platform's commission", "dodge the service fees", ... in every
# combination (English is where most of the variety is).
INTENT_PHRASES += tuple(
    f"{verb} {det}{noun}"
    for verb in ("skip", "avoid", "dodge", "bypass", "save", "save on", "get around")
    for det in ("", "the ", "their ", "your ", "our ", "all the ", "any ")
    for noun in (
        "fee", "fees", "commission", "commissions", "platform fee", "platform fees",
        "service fee", "service fees", "booking fee", "booking fees", "app fee", "app fees",
        "strathwell fee", "strathwell fees", "platform's fee", "platform's cut",
        "strathwell's fee", "strathwell's cut", "markup",
    )
) + tuple(
    f"{verb} the {noun}"
    for verb in ("skip", "avoid", "bypass", "get around", "go around", "cut out")
    for noun in ("middleman", "middle man", "platform", "app", "website")
) + (
    "don't bother with the app", "dont bother with the app", "no need for the app",
    "don't need the app", "don't need to go through the app", "no need to go through the app",
    "don't go through the app", "don't need to use the app", "skip strathwell",
    "just pay me", "pay me instead", "my own payment link", "invoice you myself",
    "invoice you directly", "send you an invoice directly",
)  # fmt: skip

# Phrases that make payment talk *about* Strathwell itself, so "pay directly through
# Strathwell" or "can I pay by bank transfer in the app?" are not flagged. They must follow
# the payment words closely (same clause).
ON_PLATFORM_PHRASES = (
    "through strathwell", "via strathwell", "on strathwell", "in strathwell",
    "with strathwell", "using strathwell", "through the app", "via the app", "in the app",
    "on the app", "through the platform", "via the platform", "on the platform",
    "through the site", "on the site", "at checkout", "through checkout", "in checkout",
    "por la app", "en la app", "por la plataforma", "en la plataforma", "a traves de la app",
    "a traves de strathwell", "por strathwell", "en strathwell",
    "via l'appli", "dans l'appli", "sur l'appli", "sur la plateforme", "via la plateforme",
    "par strathwell", "sur strathwell", "via strathwell",
    "uber die app", "in der app", "uber die plattform", "auf der plattform", "uber strathwell",
    "tramite l'app", "nell'app", "sulla piattaforma", "tramite strathwell", "su strathwell",
    "pela app", "pelo app", "na app", "no app", "pela plataforma", "na plataforma",
    "pela strathwell", "na strathwell",
)  # fmt: skip

# Verbs inviting someone onto another channel ("add me on WhatsApp", "escríbeme por
# Telegram"): with a messaging app close after them they are off-platform contact talk.
CONTACT_INVITES = (
    "add me", "add us", "message me", "message us", "msg me", "text me", "write me",
    "write to me", "dm me", "dm us", "pm me", "ping me", "contact me", "contact us",
    "reach me", "reach us", "hit me up", "find me", "find us", "follow me", "follow us",
    "talk on", "chat on", "continue on", "move to", "switch to", "let's move", "lets move",
    "let's continue", "let's talk", "let's chat", "call me on", "call me via",
    "escribeme", "escribenos", "agregame", "contactame", "hablame", "mandame un mensaje",
    "hablamos por", "seguimos por", "sigueme", "buscame",
    "ecris-moi", "ecrivez-moi", "ajoute-moi", "ajoutez-moi", "contacte-moi", "contactez-moi",
    "on continue sur", "passons sur", "suis-moi",
    "schreib mir", "schreiben sie mir", "melde dich", "kontaktier mich", "adde mich",
    "folge mir", "lass uns auf",
    "scrivimi", "contattami", "aggiungimi", "sentiamoci su", "seguimi",
    "me chama", "me manda", "fala comigo", "me adiciona", "vamos para o", "me segue",
)  # fmt: skip

# Follow-style cues before a bare "@handle" with no app named: "DM me @janes_events".
HANDLE_CUES = (
    "dm", "dm me", "pm me", "follow", "follow me", "follow us", "add me", "find me",
    "find us", "message me", "ping me", "hit me up", "search for", "look me up",
    "escribeme", "sigueme", "agregame", "ajoute-moi", "suis-moi", "ecris-moi",
    "folge mir", "schreib mir", "seguimi", "scrivimi", "me segue", "me adiciona",
)  # fmt: skip

# Words shortly before a domain that say it is one ("visit", "our site", "google").
LINK_CUES = (
    "www", "site", "website", "web", "visit", "check out", "go to", "google", "url",
    "link", "page", "online", "search", "blog", "portfolio", "sitio", "pagina",
    "seite", "webseite", "sito", "webpage", "homepage", "domain", "dominio",
)  # fmt: skip

# Words that turn "through the app" around: "pay me directly, not through the app".
NEGATIONS = (
    "not", "no", "never", "instead of", "rather than", "without", "sin", "sans", "pas",
    "nicht", "ohne", "statt", "non", "senza", "nao", "sem", "em vez",
)  # fmt: skip

# Words announcing a handle right after the app's name: "WhatsApp ID: ...", "usuario: ...".
HANDLE_LABELS = (
    "handle", "username", "user name", "user", "id", "account", "tag",
    "usuario", "nombre de usuario", "cuenta", "pseudo", "identifiant", "compte",
    "benutzername", "nutzername", "konto", "utente", "nome utente", "nome de usuario",
    "usuario", "perfil", "revtag", "cashtag",
)  # fmt: skip

# Words that are never a handle even right after an app's name ("my insta is private").
NOT_HANDLES = _wordset(
    """
    a an the me my mine you your us our is are was be it its this that there here and or but
    on at in to of for with via by from me too also please thanks thank ok okay yes no not
    private public same later now soon instead only just works work fine better easier best
    number num phone details info account handle username user name id tag profile
    el la los las de del en por para con mi mis tu su es esta que y o pero si no
    le les un une des du sur avec mon ma mes ton ta est et ou mais oui non
    der die das den dem ein eine mein meine ist und oder aber ja nein auf mit
    il lo gli uno una di da su con mio mia sono e ed ma si
    o os um uma do da no na com meu minha sim nao
    group chat channel page story stories dm dms
    """
)

# Mail providers that can stand without a TLD ("jane@gmail", "jane at hotmail").
MAIL_PROVIDERS = (
    "gmail", "googlemail", "yahoo", "ymail", "hotmail", "outlook", "live", "msn", "icloud",
    "aol", "proton", "protonmail", "pm", "gmx", "yandex", "zoho", "fastmail", "comcast",
    "qq", "163", "126", "orange", "wanadoo", "laposte", "free", "sfr", "web", "t-online",
    "freenet", "libero", "virgilio", "tiscali", "alice", "sapo", "terra", "uol", "bol",
    "tutanota", "tuta", "mailbox", "posteo", "seznam", "mail", "email",
)  # fmt: skip
# With a plain word "at" the provider must be unambiguous: "the view at outlook point",
# "we are at live music night", "at free parking" are prose; "jane at gmail" is not.
UNAMBIGUOUS_MAIL_PROVIDERS = (
    "gmail", "googlemail", "yahoo", "ymail", "hotmail", "icloud", "aol", "protonmail", "gmx",
    "yandex", "zoho", "fastmail", "wanadoo", "laposte", "libero", "tiscali", "tutanota",
    "posteo", "seznam", "t-online",
)  # fmt: skip

# Hosts that are a contact channel whatever their TLD looks like ("wa.me/...", "t.me/...").
CONTACT_LINK_HOSTS = (
    "wa.me", "t.me", "telegram.me", "m.me", "signal.me", "discord.gg", "paypal.me",
    "revolut.me", "monzo.me", "cash.app", "venmo.com", "linktr.ee", "bit.ly", "tinyurl.com",
    "calendly.com", "ig.me", "snapchat.com", "instagram.com", "facebook.com", "fb.me",
    "tiktok.com", "wechat.com", "lydia-app.com", "bizum.es",
)  # fmt: skip

# Our own domains: links and addresses there are not an off-platform attempt.
PLATFORM_DOMAINS = ("strathwell.com",)

# --------------------------------------------------------------------------------------------
# Obfuscated separators
# --------------------------------------------------------------------------------------------

# Spelled-out "@" ("jane arroba gmail punto com") in en/es/fr/de/it/pt.
AT_WORDS = ("at", "arroba", "arobase", "arrobase", "chiocciola", "klammeraffe", "aet")
# Spelled-out "." in the same languages.
DOT_WORDS = ("dot", "punto", "point", "punkt", "ponto")

# TLDs trusted after a spelled or spaced dot ("site dot com", "site punto es"): a spoken
# "polka dot me" or "point de vue" must not read as a link.
SPOKEN_TLDS = (
    "com", "net", "org", "io", "biz", "info", "app", "dev", "events", "co.uk", "uk", "fr",
    "pt", "nl", "eu", "ch", "ie", "mx", "br", "ca", "com.br", "com.mx", "com.au",
)  # fmt: skip

# Public suffixes that are also short everyday words in our languages (or file extensions): a
# bare "late.so" or "done.it" is a missing space, not a link, unless a path, a "www", a cue
# word or a brand-like label (hyphen, digit, a subdomain) says otherwise.
SHORT_WORD_TLDS = _wordset(
    """
    at in it to be no is so me us am my do go as by de es la se si et il ma al ne pe tv fm
    now new day fun one top win how you bar men here life live love home best buy fit art
    are ink run ski spa zip mov md py sh rs pl ps ai gs im pm re ms cv id dj
    """
)
# Longer words that are also TLDs ("food.menu", "the.wedding"): a label of six letters or
# more ("janesevents.wedding") reads as a brand, a shorter one needs the same evidence.
WORD_TLDS = _wordset(
    """
    menu pizza cafe wine beer vodka photo photos pics music party events wedding catering
    studio design dance band show club golf hotel house place space world today team cool
    rent sale shop store deals gift gifts flowers florist fashion black blue red pink green
    gold city town school cars food fish kitchen family tips guide help info email link
    click page site online live rocks lol fyi vip win games care cab bike boats
    """
)

# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------

# Digits said as words, for dictated phone numbers. Folded spelling (no accents).
NUMBER_WORDS = {
    "0": "zero oh nought nil cero null nulla",
    "1": "one uno un une eins ein um uma",
    "2": "two dos deux zwei due dois duas",
    "3": "three tres trois drei tre",
    "4": "four cuatro quatre vier quattro quatro",
    "5": "five cinco cinq funf fuenf cinque",
    "6": "six seis sechs sei",
    "7": "seven siete sept sieben sette sete",
    "8": "eight ocho huit acht otto oito",
    "9": "nine nueve neuf neun nove",
}
# "double five" = 55, "triple zero" = 000.
REPEAT_WORDS = {"double": 2, "doble": 2, "doppel": 2, "doppia": 2, "triple": 3, "tripla": 3}
# "plus four four ..." = +44 at the start of a dictation.
PLUS_WORDS = ("plus", "mas", "piu", "mais")

# Words shortly before (or right after) a digit run that make it a phone number even in an
# unusual layout ("text me 41 55 55 01 34", "llámame al 612 34 56 78").
PHONE_CUES = (
    "call", "calls", "calling", "call me", "text", "txt", "sms", "phone", "ph", "tel",
    "tele", "cell", "cellphone", "mobile", "mob", "number", "num", "whatsapp", "wa",
    "signal", "telegram", "viber", "reach me", "ring", "dial", "contact", "digits", "hmu",
    "llama", "llamame", "llamar", "telefono", "tlf", "movil", "celular", "numero", "wasap",
    "bizum", "pix", "chave pix",
    "appelle", "appelle-moi", "appelez", "appeler", "telephone", "portable", "tel",
    "ruf", "ruf mich", "anrufen", "telefon", "handy", "nummer", "handynummer",
    "chiama", "chiamami", "chiamare", "cellulare", "cell", "numero",
    "ligue", "liga", "ligar", "telemovel", "telefone", "zap", "mb way",
)  # fmt: skip

# Labels that make a number a reference, not a phone ("PO 4500123456", "gate code 48213").
REFERENCE_LABELS = (
    "po", "p.o", "purchase order", "order", "order no", "order number", "invoice", "inv",
    "ref", "reference", "booking", "booking ref", "confirmation", "conf", "ticket",
    "tracking", "tracking number", "tracking no", "shipment", "parcel", "awb", "waybill",
    "vat", "vat no", "vat number", "vat id", "tax id", "ein", "tin", "sku", "item", "serial",
    "model", "lot", "batch", "case", "claim", "policy", "permit", "licence", "license",
    "gate code", "door code", "access code", "entry code", "code", "pin", "password",
    "wifi", "wi-fi", "zip", "postcode", "postal code", "id", "account id", "customer id",
    "member", "membership", "table", "room", "suite", "flight", "reservation",
    "pedido", "factura", "referencia", "reserva", "localizador", "codigo", "seguimiento",
    "nif", "cif", "iva", "expediente", "codigo postal", "cp",
    "commande", "facture", "reservation", "dossier", "suivi", "tva", "siret", "siren",
    "code postal", "digicode", "colis", "tva intracommunautaire", "n tva", "numero de tva",
    "bestellung", "bestellnummer", "rechnung", "rechnungsnummer", "buchung", "buchungsnummer",
    "auftrag", "auftragsnummer", "sendungsnummer", "ust-idnr", "ust-id", "steuernummer",
    "plz", "torcode", "kundennummer", "vorgangsnummer",
    "ordine", "fattura", "prenotazione", "spedizione", "partita iva", "p.iva", "cap",
    "codice", "pratica",
    "encomenda", "fatura", "reserva", "rastreio", "nif", "cpf", "cnpj", "cep",
)  # fmt: skip

# Units after a number that make it a quantity ("1500 guests", "2 500 m2").
QUANTITY_WORDS = (
    "guests", "guest", "people", "persons", "person", "ppl", "pax", "attendees", "heads",
    "covers", "seats", "seat", "chairs", "chair", "tables", "rooms", "plates", "portions",
    "bottles", "glasses", "sq ft", "sqft", "square feet", "square meters", "ft", "feet",
    "m2", "sqm", "meters", "metres", "miles", "km", "kg", "lbs", "watts", "w", "kw",
    "lumens", "units", "pcs", "pieces", "items", "flowers", "stems", "napkins", "invites",
    "invitations", "followers", "views", "likes", "steps", "words", "photos", "pictures",
    "personas", "invitados", "asistentes", "sillas", "mesas", "metros",
    "personnes", "invites", "convives", "chaises", "places", "couverts",
    "gaste", "personen", "teilnehmer", "stuhle", "platze", "quadratmeter",
    "ospiti", "persone", "invitati", "sedie", "posti", "coperti",
    "convidados", "pessoas", "cadeiras", "lugares",
)  # fmt: skip

# Currencies, before or after an amount: "$", "EUR 1.250.000", "1 250 000 €", "15.000 pesos".
CURRENCY_WORDS = (
    "usd", "eur", "gbp", "chf", "cad", "aud", "nzd", "mxn", "brl", "ars", "cop", "clp",
    "sek", "nok", "dkk", "pln", "czk", "huf", "jpy", "cny", "inr", "zar", "rs", "r$",
    "dollars", "dollar", "bucks", "euros", "euro", "pounds", "quid", "francs", "franken",
    "pesos", "reais", "reales", "libras", "sterling", "k", "mil", "grand", "cents",
    "eur.", "fr.", "sfr",
)  # fmt: skip
CURRENCY_SYMBOLS = "$€£¥₹₩₽₺₪฿₫₱"

# Labels that make the number after them a bank account ("sort code 12-34-56").
ACCOUNT_LABELS = (
    "iban", "account", "account number", "account no", "acct", "acct no", "a/c", "acc",
    "bank account", "cuenta", "compte",
    "sort code", "routing", "routing number", "aba", "bsb", "bic", "swift", "swift code",
    "numero de cuenta", "cuenta bancaria", "n de cuenta", "ccc", "numero de compte", "rib",
    "compte bancaire", "kontonummer", "konto", "kto", "blz", "bankverbindung",
    "numero di conto", "conto corrente", "conto", "numero da conta", "conta", "nib",
    "agencia",
)  # fmt: skip

# Wallet labels: a long base58 string after one of these is a crypto address.
WALLET_LABELS = (
    "wallet", "address", "btc", "bitcoin", "eth", "ethereum", "usdt", "usdc", "sol",
    "solana", "trc20", "erc20", "xrp", "ltc", "litecoin", "monedero", "cartera", "adresse",
    "portefeuille", "indirizzo", "carteira", "endereco",
)  # fmt: skip


def words_pattern(words, *, boundary: bool = True) -> str:
    """A regex matching any of the literal phrases, built as a trie so a long list costs one
    character test per position, not one per word. Spaces inside a phrase match 1-3 spaces;
    with ``boundary`` the phrase must not sit inside a longer word."""
    trie: dict = {}
    for word in {w.lower().strip() for w in words if w.strip()}:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    body = _trie_regex(trie)
    if not boundary:
        return f"(?:{body})"
    return rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])"


def _trie_regex(node: dict) -> str:
    branches = []
    for char in sorted(k for k in node if k):
        head = r"\s{1,3}" if char == " " else re.escape(char)
        branches.append(head + _trie_regex(node[char]))
    if not branches:
        return ""
    # Longer continuations are tried first; the end of a word last ("une" before "un").
    if "" in node:
        return f"(?:{'|'.join(branches)})?" if len(branches) > 1 else f"(?:{branches[0]})?"
    if len(branches) == 1:
        return branches[0]
    return f"(?:{'|'.join(branches)})"
