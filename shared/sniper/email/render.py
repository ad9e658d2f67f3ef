"""The notification emails, as HTML and plain text.

Item titles, URLs and reasons come from eBay (or from sellers, through eBay): every
one of them is untrusted. So:
- each is cleaned of control and invisible characters (a bidi override can make a
  title read differently than it is) and cut to a sane length;
- in HTML each is escaped with `html.escape(..., quote=True)`, in text and in
  attributes alike; nothing eBay sent is ever inserted unescaped;
- the item link appears only when it is an https URL on one of eBay's own sites,
  with no user name, no foreign port and no characters a browser would reinterpret;
  any other link is dropped and the item is named by its id instead;
- no remote images: an image URL could be a tracking pixel.
Amounts are integer cents with the bid's currency; times are shown in the user's
time zone.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sniper.models.statuses import BidStatus
from sniper.money import format_cents

TITLE_LIMIT = 120
REASON_LIMIT = 300
SUBJECT_LIMIT = 150
URL_LIMIT = 2048
# eBay's sites of the marketplaces the sniper bids on; subdomains (www., sandbox.)
# are eBay's too.
EBAY_DOMAINS = (
    "ebay.com",
    "ebay.ca",
    "ebay.co.uk",
    "ebay.com.au",
    "ebay.de",
    "ebay.fr",
    "ebay.it",
    "ebay.es",
)
# What a URL may contain: RFC 3986's characters, percent escapes included; no
# spaces, quotes, angle brackets or backslashes (which browsers read as "/").
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_SPACES = re.compile(r"\s+")

_STYLE = (
    "font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; "
    "color: #1f2328; line-height: 1.5; max-width: 560px; margin: 0 auto; "
    "padding: 24px;"
)


@dataclass(frozen=True)
class BidOutcomeView:
    """What a bid's email shows; eBay's strings exactly as stored (untrusted)."""

    status: BidStatus
    ebay_item_id: str
    currency: str
    max_bid_cents: int
    item_title: str | None = None
    item_url: str | None = None
    final_price_cents: int | None = None
    reason: str | None = None
    lateness_ms: int | None = None
    lead_seconds: int | None = None
    auction_end_time: int | None = None


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str
    tag: str


# ---------------------------------------------------------------- pieces
def clean(value: str | None, limit: int) -> str:
    """`value` without control or invisible characters, blanks collapsed, at most
    `limit` characters (cut with an ellipsis)."""
    if not value:
        return ""
    visible = "".join(
        " " if char.isspace() else char
        for char in value
        if char.isspace() or unicodedata.category(char) not in _HIDDEN
    )
    text = _SPACES.sub(" ", visible).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def ebay_link(url: str | None) -> str | None:
    """`url` if it is an https link to one of eBay's sites, else None."""
    if not url or len(url) > URL_LIMIT or not _URL_CHARACTERS.fullmatch(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if (
        parts.scheme.lower() != "https"
        or parts.username is not None
        or parts.password is not None
        or port not in (None, 443)
        or not host
    ):
        return None
    if not any(
        host == domain or host.endswith("." + domain) for domain in EBAY_DOMAINS
    ):
        return None
    return url


def money(cents: int, currency: str) -> str:
    """1250, "USD" -> "12.50 USD"."""
    return f"{format_cents(cents)} {clean(currency, 3)}".strip()


def _tenths(milliseconds: int) -> str:
    tenths = (milliseconds + 50) // 100
    return f"{tenths // 10}.{tenths % 10}"


def lateness_text(lateness_ms: int, lead_seconds: int) -> str:
    """How the bid's timing went: "Your bid reached eBay 5.2 s before the end, 84 ms
    after its target." (the target is the lead before the end)."""
    before_end = lead_seconds * 1000 - lateness_ms
    if before_end > 0:
        when = f"{_tenths(before_end)} s before the end"
    else:
        when = f"{_tenths(-before_end)} s after the end"
    if lateness_ms > 0:
        offset = f"{lateness_ms:,} ms after its target"
    elif lateness_ms < 0:
        offset = f"{-lateness_ms:,} ms before its target"
    else:
        offset = "exactly on its target"
    return f"Your bid reached eBay {when}, {offset}."


def local_time(timestamp: int, timezone: str) -> str:
    """Unix seconds in the user's zone: "Tue 25 Nov 2025, 18:30 CET"."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.fromtimestamp(timestamp, zone).strftime("%a %d %b %Y, %H:%M %Z")


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _page(subject: str, heading: str, paragraphs: list[str], rows: str) -> str:
    """The HTML document; every argument is already escaped HTML."""
    body = "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    table = (
        '<table role="presentation" cellpadding="6" cellspacing="0" '
        'style="border-collapse: collapse; width: 100%;">'
        f"{rows}</table>"
        if rows
        else ""
    )
    return (
        "<!DOCTYPE html>"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{subject}</title></head>"
        f'<body style="{_STYLE}">'
        f'<h1 style="font-size: 20px;">{heading}</h1>'
        f"{body}{table}"
        '<p style="color: #59636e; font-size: 12px; margin-top: 24px;">'
        "You receive this email because notifications are on in your eBay Sniper "
        "preferences.</p>"
        "</body></html>"
    )


def _row(label: str, value_html: str) -> str:
    return (
        '<tr><th align="left" style="border-bottom: 1px solid #d1d9e0; '
        f'font-weight: 600;">{_e(label)}</th>'
        f'<td style="border-bottom: 1px solid #d1d9e0;">{value_html}</td></tr>'
    )


# ---------------------------------------------------------------- bid outcomes
_OUTCOMES = {
    BidStatus.WON: ("You won", "Won"),
    BidStatus.LOST: ("You did not win", "Lost"),
    BidStatus.FAILED: ("Your bid could not be placed", "Not placed"),
    BidStatus.CANCELLED: ("Your bid was cancelled", "Cancelled"),
}


def _summary(view: BidOutcomeView, title: str) -> str:
    """The sentence saying what happened, in plain text."""
    top = money(view.max_bid_cents, view.currency)
    final = (
        money(view.final_price_cents, view.currency)
        if view.final_price_cents is not None
        else None
    )
    if view.status is BidStatus.WON:
        price = f" for {final}" if final else ""
        return f"You won {title}{price}. Your maximum was {top}."
    if view.status is BidStatus.LOST:
        if final:
            return f"{title} sold for {final}, above your maximum of {top}."
        return f"Someone outbid your maximum of {top} on {title}."
    if view.status is BidStatus.FAILED:
        return f"Your bid of up to {top} on {title} did not reach eBay in time."
    return f"Your bid of up to {top} on {title} was cancelled before it was placed."


def render_bid_outcome(view: BidOutcomeView, timezone: str = "UTC") -> RenderedEmail:
    """The email telling a user how their snipe ended."""
    headline, outcome = _OUTCOMES[view.status]
    title = clean(view.item_title, TITLE_LIMIT) or f"eBay item {view.ebay_item_id}"
    item_id = clean(view.ebay_item_id, 32)
    link = ebay_link(view.item_url)
    reason = clean(view.reason, REASON_LIMIT)
    subject = clean(f"{headline}: {title}", SUBJECT_LIMIT)
    summary = _summary(view, title)

    facts: list[tuple[str, str]] = [
        ("Item", title),
        ("eBay item number", item_id),
        ("Your maximum", money(view.max_bid_cents, view.currency)),
    ]
    if view.final_price_cents is not None:
        facts.append(("Final price", money(view.final_price_cents, view.currency)))
    facts.append(("Outcome", outcome))
    if reason:
        facts.append(("Reason", reason))
    timing = (
        lateness_text(view.lateness_ms, view.lead_seconds)
        if view.lateness_ms is not None and view.lead_seconds is not None
        else ""
    )
    if timing:
        facts.append(("Timing", timing))
    if view.auction_end_time is not None:
        facts.append(("Auction ended", local_time(view.auction_end_time, timezone)))

    rows = "".join(
        _row(
            label,
            f'<a href="{_e(link)}" style="color: #0969da;">{_e(value)}</a>'
            if label == "Item" and link
            else _e(value),
        )
        for label, value in facts
    )
    html_body = _page(_e(subject), _e(headline), [_e(summary)], rows)
    lines = [summary, ""]
    lines += [f"{label}: {value}" for label, value in facts]
    if link:
        lines.append(f"On eBay: {link}")
    lines += [
        "",
        "You receive this email because notifications are on in your eBay Sniper "
        "preferences.",
    ]
    return RenderedEmail(
        subject=subject,
        html=html_body,
        text="\n".join(lines) + "\n",
        tag=f"bid-{view.status.value.lower()}",
    )


# ---------------------------------------------------------------- re-linking
def render_relink_reminder(expires_at: int, timezone: str = "UTC") -> RenderedEmail:
    """The email asking a user to link eBay again before the link expires."""
    when = local_time(expires_at, timezone)
    subject = "Link your eBay account again to keep sniping"
    paragraphs = [
        f"Your eBay link expires on {when}. eBay does not let us renew it without you.",
        "Open eBay Sniper and choose Link eBay before then: until you do, "
        "scheduled bids cannot be placed once the link has expired.",
    ]
    html_body = _page(
        _e(subject),
        _e("Your eBay link expires soon"),
        [_e(paragraph) for paragraph in paragraphs],
        _row("Link expires", _e(when)),
    )
    text = "\n\n".join(paragraphs) + (
        "\n\nYou receive this email because notifications are on in your eBay "
        "Sniper preferences.\n"
    )
    return RenderedEmail(
        subject=subject, html=html_body, text=text, tag="relink-reminder"
    )
