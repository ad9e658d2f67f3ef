"""Drive the emulator over HTTP the way eBay's clients and a scenario script would."""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
from defusedxml.ElementTree import fromstring

from local.ebay_emulator import BID_SCOPE, IDENTITY_SCOPE, PUBLIC_SCOPE, OAuthApp

NS = {"e": "urn:ebay:apis:eBLBaseComponents"}
APP = OAuthApp()
ALL_SCOPES = f"{PUBLIC_SCOPE} {BID_SCOPE} {IDENTITY_SCOPE}"


def basic_auth(client_id: str = APP.client_id, secret: str = APP.client_secret) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def path_id(restful_id: str) -> str:
    """A RESTful item id as it goes in a URL path: `v1%7C123%7C0`."""
    return quote(restful_id, safe="")


def watch_list_request(entries: int | None = None, page: int | None = None) -> bytes:
    pagination = ""
    if entries is not None or page is not None:
        parts = (
            f"<EntriesPerPage>{entries}</EntriesPerPage>" if entries is not None else ""
        )
        parts += f"<PageNumber>{page}</PageNumber>" if page is not None else ""
        pagination = f"<Pagination>{parts}</Pagination>"
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<GetMyeBayBuyingRequest xmlns="urn:ebay:apis:eBLBaseComponents">'
        f"<WatchList><Include>true</Include>{pagination}</WatchList>"
        "</GetMyeBayBuyingRequest>"
    ).encode()


class FormReader(HTMLParser):
    """What a browser takes from the consent page: the form's action, its hidden
    fields and the names and values of its submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.method = ""
        self.hidden: dict[str, str] = {}
        self.visible: set[str] = set()
        self.buttons: dict[str, tuple[str, str]] = {}
        self._button: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        fields = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.action, self.method = (
                fields.get("action", ""),
                fields.get("method", ""),
            )
        elif tag == "input" and fields.get("type") == "hidden":
            self.hidden[fields["name"]] = fields.get("value", "")
        elif tag == "input":
            self.visible.add(fields["name"])
        elif tag == "button" and fields.get("type") == "submit":
            self._button = (fields["name"], fields["value"])

    def handle_data(self, data: str) -> None:
        if self._button is not None and data.strip():
            self.buttons[data.strip()] = self._button
            self._button = None


class EbayDriver:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=5.0)

    def close(self) -> None:
        self.http.close()

    # Admin -----------------------------------------------------------------

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, f"/__admin{path}", **kwargs)

    def listing(self, **spec: Any) -> dict[str, Any]:
        spec.setdefault("seller", "seller1")
        spec.setdefault("endsInSeconds", 3_600)
        response = self.admin("POST", "/listings", json=spec)
        assert response.status_code == 201, response.text
        listing: dict[str, Any] = response.json()
        return listing

    def read_listing(self, item_id: str) -> dict[str, Any]:
        response = self.admin("GET", f"/listings/{item_id}")
        assert response.status_code == 200, response.text
        listing: dict[str, Any] = response.json()
        return listing

    def rival_bid(
        self, item_id: str, bidder: str, max_amount: int | str | dict[str, str]
    ) -> httpx.Response:
        return self.admin(
            "POST",
            f"/listings/{item_id}/bids",
            json={"bidder": bidder, "maxAmount": max_amount},
        )

    def user_tokens(
        self, username: str, scopes: list[str] | None = None
    ) -> dict[str, Any]:
        body = {} if scopes is None else {"scopes": scopes}
        response = self.admin("POST", f"/users/{username}/tokens", json=body)
        assert response.status_code == 201, response.text
        tokens: dict[str, Any] = response.json()
        return tokens

    def user_token(self, username: str) -> str:
        token: str = self.user_tokens(username)["access_token"]
        return token

    def watch(self, username: str, item_id: str) -> None:
        response = self.admin(
            "POST", f"/users/{username}/watchlist", json={"itemId": item_id}
        )
        assert response.status_code == 201, response.text

    def add_fault(self, **spec: Any) -> dict[str, Any]:
        response = self.admin("POST", "/faults", json=spec)
        assert response.status_code == 201, response.text
        fault: dict[str, Any] = response.json()
        return fault

    # OAuth -----------------------------------------------------------------

    def token_request(
        self, form: dict[str, str], auth: str | None = None
    ) -> httpx.Response:
        return self.http.post(
            "/identity/v1/oauth2/token",
            data=form,
            headers={"Authorization": auth or basic_auth()},
        )

    def app_token(self) -> str:
        response = self.token_request(
            {"grant_type": "client_credentials", "scope": PUBLIC_SCOPE}
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def consent_query(
        self, scope: str = ALL_SCOPES, state: str = "st-1"
    ) -> dict[str, str]:
        return {
            "client_id": APP.client_id,
            "redirect_uri": APP.ru_name,
            "response_type": "code",
            "scope": scope,
            "state": state,
        }

    def consent(
        self, username: str, decision: str = "Agree", **query: str
    ) -> dict[str, list[str]]:
        """GET the consent page, fill in and submit its form as a browser does
        (hidden fields, the username, the clicked button), and return the query of
        the redirect, checked to lead to the RuName's accept or reject URL."""
        page = self.http.get(
            "/oauth2/authorize", params={**self.consent_query(), **query}
        )
        assert page.status_code == 200, page.text
        form = FormReader()
        form.feed(page.text)
        assert form.method.lower() == "post"
        assert "username" in form.visible
        button_name, button_value = form.buttons[decision]
        fields = {**form.hidden, "username": username, button_name: button_value}
        response = self.http.post(form.action, data=fields)
        assert response.status_code == 302, response.text
        location = urlsplit(response.headers["location"])
        target = urlsplit(APP.accept_url if decision == "Agree" else APP.reject_url)
        assert (location.scheme, location.netloc, location.path) == (
            target.scheme,
            target.netloc,
            target.path,
        )
        return parse_qs(location.query)

    def code_grant(self, code: str, redirect_uri: str = APP.ru_name) -> httpx.Response:
        return self.token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
            }
        )

    # eBay APIs -------------------------------------------------------------

    def identity(self, token: str) -> httpx.Response:
        return self.http.get(
            "/commerce/identity/v1/user/", headers={"Authorization": f"Bearer {token}"}
        )

    def browse_legacy(self, token: str, legacy_id: str) -> httpx.Response:
        return self.http.get(
            "/buy/browse/v1/item/get_item_by_legacy_id",
            params={"legacy_item_id": legacy_id},
            headers={"Authorization": f"Bearer {token}"},
        )

    def browse_item(self, token: str, restful_id: str) -> httpx.Response:
        return self.http.get(
            f"/buy/browse/v1/item/{path_id(restful_id)}",
            headers={"Authorization": f"Bearer {token}"},
        )

    def offer_headers(self, token: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token}",
            "X-EBAY-C-MARKETPLACE-ID": "EBAY_US",
        }

    def bid(
        self, token: str, restful_id: str, value: str, currency: str = "USD"
    ) -> httpx.Response:
        return self.http.post(
            f"/buy/offer/v1_beta/bidding/{path_id(restful_id)}/place_proxy_bid",
            json={"maxAmount": {"currency": currency, "value": value}},
            headers=self.offer_headers(token),
        )

    def bidding(self, token: str, restful_id: str) -> httpx.Response:
        return self.http.get(
            f"/buy/offer/v1_beta/bidding/{path_id(restful_id)}",
            headers=self.offer_headers(token),
        )

    def trading(
        self,
        token: str | None,
        body: bytes | None = None,
        call_name: str = "GetMyeBayBuying",
        compatibility: str | None = "1475",
    ) -> httpx.Response:
        headers = {"X-EBAY-API-CALL-NAME": call_name, "X-EBAY-API-SITEID": "0"}
        headers["Content-Type"] = "text/xml"
        if compatibility is not None:
            headers["X-EBAY-API-COMPATIBILITY-LEVEL"] = compatibility
        if token is not None:
            headers["X-EBAY-API-IAF-TOKEN"] = token
        return self.http.post(
            "/ws/api.dll", content=body or watch_list_request(), headers=headers
        )


def xml_root(response: httpx.Response) -> Any:
    return fromstring(response.content)


def xml_text(element: Any, path: str) -> str | None:
    found = element.find(path, NS)
    return None if found is None else found.text


def trading_error_code(response: httpx.Response) -> str | None:
    root = xml_root(response)
    assert xml_text(root, "e:Ack") == "Failure"
    return xml_text(root, "e:Errors/e:ErrorCode")
