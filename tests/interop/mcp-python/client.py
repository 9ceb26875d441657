# The official Python MCP SDK (PyPI `mcp`) as a client of an MCP server protected by
# bearer-guard, given nothing but the server's URL (run by tests/integration/mcp/sign_in.rs):
#
#   python client.py <MCP server URL> <open tool> <tool that needs more scope> [mode]
#
# `mode` is the SDK's `Client(mode=...)`: "auto" (its default: probe `server/discover`, fall
# back to the `initialize` handshake) or "legacy" (the handshake, and its session, at once).
#
# What the SDK does by itself (`mcp.client.auth.OAuthClientProvider`, an httpx2 auth flow under
# the streamable HTTP transport): reads the 401's WWW-Authenticate (resource_metadata, scope),
# fetches the RFC 9728 document, discovers the authorization server (RFC 8414), registers itself
# (RFC 7591), and builds the authorization URL with PKCE and the `resource` (RFC 8707); on a 403
# `insufficient_scope` it authorizes again for the challenge's scope and retries the request.
# What this script plays: the user's browser (the redirect handler follows that URL without
# following the redirect; the test authorization server approves at once and redirects back
# with the code) and the app's callback (the callback handler hands code, state and iss back).
#
# Every step prints one JSON line on stdout, the same steps as tests/interop/mcp/client.mjs; the
# exit code is 0 only if the whole flow went as expected (also the 403 step-up: exactly one
# more authorization happened during the call that needs more scope, and the call succeeded).
import asyncio
import json
import sys
import traceback
from urllib.parse import parse_qs, urlparse

import httpx2
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

# Never listened on: the redirect is read by hand below.
REDIRECT = "http://127.0.0.1:9/callback"


def step(what, **detail):
    print(json.dumps({"step": what, **detail}), flush=True)


class Failed(Exception):
    pass


class Storage:
    """In-memory token storage (the SDK's `TokenStorage` protocol) that reports what is saved."""

    def __init__(self):
        self.tokens = None
        self.client = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        step("tokens", scope=tokens.scope, token_type=tokens.token_type)

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info
        step(
            "registered",
            client_id=client_info.client_id,
            auth_method=client_info.token_endpoint_auth_method,
        )


class Browser:
    """The user's browser and the app's redirect URI: follows the authorization URL once, without
    following its redirect, and keeps what came back for the callback handler."""

    def __init__(self):
        self.authorizations = []
        self.pending = None

    async def redirect_handler(self, authorization_url: str) -> None:
        params = parse_qs(urlparse(authorization_url).query)
        one = lambda name: params.get(name, [None])[0]  # noqa: E731
        asked = {
            "scope": one("scope"),
            "resource": one("resource"),
            "code_challenge_method": one("code_challenge_method"),
        }
        self.authorizations.append(asked)
        step("authorize", **asked)
        async with httpx2.AsyncClient(follow_redirects=False) as http:
            res = await http.get(authorization_url)
        location = res.headers.get("location")
        if not 300 <= res.status_code <= 399 or not location:
            raise Failed(f"authorization endpoint answered {res.status_code}: {res.text}")
        if not location.startswith(REDIRECT):
            raise Failed(f"redirected elsewhere: {location}")
        back = parse_qs(urlparse(location).query)
        if "error" in back:
            raise Failed(f"authorization refused: {back['error'][0]}: {back.get('error_description')}")
        if "iss" not in back:
            raise Failed("the authorization response has no iss (RFC 9207)")
        self.pending = AuthorizationCodeResult(
            code=back["code"][0], state=back.get("state", [None])[0], iss=back["iss"][0]
        )

    async def callback_handler(self) -> AuthorizationCodeResult:
        result, self.pending = self.pending, None
        if result is None:
            raise Failed("no authorization code was received")
        return result


def text_of(result) -> str | None:
    for block in result.content:
        if getattr(block, "type", None) == "text":
            return block.text
    return None


async def run(url: str, open_tool: str, guarded_tool: str, mode: str) -> None:
    browser = Browser()
    provider = OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(
            client_name="bearer-guard interop (Python MCP SDK)",
            redirect_uris=[REDIRECT],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=Storage(),
        redirect_handler=browser.redirect_handler,
        callback_handler=browser.callback_handler,
    )
    # Whether the MCP server gave the connection a session (its Mcp-Session-Id answer header).
    sessions = set()

    async def note_session(response: httpx2.Response) -> None:
        if "mcp-session-id" in response.headers:
            sessions.add(response.headers["mcp-session-id"])

    http = httpx2.AsyncClient(auth=provider, event_hooks={"response": [note_session]})
    async with http:
        # Connecting: 401 -> discovery -> registration -> authorization -> code -> token, all
        # inside the SDK's first request.
        async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
            if not browser.authorizations:
                raise Failed("connected without authorizing")
            step(
                "connected",
                session="yes" if sessions else "no",
                protocol_version=client.protocol_version,
            )

            tools = await client.list_tools()
            names = sorted(t.name for t in tools.tools)
            step("tools", names=names)
            for name in (open_tool, guarded_tool):
                if name not in names:
                    raise Failed(f"tool {name} not listed")

            opened = await client.call_tool(open_tool, {})
            if opened.is_error:
                raise Failed(f"{open_tool} failed: {opened.content}")
            step("called", tool=open_tool, text=text_of(opened))

            # The guarded tool: 403 insufficient_scope -> the SDK authorizes again with the
            # challenge's scope -> the same request goes through.
            before = len(browser.authorizations)
            guarded = await client.call_tool(guarded_tool, {})
            if guarded.is_error:
                raise Failed(f"{guarded_tool} failed: {guarded.content}")
            if len(browser.authorizations) != before + 1:
                raise Failed("no step-up authorization happened")
            step(
                "called",
                tool=guarded_tool,
                text=text_of(guarded),
                step_up_scope=browser.authorizations[-1]["scope"],
            )
    step("done")


def main() -> int:
    if len(sys.argv) not in (4, 5):
        print("usage: python client.py <MCP server URL> <open tool> <guarded tool> [mode]", file=sys.stderr)
        return 2
    url, open_tool, guarded_tool = sys.argv[1:4]
    mode = sys.argv[4] if len(sys.argv) == 5 else "auto"
    try:
        asyncio.run(run(url, open_tool, guarded_tool, mode))
    except BaseException:  # noqa: BLE001 - any failure is a failed step, with its trace
        step("failed", why=traceback.format_exc())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
