// Drives Kombo's official TypeScript SDK's `general.sendPassthroughRequest` against a live
// Plugboard. The SDK parses the answer (and every error body) with zod, so a passthrough
// envelope that drifts from Kombo's shape fails here even when the Rust tests pass.
//
// The Rust integration test `sdk_passthrough` starts the server with a short passthrough
// timeout and BambooHR pointed at a loopback vendor (500 on /boom, never answers in time on
// /late), connects the integrations and runs this file with the PLUGBOARD_* variables below.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Kombo } from "@kombo-api/sdk";
import { assertApiError, call, requiredEnv } from "./sdk.mjs";

const REQUIRED = [
  "PLUGBOARD_SERVER_URL",
  "PLUGBOARD_DEV_API_KEY",
  "PLUGBOARD_SANDBOX_ID",
  "PLUGBOARD_SPARE_SANDBOX_ID",
  "PLUGBOARD_BAMBOOHR_ID",
];
const env = requiredEnv(REQUIRED, "sdk_passthrough");
const SERVER_URL = env.PLUGBOARD_SERVER_URL;

// The integration is a client option (the SDK sends it as X-Integration-Id), so one client
// per integration. The SDK timeout is well above the server's passthrough timeout, so the
// timeout case sees Plugboard's 504 rather than the SDK giving up first.
const client = (integrationId) =>
  new Kombo({
    api_key: env.PLUGBOARD_DEV_API_KEY,
    server_url: SERVER_URL,
    integration_id: integrationId,
    timeout_ms: 10_000,
  });
const sandbox = client(env.PLUGBOARD_SANDBOX_ID);

const send = (sdk, tool, api, body) => call(sdk.general.sendPassthroughRequest({ tool, api, body }));

// The typed envelope every successful passthrough shares.
function assertEnvelope(res, remoteStatus) {
  assert.equal(res.status, "success");
  assert.ok(Array.isArray(res.warnings), "warnings is an array");
  assert.equal(res.data.status, remoteStatus);
  assert.equal(typeof res.data.url, "string");
  assert.equal(typeof res.data.headers, "object");
}

describe("@kombo-api/sdk sendPassthroughRequest against Plugboard", { concurrency: false }, () => {
  test("GET JSON returns the tool's answer", async () => {
    const res = await send(sandbox, "sandbox", "v1", { method: "GET", path: "/employees" });
    assertEnvelope(res, 200);
    assert.equal(new URL(res.data.url).pathname, "/sandbox/v1/employees");
    assert.equal(res.data.data.data.length, 5);
    assert.equal(res.data.data.data[0].first_name, "Ada");
  });

  test("POST JSON with query parameters reaches the tool", async () => {
    const res = await send(sandbox, "sandbox", "v1", {
      method: "POST",
      path: "/echo",
      params: { dry_run: "1" },
      data: { first_name: "Mary" },
    });
    assertEnvelope(res, 200);
    assert.equal(res.data.data.method, "POST");
    assert.equal(res.data.data.query, "dry_run=1");
    assert.equal(res.data.data.content_type, "application/json");
    assert.deepEqual(res.data.data.body, { first_name: "Mary" });
  });

  test("a string body with its own Content-Type (SOAP) is sent as is", async () => {
    const soap = "<soap:Envelope><soap:Body/></soap:Envelope>";
    const res = await send(sandbox, "sandbox", "v1", {
      method: "POST",
      path: "/echo",
      headers: { "Content-Type": "text/xml" },
      data: soap,
    });
    assertEnvelope(res, 200);
    assert.equal(res.data.data.content_type, "text/xml");
    assert.equal(res.data.data.body, soap);
  });

  test("response_as_base64 returns a binary document", async () => {
    const res = await send(sandbox, "sandbox", "v1", {
      method: "GET",
      path: "/documents/1",
      response_as_base64: true,
    });
    assertEnvelope(res, 200);
    assert.equal(typeof res.data.data, "string");
    assert.ok(Buffer.from(res.data.data, "base64").subarray(0, 5).equals(Buffer.from("%PDF-")));
  });

  test("multipart form data carries a text part and a file part", async () => {
    const res = await send(sandbox, "sandbox", "v1", {
      method: "POST",
      path: "/echo",
      multipart_form_data: [
        { name: "title", value: "Contract" },
        { name: "file", value: { name: "c.txt", content_type: "text/plain", data: Buffer.from("hello").toString("base64") } },
      ],
    });
    assertEnvelope(res, 200);
    assert.match(res.data.data.content_type, /^multipart\/form-data; boundary=/);
    const body = res.data.data.body;
    assert.ok(body.includes('name="title"') && body.includes("Contract"), body);
    assert.ok(body.includes('filename="c.txt"') && body.includes("hello"), body);
  });

  test("the tool's 404 is an answer, not an exception", async () => {
    const res = await send(sandbox, "sandbox", "v1", { method: "GET", path: "/employees/99" });
    assertEnvelope(res, 404);
  });

  test("the tool's 500 is an answer, not an exception", async () => {
    const res = await send(client(env.PLUGBOARD_BAMBOOHR_ID), "bamboohr", "v1", { method: "GET", path: "/boom" });
    assertEnvelope(res, 500);
  });

  test("an unknown integration is PLATFORM.INTEGRATION_NOT_FOUND", async () => {
    await assertApiError(
      client("no-such-integration").general.sendPassthroughRequest({
        tool: "sandbox",
        api: "v1",
        body: { method: "GET", path: "/employees" },
      }),
      "PLATFORM.INTEGRATION_NOT_FOUND",
      404,
    );
  });

  test("another tool's API is PLATFORM.INPUT_INVALID", async () => {
    await assertApiError(
      sandbox.general.sendPassthroughRequest({
        tool: "personio",
        api: "personnel",
        body: { method: "GET", path: "/company/employees" },
      }),
      "PLATFORM.INPUT_INVALID",
      400,
    );
  });

  test("a disabled integration is PLATFORM.INPUT_INVALID", async () => {
    const id = env.PLUGBOARD_SPARE_SANDBOX_ID;
    const disabled = await fetch(`${SERVER_URL}/integrations/${encodeURIComponent(id)}/enabled`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${env.PLUGBOARD_DEV_API_KEY}`, "Content-Type": "application/json" },
      body: JSON.stringify({ value: false }),
    });
    assert.equal(disabled.status, 200, await disabled.text());
    await assertApiError(
      client(id).general.sendPassthroughRequest({
        tool: "sandbox",
        api: "v1",
        body: { method: "GET", path: "/employees" },
      }),
      "PLATFORM.INPUT_INVALID",
      400,
    );
  });

  test("a tool that does not answer in time is PLATFORM.TASK_TIMED_OUT", async () => {
    await assertApiError(
      client(env.PLUGBOARD_BAMBOOHR_ID).general.sendPassthroughRequest({
        tool: "bamboohr",
        api: "v1",
        body: { method: "GET", path: "/late" },
      }),
      "PLATFORM.TASK_TIMED_OUT",
      504,
    );
  });
});
