"""A deterministic corpus of realistic support mails for the benchmarks.

60% start a thread, 40% reply to an earlier mail (quoted below); mixed charsets, HTML, attachments.
"""

# ruff: noqa: RUF001  (the Russian pools are Cyrillic on purpose)

from __future__ import annotations

import random
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email import encoders, policy
from email.charset import BASE64, QP, Charset
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from html import escape

DESK = "support@example.com"
NEW_SHARE = 0.6  # the rest are replies
REPLY_GAP = 200  # a reply names a mail at least this many places earlier (it arrives later)
CUSTOMERS = 200
_WIRE = policy.compat32.clone(linesep="\r\n")


def _words(text: str) -> list[str]:
    return text.split()


# locale: (first names, last names) as (native, ascii) pairs
_NAMES: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {
    "en": (
        [
            (n, n.lower())
            for n in _words(
                "Alice Bob Carol David Emma Frank Grace Henry Isla Jack Kate "
                "Liam Mia Noah Olivia Peter Quinn Ruby Sam Tara"
            )
        ],
        [
            (n, n.lower())
            for n in _words(
                "Johnson Smith Brown Taylor Wilson Davies Evans Thomas Roberts "
                "Walker Wright Hughes Green Hall Wood Clarke Turner Hill Moore Baker"
            )
        ],
    ),
    "de": (
        [
            ("Jürgen", "juergen"),
            ("Günther", "guenther"),
            ("Käthe", "kaethe"),
            ("Jörg", "joerg"),
            ("Sören", "soeren"),
            ("Anna", "anna"),
            ("Lukas", "lukas"),
            ("Mareike", "mareike"),
            ("Björn", "bjoern"),
            ("Uwe", "uwe"),
            ("Heike", "heike"),
            ("Rüdiger", "ruediger"),
        ],
        [
            ("Müller", "mueller"),
            ("Weiß", "weiss"),
            ("Schäfer", "schaefer"),
            ("Köhler", "koehler"),
            ("Groß", "gross"),
            ("Becker", "becker"),
            ("Hoffmann", "hoffmann"),
            ("Krüger", "krueger"),
            ("Schröder", "schroeder"),
            ("Wagner", "wagner"),
            ("Böhm", "boehm"),
            ("Jäger", "jaeger"),
        ],
    ),
    "fr": (
        [
            ("François", "francois"),
            ("Hélène", "helene"),
            ("Amélie", "amelie"),
            ("Jérôme", "jerome"),
            ("Chloé", "chloe"),
            ("Benoît", "benoit"),
            ("Léa", "lea"),
            ("Noël", "noel"),
            ("Céline", "celine"),
            ("Thierry", "thierry"),
        ],
        [
            ("Lefèvre", "lefevre"),
            ("Dubois", "dubois"),
            ("Gaël", "gael"),
            ("Béranger", "beranger"),
            ("Moreau", "moreau"),
            ("Lémieux", "lemieux"),
            ("Girard", "girard"),
            ("Fabré", "fabre"),
            ("Rousseau", "rousseau"),
            ("Mercier", "mercier"),
        ],
    ),
    "ru": (
        [
            ("Сергей", "sergey"),
            ("Ольга", "olga"),
            ("Дмитрий", "dmitry"),
            ("Наталья", "natalya"),
            ("Алексей", "alexey"),
            ("Ирина", "irina"),
            ("Михаил", "mikhail"),
            ("Елена", "elena"),
            ("Андрей", "andrey"),
            ("Татьяна", "tatyana"),
        ],
        [
            ("Иванов", "ivanov"),
            ("Петров", "petrov"),
            ("Смирнов", "smirnov"),
            ("Кузнецов", "kuznetsov"),
            ("Попов", "popov"),
            ("Соколов", "sokolov"),
            ("Лебедев", "lebedev"),
            ("Козлов", "kozlov"),
            ("Новиков", "novikov"),
            ("Морозов", "morozov"),
        ],
    ),
}
_SHARE = {"en": 0.45, "de": 0.22, "fr": 0.15, "ru": 0.18}
_DOMAINS = {
    "en": "acme-corp.com globex.com initech.com umbrella-inc.com hooli.io vandelay.com "
    "soylent.co wayne-ent.com stark-industries.com cyberdyne.net oceanic-air.com "
    "gringotts.co.uk monarch-sol.com tyrell.com wonka-sweets.com massive-dynamic.com "
    "aperture-science.com dunder-mifflin.com "
    "gmail.com outlook.com yahoo.com",
    "de": "mueller-maschinenbau.de schaefer-logistik.de koehler-it.de brauerei-weiss.de "
    "stadtwerke-nord.de autohaus-krueger.de gmx.de web.de t-online.de",
    "fr": "boulangerie-dubois.fr lefevre-conseil.fr transports-moreau.fr girard-avocats.fr "
    "mercier-immobilier.fr orange.fr free.fr",
    "ru": "romashka.ru vektor-plus.ru stroymontazh.ru tehnoservis.ru sibles.ru yandex.ru mail.ru",
}
_FREE_MAIL = frozenset(
    _words(
        "gmail.com outlook.com yahoo.com gmx.de web.de t-online.de orange.fr free.fr "
        "yandex.ru mail.ru"
    )
)
_ZONES = {"en": [-5, 0, 1], "de": [1], "fr": [1], "ru": [3, 5]}
_CHARSETS = {
    "en": [("utf-8", 1.0)],
    "de": [("iso-8859-1", 0.6), ("utf-8", 0.4)],
    "fr": [("iso-8859-1", 0.6), ("utf-8", 0.4)],
    "ru": [("koi8-r", 0.6), ("utf-8", 0.4)],
}
_MAILERS = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.9.0",
    "Microsoft Outlook 16.0",
    "Apple Mail (2.3774.500.171.1.1)",
    "Roundcube Webmail/1.6.6",
    None,
]
_SUBJECTS = {
    "en": [
        "Invoice {n} is wrong",
        "Cannot log in since this morning",
        "Order {n} not delivered",
        "Question about my subscription",
        "Refund for order {n}",
        "Printer driver crashes",
        "Password reset mail never arrives",
        "Upgrade to the business plan",
        "VPN disconnects every {k} minutes",
        "Export to CSV is empty",
        "Two-factor codes rejected",
        "Wrong VAT on invoice {n}",
    ],
    "de": [
        "Rechnung {n} fehlerhaft",
        "Lieferung {n} unvollständig",
        "Zugang gesperrt",
        "Frage zur Kündigung",
        "Drucker druckt nur leere Seiten",
        "Rückerstattung für {n}",
        "Störung seit {k} Uhr",
        "Änderung der Anschrift",
    ],
    "fr": [
        "Facture {n} erronée",
        "Problème de connexion",
        "Commande {n} non reçue",
        "Résiliation de mon abonnement",
        "Remboursement de la commande {n}",
        "Mise à jour impossible",
        "Accès refusé depuis {k} jours",
    ],
    "ru": [
        "Ошибка в счёте {n}",
        "Не могу войти в личный кабинет",
        "Заказ {n} не доставлен",
        "Вопрос по договору",
        "Возврат средств по заказу {n}",
        "Не работает печать",
        "Смена пароля",
    ],
}
_GREETING = {
    "en": ["Hello,", "Hi support,", "Dear support team,", "Hi there,"],
    "de": ["Hallo,", "Sehr geehrte Damen und Herren,", "Guten Tag,", "Hallo zusammen,"],
    "fr": ["Bonjour,", "Madame, Monsieur,", "Bonjour à toute l'équipe,"],
    "ru": ["Здравствуйте!", "Добрый день!", "Добрый день, коллеги!"],
}
_SENTENCES = {
    "en": [
        "Since yesterday the application shows an error when I open the dashboard.",
        "I have already restarted my computer twice and cleared the browser cache.",
        "The invoice lists three licences, but we only ordered two of them.",
        "Could you please check what is going on with our account?",
        "This is quite urgent because our accounting closes the month on Friday.",
        'The error message says "connection reset by peer" and nothing else.',
        "My colleague has the same problem on a different laptop.",
        "We are using version {k}.{n3} on Windows 11 and on macOS.",
        "I attached a screenshot of what I see after logging in.",
        "Please let me know if you need any further information from our side.",
        "The parcel tracking has not changed for {k} days now.",
        "It worked fine until the update last week.",
        "Is there a way to export all our data before we cancel?",
    ],
    "de": [
        "Seit gestern erscheint beim Öffnen der Übersicht eine Fehlermeldung.",
        "Ich habe den Rechner bereits zweimal neu gestartet, leider ohne Erfolg.",
        "Auf der Rechnung stehen drei Lizenzen, bestellt haben wir aber nur zwei.",
        "Könnten Sie bitte prüfen, was mit unserem Konto los ist?",
        "Die Sache ist dringend, weil unsere Buchhaltung am Freitag schließt.",
        "Die Lieferung kam unvollständig an, es fehlen {k} Artikel.",
        "Mein Kollege hat dasselbe Problem an einem anderen Gerät.",
        "Über eine schnelle Rückmeldung würde ich mich sehr freuen.",
        "Bis zum Update letzte Woche hat alles einwandfrei funktioniert.",
    ],
    "fr": [
        "Depuis hier, l'application affiche une erreur à l'ouverture.",
        "J'ai déjà redémarré mon ordinateur deux fois, sans succès.",
        "La facture mentionne trois licences alors que nous n'en avons commandé que deux.",
        "Pourriez-vous vérifier ce qui se passe avec notre compte ?",
        "C'est assez urgent car notre comptabilité clôture le mois vendredi.",
        "Le colis n'a pas bougé depuis {k} jours d'après le suivi.",
        "Mon collègue rencontre le même problème sur un autre poste.",
        "Je reste à votre disposition pour tout complément d'information.",
    ],
    "ru": [
        "Со вчерашнего дня при входе в систему появляется ошибка.",
        "Я уже дважды перезагрузил компьютер, но это не помогло.",
        "В счёте указаны три лицензии, а мы заказывали только две.",
        "Проверьте, пожалуйста, что происходит с нашей учётной записью.",
        "Вопрос срочный: бухгалтерия закрывает месяц в пятницу.",
        "Посылка не двигается уже {k} дней.",
        "У моего коллеги та же проблема на другом компьютере.",
        "Буду благодарен за быстрый ответ.",
    ],
}
_FOLLOW_UP = {
    "en": [
        "Any news on this?",
        "Thanks, that helped, but now I get a different error.",
        "I tried your suggestion and it still does not work.",
        "Just a quick reminder, we are still waiting for an answer.",
        "Here is the additional information you asked for: order {n}.",
    ],
    "de": [
        "Gibt es hierzu schon etwas Neues?",
        "Danke, das hat geholfen, aber jetzt kommt eine andere Meldung.",
        "Ich habe Ihren Vorschlag ausprobiert, leider ohne Erfolg.",
        "Kurze Erinnerung: wir warten noch auf eine Antwort.",
    ],
    "fr": [
        "Avez-vous du nouveau à ce sujet ?",
        "Merci, cela a aidé, mais une autre erreur apparaît maintenant.",
        "J'ai essayé votre solution, sans succès.",
        "Petit rappel : nous attendons toujours une réponse.",
    ],
    "ru": [
        "Есть ли новости по этому вопросу?",
        "Спасибо, помогло, но теперь другая ошибка.",
        "Попробовал ваш вариант, но это не помогло.",
        "Напоминаю, мы всё ещё ждём ответа.",
    ],
}
_CLOSING = {
    "en": ["Best regards,", "Thanks,", "Kind regards,", "Cheers,"],
    "de": ["Mit freundlichen Grüßen", "Viele Grüße", "Beste Grüße"],
    "fr": ["Cordialement,", "Bien à vous,", "Merci d'avance,"],
    "ru": ["С уважением,", "Спасибо,", "Всего доброго,"],
}
_REPLY_PREFIX = {"en": "Re: ", "de": "AW: ", "fr": "RE: ", "ru": "Re: "}
_MONTHS_DE = "Januar Februar März April Mai Juni Juli August September Oktober November Dezember"
_MONTHS_FR = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
_MONTHS_RU = "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"
_ATTACHMENTS = [
    ("application", "pdf", "invoice-{n}.pdf"),
    ("image", "png", "screenshot-{n}.png"),
    ("image", "jpeg", "IMG_{n}.jpg"),
    ("text", "csv", "export-{n}.csv"),
]


@dataclass(frozen=True)
class Customer:
    name: str
    email: str
    locale: str
    tz: timezone
    company: str


@dataclass(frozen=True)
class _Sent:
    """What a later reply needs to know about a generated mail."""

    message_id: str
    references: tuple[str, ...]
    subject: str
    text: str
    customer: Customer
    date: datetime


def customers(rng: random.Random, count: int = CUSTOMERS) -> list[Customer]:
    """A pool of customers over ~50 domains; colleagues share company domains."""
    found: dict[str, Customer] = {}
    for locale, share in _SHARE.items():
        firsts, lasts = _NAMES[locale]
        domains = _DOMAINS[locale].split()
        wanted = round(count * share)
        while wanted:
            (first, first_a), (last, last_a) = rng.choice(firsts), rng.choice(lasts)
            domain = rng.choice(domains)
            address = f"{first_a}.{last_a}@{domain}"
            if address in found:
                continue
            company = domain.split(".")[0].replace("-", " ").title()
            offset = timedelta(hours=rng.choice(_ZONES[locale]))
            found[address] = Customer(f"{first} {last}", address, locale, timezone(offset), company)
            wanted -= 1
    return list(found.values())


def _charset(rng: random.Random, locale: str) -> Charset:
    name = rng.choices(*zip(*_CHARSETS[locale], strict=True))[0]
    charset = Charset(name)
    if name == "utf-8":  # mail clients pick 8bit, quoted-printable or base64 for UTF-8
        charset.body_encoding = rng.choice([None, QP, BASE64])  # type: ignore[assignment]
    return charset


def _fill(rng: random.Random, template: str) -> str:
    return template.format(n=rng.randint(10000, 99999), k=rng.randint(2, 14), n3=rng.randint(0, 9))


def _attribution(parent: _Sent) -> str:
    who, at = f"{parent.customer.name} <{parent.customer.email}>", parent.date
    hhmm = at.strftime("%H:%M")
    month = at.month - 1
    match parent.customer.locale:
        case "de":
            months = _MONTHS_DE.split()
            return f"Am {at.day}. {months[month]} {at.year} um {hhmm} schrieb {who}:"
        case "fr":
            months = _MONTHS_FR.split()
            return f"Le {at.day} {months[month]} {at.year} à {hhmm}, {who} a écrit :"
        case "ru":
            months = _MONTHS_RU.split()
            return f"{at.day} {months[month]} {at.year} г., в {hhmm}, {who} написал:"
    return f"On {at.strftime('%a, %d %b %Y')} at {hhmm}, {who} wrote:"


def _quote(text: str, max_lines: int = 60) -> str:
    lines = text.split("\n")[:max_lines]
    return "\n".join(">" + line if line.startswith(">") else "> " + line for line in lines)


def _body(rng: random.Random, customer: Customer, parent: _Sent | None) -> tuple[str, str]:
    """(new text with signature, quoted part or "")."""
    loc = customer.locale
    if parent is None:
        sentences = rng.sample(_SENTENCES[loc], k=rng.randint(2, min(6, len(_SENTENCES[loc]))))
        paragraphs = [rng.choice(_GREETING[loc])]
        while sentences:
            size = rng.randint(1, 3)
            take, sentences = sentences[:size], sentences[size:]
            paragraphs.append(" ".join(_fill(rng, s) for s in take))
    else:
        paragraphs = [rng.choice(_GREETING[loc]), _fill(rng, rng.choice(_FOLLOW_UP[loc]))]
    paragraphs.append(f"{rng.choice(_CLOSING[loc])}\n{customer.name.split()[0]}")
    if rng.random() < 0.6:
        phone = f"+{rng.randint(1, 49)} {rng.randint(100, 999)} {rng.randint(100000, 9999999)}"
        paragraphs.append(f"-- \n{customer.name}\n{customer.company}\nTel. {phone}")
    elif loc == "en" and rng.random() < 0.3:
        paragraphs.append("Sent from my iPhone")
    new = "\n\n".join(_wrap(p) for p in paragraphs)
    if parent is None:
        return new, ""
    return new, f"{_attribution(parent)}\n{_quote(parent.text)}"


def _wrap(paragraph: str) -> str:
    """Wrap at 72 columns like a mail client does; short lines (signature) stay as they are."""
    return "\n".join(textwrap.fill(line, 72) for line in paragraph.split("\n"))


def _html(new: str, quoted: str) -> str:
    paragraphs = "".join(
        f"<p>{escape(p).replace(chr(10), '<br>')}</p>\n" for p in new.split("\n\n")
    )
    if quoted:
        head, _, rest = quoted.partition("\n")
        inner = "<br>\n".join(escape(line.removeprefix("> ")) for line in rest.split("\n"))
        paragraphs += f'<div>{escape(head)}</div>\n<blockquote type="cite">{inner}</blockquote>\n'
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html">'
        "<style>p { margin: 0 0 1em 0 }</style></head>\n"
        f'<body style="font-family: Calibri, sans-serif">\n{paragraphs}</body></html>\n'
    )


def _attachment(rng: random.Random) -> MIMEBase:
    maintype, subtype, name = rng.choice(_ATTACHMENTS)
    size = rng.randint(1500, 6000)
    if maintype == "text":
        rows = [f"{rng.randint(1, 999)};{rng.randint(1000, 9999)};{rng.random():.4f}"]
        data = ("id;sku;amount\n" + "\n".join(rows * (size // 20))).encode()
    else:
        data = rng.randbytes(size)
    part = MIMEBase(maintype, subtype, name=_fill(rng, name))
    part.set_payload(data)
    encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=_fill(rng, name))
    return part


def _boundary(rng: random.Random) -> str:
    """Seeded, unlike the email package's own boundaries, so the corpus is reproducible."""
    return f"----=_Part_{rng.getrandbits(48):012x}"


def _header(value: str, charset: Charset) -> str | Header:
    """ASCII stays as written; anything else becomes RFC 2047 encoded words in `charset`."""
    return value if value.isascii() else Header(value, charset, header_name="Subject")


def _address(customer: Customer, charset: Charset) -> str:
    if customer.name.isascii():
        return formataddr((customer.name, customer.email))
    return formataddr((customer.name, customer.email), charset=str(charset))


def _received(rng: random.Random, customer: Customer, at: datetime) -> list[str]:
    host = "mail." + customer.email.rpartition("@")[2]
    ip = ".".join(str(rng.randint(1, 254)) for _ in range(3))
    ip = f"{rng.choice([198, 203, 192])}.{ip}"
    queue_id = f"{rng.getrandbits(40):010X}"
    stamp = format_datetime(at.astimezone(UTC))
    return [
        f"from mx.example.com (localhost [127.0.0.1]) by mail.example.com (Postfix) "
        f"with ESMTP id {rng.getrandbits(40):010X} for <{DESK}>; {stamp}",
        f"from {host} ({host} [{ip}]) by mx.example.com (Postfix) with ESMTPS id "
        f"{queue_id} for <{DESK}>; {stamp}",
    ]


def _mail(
    rng: random.Random,
    index: int,
    customer: Customer,
    pool: list[Customer],
    parent: _Sent | None,
    at: datetime,
) -> tuple[bytes, _Sent]:
    charset = _charset(rng, customer.locale)
    new, quoted = _body(rng, customer, parent)
    text = f"{new}\n\n{quoted}\n" if quoted else f"{new}\n"
    # MIMEText takes a Charset (its body encoding wins) though the stubs say str
    body: Message = MIMEText(text, "plain", charset)  # type: ignore[arg-type]
    if rng.random() < 0.5:
        html = MIMEText(_html(new, quoted), "html", charset)  # type: ignore[arg-type]
        body = MIMEMultipart("alternative", _boundary(rng), [body, html])
    if rng.random() < 0.1:
        body = MIMEMultipart("mixed", _boundary(rng), [body, _attachment(rng)])
    if parent is None:
        subject = _fill(rng, rng.choice(_SUBJECTS[customer.locale]))
        references: tuple[str, ...] = ()
    else:
        subject = parent.subject
        prefix = _REPLY_PREFIX[customer.locale]
        subject = subject if subject.startswith(prefix) else prefix + subject
        references = (*parent.references, parent.message_id)[-10:]
    domain = customer.email.rpartition("@")[2]
    message_id = f"{rng.getrandbits(64):016x}.{index}@mail.{domain}"
    mime = [
        (name, body[name])
        for name in ("MIME-Version", "Content-Type", "Content-Transfer-Encoding")
        if name in body
    ]
    for name, _ in mime:
        del body[name]
    local = at.astimezone(customer.tz)
    for value in _received(rng, customer, local):
        body["Received"] = value
    body["Date"] = format_datetime(local)
    body["From"] = _address(customer, charset)
    body["To"] = f"Support <{DESK}>" if rng.random() < 0.5 else DESK
    colleagues = [c for c in pool if c.company == customer.company and c is not customer]
    if colleagues and domain not in _FREE_MAIL and rng.random() < 0.15:
        body["Cc"] = _address(rng.choice(colleagues), charset)
    body["Subject"] = _header(subject, charset)  # type: ignore[assignment]  # compat32 takes a Header
    body["Message-ID"] = f"<{message_id}>"
    if parent is not None:
        body["In-Reply-To"] = f"<{parent.message_id}>"
        body["References"] = " ".join(f"<{r}>" for r in references)
    mailer = rng.choice(_MAILERS)
    if mailer:
        body["User-Agent" if "Thunderbird" in mailer else "X-Mailer"] = mailer
    for name, value in mime:
        body[name] = value
    raw = body.as_bytes(policy=_WIRE)
    return raw, _Sent(message_id, references, subject, text, customer, local)


def generate(n: int, seed: int = 1) -> list[bytes]:
    """`n` raw mails (CRLF, as on the wire), the same for the same `n` and `seed`.

    Exactly round(0.6 n) start a thread; every other mail replies to a mail at least
    min(REPLY_GAP, n / 10) places earlier (so parallel senders still deliver the parent
    first), from the same customer or sometimes a colleague at the same company, quoting it
    below an "On … wrote:" attribution.
    """
    rng = random.Random(seed)
    pool = customers(rng)
    gap = max(1, min(REPLY_GAP, n // 10))
    new_count = round(n * NEW_SHARE)
    starts = [True] * new_count + [False] * (n - new_count)
    rng.shuffle(starts)
    # a reply needs an earlier mail far enough back: the first gap + 1 mails start threads
    later = (k for k in range(gap + 1, n) if starts[k])
    for i in range(min(n, gap + 1)):
        if not starts[i]:
            j = next(later, None)
            starts[i] = True
            if j is not None:  # else n is tiny and gets more new threads than 60%
                starts[j] = False
    sent: list[_Sent] = []
    mails: list[bytes] = []
    at = datetime(2024, 3, 4, 7, 30, tzinfo=UTC)
    for index, is_new in enumerate(starts):
        at += timedelta(seconds=rng.randint(20, 400))
        parent = None if is_new else sent[rng.randrange(0, index - gap)]
        if parent is None:
            customer = rng.choice(pool)
        else:
            same_company = [
                c for c in pool if c.company == parent.customer.company and c is not parent.customer
            ]
            free = parent.customer.email.rpartition("@")[2] in _FREE_MAIL
            use_colleague = same_company and not free and rng.random() < 0.1
            customer = rng.choice(same_company) if use_colleague else parent.customer
        raw, record = _mail(rng, index, customer, pool, parent, at)
        mails.append(raw)
        sent.append(record)
    return mails


if __name__ == "__main__":
    import sys

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for raw in generate(count):
        sys.stdout.buffer.write(raw + b"\r\n" + b"=" * 72 + b"\r\n")
