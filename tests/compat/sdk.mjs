// What the compat suites share: the variables the Rust test that runs a suite must set, and
// the way they call Kombo's TypeScript SDK and check its typed errors.
import assert from "node:assert/strict";
import { KomboGeneralError, ResponseValidationError } from "@kombo-api/sdk/models/errors";

// The environment, once every variable in `names` is set. Fails loudly rather than skipping:
// a silently skipped compat suite looks like a passing one. `runner` names the Rust test.
export function requiredEnv(names, runner) {
  const missing = names.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new Error(
      `missing environment variables: ${missing.join(", ")}. ` +
        `This file is run by the Rust integration test \`${runner}\`, which starts Plugboard and sets them.`,
    );
  }
  return process.env;
}

// A zod failure only says "Response validation failed"; put the key or enum value that broke
// in the message, since that is exactly what these suites exist to report.
export async function call(promise) {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof ResponseValidationError) err.message = err.pretty();
    throw err;
  }
}

// Error bodies go through zod too: a KomboGeneralError (not a ResponseValidationError or the
// catch-all KomboError) proves the body matched Kombo's error schema. On that class
// `statusCode` is the HTTP status, `error` is the body's `error` object and `status` is the
// body's "error".
export async function assertApiError(promise, code, statusCode) {
  await assert.rejects(call(promise), (err) => {
    assert.ok(err instanceof KomboGeneralError, `expected KomboGeneralError, got ${err.name}: ${err.message}`);
    assert.equal(err.statusCode, statusCode);
    assert.equal(err.status, "error");
    assert.equal(err.error.code, code);
    assert.equal(typeof err.error.message, "string");
    return true;
  });
}
