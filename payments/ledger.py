"""The double-entry ledger's core: named accounts, balanced journal transactions, balances.

Every money movement is one `LedgerEntry` (a journal transaction of one kind) whose
`LedgerLeg`s move signed amounts between `LedgerAccount`s (debit > 0, credit < 0) and sum to
zero. PostgreSQL enforces that at commit (a deferred constraint trigger, as django-hordak does,
migration 0004) and refuses every UPDATE and DELETE; this module only ever inserts.

The accounts (per currency; see `LedgerAccount.Type`):

    stripe_clearing            Σ money received through Stripe            (debit-normal)
    organizer_refunds          Σ money refunded to organizers             (contra: credit)
    vendor_payouts             Σ money paid out to vendors                (contra: credit)
    booking_escrow:<booking>   money of a booking owed to nobody yet      (liability)
    vendor_payable:<vendor>    unpaid, unreversed payouts of a vendor     (liability)
    platform_revenue           commission earned less commission returned (income)

The movements (the contract's entry types, plus `payout_reversal`):

    held_funds       Dr stripe_clearing P          Cr booking_escrow P
    platform_fee     Dr booking_escrow share_i     Cr platform_revenue fee_i,
                                                   Cr vendor_payable net_i
    payout           Dr vendor_payable amount      Cr vendor_payouts amount
    payout_reversal  Dr vendor_payable amount      Cr booking_escrow amount
    fee_refund       Dr platform_revenue fee       Cr booking_escrow fee
    refund           Dr vendor_payable drawn_j …   Cr booking_escrow Σ drawn_j
                     Dr booking_escrow R           Cr organizer_refunds R

So at any moment: what the platform holds = stripe_clearing − organizer_refunds −
vendor_payouts = Σ escrow + Σ vendor payable + platform revenue, and no escrow is negative
(a refund only takes what reversals and returned fees released). Balances are read "normal
side positive": `LedgerAccount.sign` × Σ legs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

# `payments.models` imports this module (payout transitions post through it); the module
# object is bound here and its classes are read only when something is posted or read.
from payments import models

# --- accounts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountKey:
    """Names one account: its type, currency and (for escrow / payable) its owner."""

    type: str
    currency: str
    booking_id: object = None
    vendor_id: object = None

    @property
    def code(self) -> str:
        parts = [str(self.type), self.currency.lower()]
        if self.booking_id is not None:
            parts.append(f"booking:{self.booking_id}")
        if self.vendor_id is not None:
            parts.append(f"vendor:{self.vendor_id}")
        return ":".join(parts)


def _type():
    return models.LedgerAccount.Type


def stripe_clearing(currency: str) -> AccountKey:
    return AccountKey(_type().STRIPE_CLEARING, currency)


def organizer_refunds(currency: str) -> AccountKey:
    return AccountKey(_type().ORGANIZER_REFUNDS, currency)


def vendor_payouts(currency: str) -> AccountKey:
    return AccountKey(_type().VENDOR_PAYOUTS, currency)


def platform_revenue(currency: str) -> AccountKey:
    return AccountKey(_type().PLATFORM_REVENUE, currency)


def escrow(booking_id, currency: str) -> AccountKey:
    return AccountKey(_type().BOOKING_ESCROW, currency, booking_id=booking_id)


def payable(vendor_id, currency: str) -> AccountKey:
    return AccountKey(_type().VENDOR_PAYABLE, currency, vendor_id=vendor_id)


def ensure_accounts(keys: Iterable[AccountKey]) -> dict[str, models.LedgerAccount]:
    """The accounts of these keys by code, created on first use (one query on PostgreSQL,
    new or not; racing creators are settled by the unique code)."""
    wanted = {key.code: key for key in keys}
    if not wanted:
        return {}
    if connection.vendor == "postgresql":
        # ONE statement whether or not some are new: the insert of every key (existing ones
        # skipped) and the read of those that existed.
        found = {a.code: a for a in _create_accounts(list(wanted.values()), read_existing=True)}
    else:
        found = {a.code: a for a in models.LedgerAccount.objects.filter(code__in=list(wanted))}
    missing = [key for code, key in wanted.items() if code not in found]
    if missing and connection.vendor != "postgresql":
        found.update((a.code, a) for a in _create_accounts(missing))
    still = [key for key in missing if key.code not in found]
    if still:  # created by a concurrent transaction after our statement's snapshot
        found.update(
            (a.code, a)
            for a in models.LedgerAccount.objects.filter(code__in=[k.code for k in still])
        )
    return found


def _create_accounts(keys: list[AccountKey], *, read_existing: bool = False) -> list:
    """Insert the accounts that do not exist yet and return them, in ONE statement
    (`INSERT … ON CONFLICT DO NOTHING RETURNING`): a first payment's new escrow account costs
    one query, not three."""
    Account = models.LedgerAccount
    table = Account._meta.db_table
    now = timezone.now()
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(keys))
    prep = {name: Account._meta.get_field(name) for name in ("booking", "vendor", "created_at")}
    params = []
    for key in keys:
        params += [
            key.code,
            str(key.type),
            key.currency.lower(),
            prep["booking"].get_db_prep_value(key.booking_id, connection),
            prep["vendor"].get_db_prep_value(key.vendor_id, connection),
            prep["created_at"].get_db_prep_value(now, connection),
        ]
    cols = "id, code, type, currency, booking_id, vendor_id, created_at"
    sql = (
        f"INSERT INTO {table} (code, type, currency, booking_id, vendor_id, created_at) "
        f"VALUES {rows} ON CONFLICT (code) DO NOTHING RETURNING {cols}"
    )
    if read_existing:
        # PostgreSQL: the SELECT sees the snapshot before the insert, so each account comes
        # back once, from the insert or from the table.
        codes = ", ".join(["%s"] * len(keys))
        sql = (
            f"WITH inserted AS ({sql}) SELECT {cols} FROM inserted "
            f"UNION ALL SELECT {cols} FROM {table} WHERE code IN ({codes})"
        )
        params += [key.code for key in keys]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            Account(
                id=row[0],
                code=row[1],
                type=row[2],
                currency=row[3],
                booking_id=row[4],
                vendor_id=row[5],
                created_at=row[6],
            )
            for row in cursor.fetchall()
        ]


# --- transactions ------------------------------------------------------------------------------


@dataclass
class Posting:
    """One journal transaction to write: its kind, what it is about, and its legs."""

    entry_type: str
    payment_id: object
    booking_id: object
    currency: str
    amount_cents: int
    legs: list[tuple[AccountKey, int]] = field(default_factory=list)
    booking_vendor_id: object = None
    payout_id: object = None
    refund_id: object = None
    memo: str = ""

    def nonzero_legs(self) -> list[tuple[AccountKey, int]]:
        """The legs, with the legs of one account merged and zero legs dropped."""
        merged: dict[AccountKey, int] = defaultdict(int)
        for key, amount in self.legs:
            merged[key] += int(amount)
        return [(key, amount) for key, amount in merged.items() if amount != 0]


class UnbalancedPosting(ValueError):
    pass


def post(postings: list[Posting]) -> list[models.LedgerEntry]:
    """Write journal transactions and their legs: a fixed number of queries for any number of
    postings (accounts, transactions, legs). Raises UnbalancedPosting before writing anything
    if a posting's legs do not sum to zero (the database would refuse it at commit anyway)."""
    postings = list(postings)
    if not postings:
        return []
    for posting in postings:
        total = sum(amount for _key, amount in posting.legs)
        if total != 0:
            raise UnbalancedPosting(
                f"{posting.entry_type} legs sum to {total}, not 0: {posting.legs!r}"
            )
    accounts = ensure_accounts(key for p in postings for key, _ in p.nonzero_legs())
    entries = models.LedgerEntry.objects.bulk_create(
        [
            models.LedgerEntry(
                entry_type=p.entry_type,
                payment_id=p.payment_id,
                booking_id=p.booking_id,
                booking_vendor_id=p.booking_vendor_id,
                payout_id=p.payout_id,
                refund_id=p.refund_id,
                amount_cents=p.amount_cents,
                currency=p.currency.lower(),
                memo=p.memo[:300],
            )
            for p in postings
        ]
    )
    # All legs in ONE statement: the balance trigger (deferred to commit, or immediate in the
    # tests) sees each transaction whole.
    models.LedgerLeg.objects.bulk_create(
        [
            models.LedgerLeg(entry=entry, account=accounts[key.code], amount_cents=amount)
            for entry, posting in zip(entries, postings, strict=True)
            for key, amount in posting.nonzero_legs()
        ]
    )
    return entries


# --- the movements ------------------------------------------------------------------------------


def _kinds():
    return models.LedgerEntry.EntryType


def held_funds(payment) -> Posting:
    """Payment received: Dr stripe clearing, Cr the booking's escrow."""
    c = payment.currency
    return Posting(
        entry_type=_kinds().HELD_FUNDS,
        payment_id=payment.pk,
        booking_id=payment.booking_id,
        currency=c,
        amount_cents=payment.amount_cents,
        legs=[
            (stripe_clearing(c), payment.amount_cents),
            (escrow(payment.booking_id, c), -payment.amount_cents),
        ],
        memo=f"{payment.kind} received for booking {payment.booking_id}",
    )


def platform_fee(payment, *, line, share_cents: int, fee_cents: int, memo: str = "") -> Posting:
    """One vendor's share of a payment leaves escrow: the fee is earned, the net is owed."""
    c = payment.currency
    return Posting(
        entry_type=_kinds().PLATFORM_FEE,
        payment_id=payment.pk,
        booking_id=payment.booking_id,
        booking_vendor_id=line.pk,
        currency=c,
        amount_cents=fee_cents,
        legs=[
            (escrow(payment.booking_id, c), share_cents),
            (platform_revenue(c), -fee_cents),
            (payable(line.vendor_id, c), -(share_cents - fee_cents)),
        ],
        memo=memo,
    )


def _payout_posting(payout, *, entry_type, counter_account, memo: str) -> Posting:
    """A payout leaves the vendor's payable for `counter_account`, for its whole amount."""
    return Posting(
        entry_type=entry_type,
        payment_id=payout.payment_id,
        booking_id=payout.booking_id,
        booking_vendor_id=payout.booking_vendor_id,
        payout_id=payout.pk,
        currency=payout.currency,
        amount_cents=payout.amount_cents,
        legs=[
            (payable(payout.vendor_id, payout.currency), payout.amount_cents),
            (counter_account, -payout.amount_cents),
        ],
        memo=memo,
    )


def payout_paid(payout) -> Posting:
    """Staff paid a payout: what the vendor is owed goes down, paid out goes up."""
    return _payout_posting(
        payout,
        entry_type=_kinds().PAYOUT,
        counter_account=vendor_payouts(payout.currency),
        memo=f"{payout.kind} payout to vendor {payout.vendor_id}",
    )


def payout_reversed(payout) -> Posting:
    """Staff reversed a payout: the vendor is no longer owed it; the money waits in the
    booking's escrow (for a refund)."""
    return _payout_posting(
        payout,
        entry_type=_kinds().PAYOUT_REVERSAL,
        counter_account=escrow(payout.booking_id, payout.currency),
        memo=f"{payout.kind} payout of vendor {payout.vendor_id} reversed",
    )


def refund_postings(refund, *, drawn: list[tuple[object, int]]) -> list[Posting]:
    """A refund that succeeded: the fee on the refunded part comes back from revenue
    (`fee_refund`), the drawn payouts' money leaves the vendors' payables, and the whole
    amount leaves escrow to the organizer (`refund`). `drawn`: [(vendor_id, cents)]."""
    c, booking_id = refund.currency, refund.booking_id
    postings = []
    if refund.fee_cents:
        postings.append(
            Posting(
                entry_type=_kinds().FEE_REFUND,
                payment_id=refund.payment_id,
                booking_id=booking_id,
                refund_id=refund.pk,
                currency=c,
                amount_cents=refund.fee_cents,
                legs=[
                    (platform_revenue(c), refund.fee_cents),
                    (escrow(booking_id, c), -refund.fee_cents),
                ],
                memo=f"commission returned with refund {refund.pk}",
            )
        )
    legs = [(payable(vendor_id, c), cents) for vendor_id, cents in drawn]
    legs.append((escrow(booking_id, c), -sum(cents for _v, cents in drawn)))
    legs += [
        (escrow(booking_id, c), refund.amount_cents),
        (organizer_refunds(c), -refund.amount_cents),
    ]
    postings.append(
        Posting(
            entry_type=_kinds().REFUND,
            payment_id=refund.payment_id,
            booking_id=booking_id,
            refund_id=refund.pk,
            currency=c,
            amount_cents=refund.amount_cents,
            legs=legs,
            memo=f"refund {refund.pk} to the organizer: {refund.reason}",
        )
    )
    return postings


# --- balances ---------------------------------------------------------------------------------


def account_balances(**filters) -> list[dict]:
    """Every account (filtered on LedgerAccount fields) with its balance, normal side
    positive: [{code, type, currency, booking_id, vendor_id, balance_cents}]. One query."""
    rows = (
        models.LedgerAccount.objects.filter(**filters)
        .annotate(total=Sum("legs__amount_cents", default=0))
        .values("code", "type", "currency", "booking_id", "vendor_id", "total")
        .order_by("type", "currency", "code")
    )
    result = []
    for row in rows:
        sign = 1 if row["type"] in models.LedgerAccount.DEBIT_NORMAL else -1
        result.append(
            {**{k: row[k] for k in row if k != "total"}, "balance_cents": sign * int(row["total"])}
        )
    return result


def totals_by_type(currency: str | None = None) -> dict[tuple[str, str], int]:
    """{(type, currency): Σ balances of that type}, normal side positive. One query."""
    legs = models.LedgerLeg.objects.all()
    if currency:
        legs = legs.filter(account__currency=currency)
    rows = (
        legs.values("account__type", "account__currency")
        .annotate(total=Sum("amount_cents"))
        .order_by()
    )
    result = {}
    for row in rows:
        sign = 1 if row["account__type"] in models.LedgerAccount.DEBIT_NORMAL else -1
        result[(row["account__type"], row["account__currency"])] = sign * int(row["total"] or 0)
    return result


def vendor_balances(vendor_ids) -> dict:
    """{vendor_id: {"owed_cents", "paid_cents"}}: the vendor's payable balance, and what was
    paid out to it (the debits of its payable by `payout` transactions). Two queries."""
    vendor_ids = list(vendor_ids)
    result = {vid: {"owed_cents": 0, "paid_cents": 0} for vid in vendor_ids}
    owed = (
        models.LedgerLeg.objects.filter(
            account__type=_type().VENDOR_PAYABLE, account__vendor_id__in=vendor_ids
        )
        .values("account__vendor_id")
        .annotate(total=Sum("amount_cents"))
        .order_by()
    )
    for row in owed:
        result[row["account__vendor_id"]]["owed_cents"] = -int(row["total"] or 0)
    paid = (
        models.LedgerLeg.objects.filter(
            account__type=_type().VENDOR_PAYABLE,
            account__vendor_id__in=vendor_ids,
            entry__entry_type=_kinds().PAYOUT,
        )
        .values("account__vendor_id")
        .annotate(total=Sum("amount_cents"))
        .order_by()
    )
    for row in paid:
        result[row["account__vendor_id"]]["paid_cents"] = int(row["total"] or 0)
    return result


def payment_escrow_cents(payment_id) -> int:
    """The part of its booking's escrow that a payment's transactions put there and that is
    still there (money of reversed payouts, and returned fees, not yet refunded). One query."""
    total = models.LedgerLeg.objects.filter(
        entry__payment_id=payment_id, account__type=_type().BOOKING_ESCROW
    ).aggregate(total=Sum("amount_cents", default=0))["total"]
    return -int(total)
