"""Login through the insurer's identity provider: Synapse's OIDC provider from our config maps
the IdP's subject to the account provisioned with it; an unknown subject gets no account."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import aiohttp

from messenger.homeserver.synapse_config import oidc_provider
from tests.accounts.people import admin_api, new_kvnr
from tests.oidc_idp import FakeIdP
from tests.system import SSO_CLIENT, System


async def sso_login(system: System, idp: FakeIdP, subject: str) -> tuple[str | None, str]:
    """The browser part of an SSO login; (the login token Synapse hands the client, the page)."""
    idp.subject = subject
    async with aiohttp.ClientSession() as browser:
        start = (f"{system.hs_url}/_matrix/client/v3/login/sso/redirect/oidc-kasse"
                 f"?redirectUrl={quote(SSO_CLIENT)}")  # fmt: skip
        async with browser.get(start, allow_redirects=False) as response:
            assert response.status == 302, await response.text()
            authorize = response.headers["Location"]
            # Synapse marks its session cookie Secure; a browser on plain http would still
            # send it to localhost, aiohttp does not: the test hands it on itself
            cookie = "; ".join(f"{c.key}={c.value}" for c in response.cookies.values())
        async with browser.get(authorize, allow_redirects=False) as response:
            callback = response.headers["Location"]  # the IdP sends the browser back
        assert urlparse(callback).path == "/_synapse/client/oidc/callback"
        async with browser.get(callback, allow_redirects=False,
                               headers={"Cookie": cookie}) as response:  # fmt: skip
            page = await response.text()
            target = response.headers.get("Location", "") + page
    token = (
        parse_qs(urlparse(target).query).get("loginToken") if target.startswith("http") else None
    )
    found = re.search(r"loginToken=([A-Za-z0-9_\-.]+)", target)
    return (token[0] if token else found.group(1) if found else None), page


async def test_only_a_provisioned_subject_logs_in_and_only_into_its_account(
    system: System, e2e_user: Any
) -> None:
    provider = oidc_provider(system.settings)
    assert provider["enable_registration"] is False and provider["allow_existing_users"] is False
    assert provider["user_mapping_provider"]["config"]["subject_claim"] == "sub"
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{system.hs_url}/_matrix/client/v3/login") as response,
    ):
        login_flows = await response.json()
    sso = next(f for f in login_flows["flows"] if f["type"] == "m.login.sso")
    assert [p["id"] for p in sso["identity_providers"]] == ["oidc-kasse"]

    idp = FakeIdP(int(urlparse(system.settings.config.oidc.issuer).port or 0))  # type: ignore[union-attr]
    await idp.start()
    try:
        subject = f"idp-{new_kvnr()}"
        status, account = await admin_api(system, "POST", "/accounts", {
            "kvnr": new_kvnr(), "display_name": "Olga OIDC", "idp_subject": subject,
        })  # fmt: skip
        assert status == 201, account
        token, page = await sso_login(system, idp, subject)
        assert token is not None, page
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{system.hs_url}/_matrix/client/v3/login",
                json={"type": "m.login.token", "token": token},
            ) as response,
        ):
            logged_in = await response.json()
        assert response.status == 200 and logged_in["user_id"] == account["user_id"]

        stranger, page = await sso_login(system, idp, "idp-niemand")
        assert stranger is None and "registration" in page.lower()  # nobody is created
    finally:
        await idp.stop()
