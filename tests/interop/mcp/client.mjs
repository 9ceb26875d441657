// The official TypeScript MCP SDK as a client of an MCP server protected by bearer-guard,
// given nothing but the server's URL (run by tests/mcp_interop.rs):
//
//   node client.mjs <MCP server URL> <open tool> <tool that needs more scope>
//
// What the SDK does by itself: reads the 401's WWW-Authenticate (resource_metadata, scope),
// fetches the RFC 9728 document, discovers the authorization server (RFC 8414), registers
// itself (RFC 7591), and builds the authorization URL with PKCE and the `resource` (RFC 8707).
// What this script plays: the user's browser, by following that URL (the test authorization
// server approves at once and redirects back with the code), and the app's callback, by
// handing the code to `finishAuth`.
//
// Every step prints one JSON line on stdout; the exit code is 0 only if the whole flow went
// as expected (also the 403 step-up: the call that needs more scope is refused, the SDK asks
// for the scope the challenge names, and the call then succeeds).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";

const [url, openTool, guardedTool] = process.argv.slice(2);
if (!url || !openTool || !guardedTool) {
  console.error("usage: node client.mjs <MCP server URL> <open tool> <guarded tool>");
  process.exit(2);
}

const step = (what, detail = {}) => console.log(JSON.stringify({ step: what, ...detail }));
const fail = (why) => {
  console.log(JSON.stringify({ step: "failed", why: String(why) }));
  process.exit(1);
};

// Never listened on: the redirect is followed by hand below.
const REDIRECT = "http://127.0.0.1:9/callback";

/** An in-memory OAuth client whose "browser" follows the authorization URL itself. */
class Provider {
  constructor() {
    this.pendingCode = undefined;
    this.authorizations = [];
  }
  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata() {
    return {
      client_name: "bearer-guard interop (TypeScript MCP SDK)",
      redirect_uris: [REDIRECT],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info) {
    this.client = info;
    step("registered", { client_id: info.client_id, auth_method: info.token_endpoint_auth_method });
  }
  tokens() {
    // Without a refresh token the SDK asks for a new authorization when the server wants
    // more scope (a refresh cannot widen it).
    if (!this.saved) return undefined;
    const { refresh_token: _ignored, ...tokens } = this.saved;
    return tokens;
  }
  saveTokens(tokens) {
    this.saved = tokens;
    step("tokens", { scope: tokens.scope ?? null, token_type: tokens.token_type });
  }
  saveCodeVerifier(v) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
  async redirectToAuthorization(authorizationUrl) {
    const params = authorizationUrl.searchParams;
    const asked = {
      scope: params.get("scope"),
      resource: params.get("resource"),
      code_challenge_method: params.get("code_challenge_method"),
    };
    this.authorizations.push(asked);
    step("authorize", asked);
    const res = await fetch(authorizationUrl, { redirect: "manual" });
    const location = res.headers.get("location");
    if (res.status < 300 || res.status > 399 || !location) {
      throw new Error(`authorization endpoint answered ${res.status}: ${await res.text()}`);
    }
    const back = new URL(location);
    if (back.searchParams.get("error")) {
      throw new Error(`authorization refused: ${back.searchParams.get("error")}: ${back.searchParams.get("error_description")}`);
    }
    if (!back.searchParams.get("iss")) {
      throw new Error("the authorization response has no iss (RFC 9207)");
    }
    this.pendingCode = back.searchParams.get("code");
  }
  takeCode() {
    const code = this.pendingCode;
    this.pendingCode = undefined;
    if (!code) throw new Error("no authorization code was received");
    return code;
  }
}

/** Runs `action`; on the SDK's UnauthorizedError (it sent us to authorize), completes the
 * authorization with the code and runs `action` once more. */
async function withAuthorization(provider, transport, action) {
  try {
    return await action();
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
    await transport.finishAuth(provider.takeCode());
    return await action();
  }
}

const provider = new Provider();
try {
  // Connecting: 401 → discovery → registration → authorization → code → token.
  let transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  let client = new Client({ name: "bearer-guard-interop", version: "1.0.0" });
  try {
    await client.connect(transport);
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
    await transport.finishAuth(provider.takeCode());
    transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
    client = new Client({ name: "bearer-guard-interop", version: "1.0.0" });
    await client.connect(transport);
  }
  step("connected", { session: transport.sessionId ? "yes" : "no" });

  const tools = await client.listTools();
  const names = tools.tools.map((t) => t.name).sort();
  step("tools", { names });
  for (const name of [openTool, guardedTool]) {
    if (!names.includes(name)) fail(`tool ${name} not listed`);
  }

  const open = await client.callTool({ name: openTool, arguments: {} });
  if (open.isError) fail(`${openTool} failed: ${JSON.stringify(open.content)}`);
  step("called", { tool: openTool, text: open.content?.[0]?.text ?? null });

  // The guarded tool: 403 insufficient_scope → the SDK re-authorizes with the challenge's
  // scope → the call goes through.
  const before = provider.authorizations.length;
  const guarded = await withAuthorization(provider, transport, () =>
    client.callTool({ name: guardedTool, arguments: {} }),
  );
  if (guarded.isError) fail(`${guardedTool} failed: ${JSON.stringify(guarded.content)}`);
  if (provider.authorizations.length !== before + 1) fail("no step-up authorization happened");
  step("called", {
    tool: guardedTool,
    text: guarded.content?.[0]?.text ?? null,
    step_up_scope: provider.authorizations.at(-1).scope,
  });
  await client.close();
  step("done");
  process.exit(0);
} catch (e) {
  fail(e?.stack ?? e);
}
