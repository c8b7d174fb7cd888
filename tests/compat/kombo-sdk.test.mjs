// Drives Kombo's official TypeScript SDK (@kombo-api/sdk, pinned in package.json) against a
// live Plugboard. The SDK parses every response with zod, so a missing nullable key, a renamed
// field or an enum value Kombo does not know fails here even when our own Rust tests pass.
//
// The Rust integration test `sdk_compat` starts the server, creates the fixtures and runs this
// file with the PLUGBOARD_* variables below. The steps share state (one activation token, one
// integration that is disabled, re-enabled and finally deleted), so they run strictly in order.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Kombo } from "@kombo-api/sdk";
import { assertApiError, call, requiredEnv } from "./sdk.mjs";

const REQUIRED = [
  "PLUGBOARD_SERVER_URL",
  "PLUGBOARD_DEV_API_KEY",
  "PLUGBOARD_PROD_API_KEY",
  "PLUGBOARD_DEV_ENVIRONMENT_ID",
  "PLUGBOARD_ACTIVATION_TOKEN",
  "PLUGBOARD_INTEGRATION_ID",
];
const env = requiredEnv(REQUIRED, "sdk_compat");
const SERVER_URL = env.PLUGBOARD_SERVER_URL;
const INTEGRATION_ID = env.PLUGBOARD_INTEGRATION_ID;

// The SDK's options are snake_case (api_key, server_url), not apiKey/serverURL. A short
// timeout turns a hung server into a test failure instead of a stalled CI run.
const client = (apiKey) => new Kombo({ api_key: apiKey, server_url: SERVER_URL, timeout_ms: 10_000 });
const dev = client(env.PLUGBOARD_DEV_API_KEY);
const prod = client(env.PLUGBOARD_PROD_API_KEY);

// Links must point at this Plugboard (not kombo.dev) and carry the token the front end needs.
function assertLink(link) {
  const url = new URL(link); // throws on a relative link
  assert.equal(url.origin, new URL(SERVER_URL).origin);
  assert.equal(url.pathname, "/connect");
  assert.ok(url.searchParams.get("token"), `no token in ${link}`);
}

const details = async () => (await call(dev.general.getIntegrationDetails({ integration_id: INTEGRATION_ID }))).data;

describe("@kombo-api/sdk against Plugboard", { concurrency: false }, () => {
  test("checkApiKey names the key's environment", async () => {
    const res = await call(dev.general.checkApiKey());
    assert.equal(res.status, "success");
    assert.equal(res.data.environment_id, env.PLUGBOARD_DEV_ENVIRONMENT_ID);
  });

  test("checkApiKey with an unknown key is a 401", async () => {
    const bogus = client(`pb_dev_${"x".repeat(44)}`);
    await assertApiError(bogus.general.checkApiKey(), "PLATFORM.AUTHENTICATION_INVALID", 401);
  });

  test("createConnectionLink with only the required fields", async () => {
    // The SDK itself adds integration_category HRIS, language en, link_type EMBEDDED and
    // enable_filtering/enable_field_mapping false, so the server sees those defaults explicitly.
    const res = await call(
      dev.connect.createConnectionLink({ end_user_email: "it@acme.example", end_user_organization_name: "Acme, Inc." }),
    );
    assertLink(res.data.link);
  });

  test("createConnectionLink with every field", async () => {
    const res = await call(
      dev.connect.createConnectionLink({
        end_user_email: "it@acme.example",
        end_user_organization_name: "Acme, Inc.",
        end_user_origin_id: "36123",
        integration_category: "ATS",
        integration_tool: "greenhouse",
        language: "de",
        link_type: "MAGIC_LINK",
        remote_environment: "production",
        enable_filtering: false,
        enable_field_mapping: false,
      }),
    );
    assertLink(res.data.link);
  });

  test("createConnectionLink rejects a malformed email server-side", async () => {
    // The SDK types end_user_email as a plain string, so this really reaches the server.
    await assertApiError(
      dev.connect.createConnectionLink({ end_user_email: "not-an-email", end_user_organization_name: "Acme, Inc." }),
      "PLATFORM.INPUT_INVALID",
      400,
    );
  });

  test("getIntegrationByToken returns the activated integration", async () => {
    const res = await call(dev.connect.getIntegrationByToken({ token: env.PLUGBOARD_ACTIVATION_TOKEN }));
    // Keys stay snake_case; zod strips unknown keys, so this also pins the exact key set.
    assert.deepEqual(res.data, {
      tool: "personio",
      id: INTEGRATION_ID,
      end_user_origin_id: "36123",
      end_user_organization_name: "Acme, Inc.",
      end_user_email: "admin@acme.example",
      setup_status: "COMPLETED",
    });
  });

  test("an activation token works only once", async () => {
    await assertApiError(
      dev.connect.getIntegrationByToken({ token: env.PLUGBOARD_ACTIVATION_TOKEN }),
      "PLATFORM.INTEGRATION_NOT_FOUND",
      404,
    );
  });

  test("getIntegrationDetails", async () => {
    // The id contains ':'; the SDK percent-encodes it (personio%3A...) in the path.
    const data = await details();
    assert.equal(data.id, INTEGRATION_ID);
    assert.equal(data.tool.id, "personio");
    assert.equal(data.category, "HRIS");
    assert.equal(data.status, "ACTIVE");
    assert.equal(data.setup_status, "COMPLETED");
    assert.equal(data.end_user.origin_id, "36123");
    assert.equal(data.beta, false);
    assert.equal(data.data_expired_at, null);
    // The SDK turns created_at into a Date after checking it is an ISO 8601 datetime.
    assert.ok(data.created_at instanceof Date && !Number.isNaN(data.created_at.getTime()));
    // Passthrough only: the SDK accepts the category's models reported as not offered.
    assert.ok(data.read_models.length > 0);
    for (const model of data.read_models) {
      assert.equal(model.is_available, false);
      assert.equal(model.coverage_status, "NOT_IMPLEMENTED");
      assert.equal(model.scope_config_setting, "DISABLED");
      assert.equal(model.opted_out_by_customer, false);
    }
    assert.deepEqual(data.write_actions, []);
  });

  test("setIntegrationEnabled toggles the status", async () => {
    await call(dev.general.setIntegrationEnabled({ integration_id: INTEGRATION_ID, body: { value: false } }));
    assert.equal((await details()).status, "INACTIVE");
    await call(dev.general.setIntegrationEnabled({ integration_id: INTEGRATION_ID, body: { value: true } }));
    assert.equal((await details()).status, "ACTIVE");
  });

  test("createReconnectionLink", async () => {
    // An empty body: the SDK fills language en and link_type EMBEDDED.
    const res = await call(dev.general.createReconnectionLink({ integration_id: INTEGRATION_ID, body: {} }));
    assertLink(res.data.link);
  });

  test("getTools offers the sandbox tool only in development", async () => {
    const ids = async (kombo) => (await call(kombo.general.getTools({ category: "hris" }))).data.tools.map((t) => t.id);
    assert.ok((await ids(dev)).includes("sandbox"));
    assert.ok(!(await ids(prod)).includes("sandbox"));
    const tools = (await call(dev.general.getTools({ category: "hris" }))).data.tools;
    for (const tool of tools) {
      assert.ok(tool.coverage.read_models.every((model) => model.coverage_status === "NOT_IMPLEMENTED"));
      assert.deepEqual(tool.coverage.write_actions, []);
    }
  });

  test("deleteIntegration, after which the integration is gone", async () => {
    // The SDK sends `{}` as the DELETE body.
    await call(dev.general.deleteIntegration({ integration_id: INTEGRATION_ID, body: {} }));
    await assertApiError(
      dev.general.getIntegrationDetails({ integration_id: INTEGRATION_ID }),
      "PLATFORM.INTEGRATION_NOT_FOUND",
      404,
    );
  });
});
