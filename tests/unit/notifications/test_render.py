"""The emails as rendered: eBay's strings escaped, links only to eBay, amounts and
timing said right."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from sniper.email.render import (
    BidOutcomeView,
    clean,
    ebay_link,
    lateness_text,
    money,
    render_bid_outcome,
    render_relink_reminder,
)
from sniper.models.statuses import BidStatus

# 2025-11-25 18:30:00 UTC
END = 1_764_095_400
SCRIPT = "<script>alert('pwned')</script>"
ATTRIBUTE_BREAKER = '"><img src=x onerror=alert(1)>'


def a_view(**fields: object) -> BidOutcomeView:
    view = BidOutcomeView(
        status=BidStatus.WON,
        ebay_item_id="110000000001",
        currency="USD",
        max_bid_cents=2_500,
        item_title="Leica M6 rangefinder",
        item_url="https://www.ebay.com/itm/110000000001",
        final_price_cents=2_350,
        lateness_ms=84,
        lead_seconds=5,
        auction_end_time=END,
    )
    return replace(view, **fields)  # type: ignore[arg-type]


# Every element the templates use: anything else in a rendered email came from data.
TEMPLATE_TAGS = {"html", "head", "meta", "title", "body", "h1", "p", "table", "tr"}
TEMPLATE_TAGS |= {"th", "td", "a"}


def tags_in(document: str) -> set[str]:
    return {
        name.lower() for name in re.findall(r"<\s*([a-zA-Z][a-zA-Z0-9]*)", document)
    }


# ---------------------------------------------------------------- escaping
@pytest.mark.parametrize(
    "title", [SCRIPT, ATTRIBUTE_BREAKER, SCRIPT + ATTRIBUTE_BREAKER]
)
@pytest.mark.parametrize("status", [BidStatus.WON, BidStatus.LOST, BidStatus.FAILED])
def test_ebay_strings_never_become_markup(title: str, status: BidStatus) -> None:
    email = render_bid_outcome(
        a_view(status=status, item_title=title, reason=ATTRIBUTE_BREAKER)
    )

    assert "<script" not in email.html.lower()
    assert "<img" not in email.html.lower()
    assert tags_in(email.html) <= TEMPLATE_TAGS
    # A quote in the title never closes an attribute: it is &quot; everywhere.
    assert '"><img' not in email.html
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in email.html


def test_the_title_reads_the_same_once_escaped() -> None:
    email = render_bid_outcome(a_view(item_title=SCRIPT))

    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in email.html
    assert SCRIPT in email.text  # plain text is not markup: shown as it is


def test_invisible_and_control_characters_are_dropped_everywhere() -> None:
    title = "Leica\u202e6M\u200b\r\nBcc: someone@example.com\x00 M6"

    email = render_bid_outcome(a_view(item_title=title))

    for rendered in (email.subject, email.html, email.text):
        assert "\u202e" not in rendered and "\u200b" not in rendered
        assert "\x00" not in rendered
    assert "\n" not in email.subject and "\r" not in email.subject
    assert email.subject == "You won: Leica6M Bcc: someone@example.com M6"


def test_long_titles_are_cut() -> None:
    assert len(clean("x" * 1_000, 120)) == 120
    assert clean("x" * 1_000, 120).endswith("…")


# ---------------------------------------------------------------- links
@pytest.mark.parametrize(
    "url",
    [
        "https://www.ebay.com/itm/110000000001",
        "https://ebay.com/itm/110000000001?hash=item1a",
        "https://www.ebay.co.uk/itm/110000000001",
        "https://www.ebay.de/itm/110000000001",
        "https://sandbox.ebay.com/itm/110000000001",
        "https://www.ebay.com:443/itm/1",
    ],
)
def test_https_links_to_ebay_are_kept(url: str) -> None:
    assert ebay_link(url) == url
    email = render_bid_outcome(a_view(item_url=url))
    assert f'href="{url}"' in email.html.replace("&amp;", "&")
    assert f"On eBay: {url}" in email.text


@pytest.mark.parametrize(
    "url",
    [
        "http://www.ebay.com/itm/1",
        "https://ebay.com.evil.example/itm/1",
        "https://evil.example/?u=https://www.ebay.com/itm/1",
        "https://notebay.com/itm/1",
        "https://user@www.ebay.com/itm/1",
        "https://www.ebay.com:8443/itm/1",
        "https://www.ebay.com\\@evil.example/",
        'https://www.ebay.com/itm/1"><script>alert(1)</script>',
        "https://www.ebay.com/itm/1 onmouseover=alert(1)",
        "javascript:alert(1)//https://www.ebay.com",
        "data:text/html,<script>alert(1)</script>",
        "//www.ebay.com/itm/1",
        "https://www.ebay.com:99999/",
        "http://127.0.0.1:3100/itm/1",
        "",
    ],
)
def test_any_other_link_is_dropped(url: str) -> None:
    assert ebay_link(url) is None
    email = render_bid_outcome(a_view(item_url=url or None))
    assert "<a " not in email.html
    assert "On eBay:" not in email.text
    assert "110000000001" in email.text  # the item is still named, by its number


# ---------------------------------------------------------------- amounts, timing
@pytest.mark.parametrize(
    ("cents", "currency", "shown"),
    [
        (2_500, "USD", "25.00 USD"),
        (1, "EUR", "0.01 EUR"),
        (123_456, "GBP", "1234.56 GBP"),
    ],
)
def test_amounts_are_cents_with_the_bids_currency(
    cents: int, currency: str, shown: str
) -> None:
    assert money(cents, currency) == shown


def test_a_won_email_says_the_maximum_the_price_and_the_timing() -> None:
    email = render_bid_outcome(a_view(currency="EUR"))

    assert email.subject == "You won: Leica M6 rangefinder"
    assert email.tag == "bid-won"
    for text in (email.text, email.html):
        assert "25.00 EUR" in text and "23.50 EUR" in text
        assert (
            "Your bid reached eBay 4.9 s before the end, 84 ms after its target."
            in text
        )
        assert "Won" in text


@pytest.mark.parametrize(
    ("lateness_ms", "lead", "expected"),
    [
        (
            -200,
            5,
            "Your bid reached eBay 5.2 s before the end, 200 ms before its target.",
        ),
        (84, 5, "Your bid reached eBay 4.9 s before the end, 84 ms after its target."),
        (0, 3, "Your bid reached eBay 3.0 s before the end, exactly on its target."),
        (
            1_250,
            5,
            "Your bid reached eBay 3.8 s before the end, 1,250 ms after its target.",
        ),
        (
            6_000,
            5,
            "Your bid reached eBay 1.0 s after the end, 6,000 ms after its target.",
        ),
    ],
)
def test_lateness_is_told_against_the_end_and_the_target(
    lateness_ms: int, lead: int, expected: str
) -> None:
    assert lateness_text(lateness_ms, lead) == expected


def test_a_bid_never_sent_has_no_timing_line() -> None:
    email = render_bid_outcome(
        a_view(status=BidStatus.FAILED, lateness_ms=None, final_price_cents=None)
    )

    assert "reached eBay" not in email.text
    assert "Final price" not in email.text
    assert email.subject == "Your bid could not be placed: Leica M6 rangefinder"


@pytest.mark.parametrize(
    ("status", "subject", "words"),
    [
        (BidStatus.LOST, "You did not win", "sold for 23.50 USD, above your maximum"),
        (
            BidStatus.CANCELLED,
            "Your bid was cancelled",
            "cancelled before it was placed",
        ),
    ],
)
def test_each_outcome_has_its_own_words(
    status: BidStatus, subject: str, words: str
) -> None:
    email = render_bid_outcome(a_view(status=status, reason="OUTBID"))

    assert email.subject.startswith(subject)
    assert words in email.text
    assert "Reason: OUTBID" in email.text
    assert email.tag == f"bid-{status.value.lower()}"


def test_an_untitled_item_is_named_by_its_number() -> None:
    email = render_bid_outcome(a_view(item_title=None))

    assert email.subject == "You won: eBay item 110000000001"


def test_times_are_shown_in_the_users_time_zone() -> None:
    assert (
        "Tue 25 Nov 2025, 19:30 CET"
        in render_bid_outcome(a_view(), "Europe/Berlin").text
    )
    assert (
        "Tue 25 Nov 2025, 18:30 UTC" in render_bid_outcome(a_view(), "Nowhere/X").text
    )


def test_the_relink_reminder_names_the_expiry() -> None:
    email = render_relink_reminder(END, "America/New_York")

    assert email.tag == "relink-reminder"
    assert "Tue 25 Nov 2025, 13:30 EST" in email.text
    assert "Tue 25 Nov 2025, 13:30 EST" in email.html
    assert "Link eBay" in email.text
    assert tags_in(email.html) <= TEMPLATE_TAGS - {"a"}
