// Verifies webhook deliveries with implementations that share no code with Plugboard: the
// Standard Webhooks reference library (`standardwebhooks` from npm) for `webhook-signature`,
// and Node's own crypto for Kombo's `X-Kombo-Signature`, computed the way Kombo's receivers do.
//
// Input on stdin, JSON: {"deliveries": [{"body": "...", "headers": {...},
//   "kombo_secret": "whsec_...", "standard_secrets": ["whsec_...", ...]}]}
// Every secret in standard_secrets must verify on its own (a rotation signs with both).
// Exits 0 and prints "verified N" when every delivery verifies; otherwise exits 1 and says why.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

const input = JSON.parse(await new Response(process.stdin).text());
let verified = 0;
for (const [i, delivery] of input.deliveries.entries()) {
  const headers = Object.fromEntries(
    Object.entries(delivery.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  for (const secret of delivery.standard_secrets) {
    try {
      new Webhook(secret).verify(delivery.body, headers);
    } catch (error) {
      console.error(`delivery ${i}: Standard Webhooks verification failed: ${error.message}`);
      process.exit(1);
    }
  }
  const expected = createHmac('sha256', delivery.kombo_secret).update(delivery.body, 'utf8').digest('base64url');
  const got = headers['x-kombo-signature'] ?? '';
  if (got.length !== expected.length || !timingSafeEqual(Buffer.from(got), Buffer.from(expected))) {
    console.error(`delivery ${i}: X-Kombo-Signature ${JSON.stringify(got)} is not ${JSON.stringify(expected)}`);
    process.exit(1);
  }
  // Kombo's receivers may also sign JSON.stringify(JSON.parse(body)): compact JSON makes it match.
  const reserialised = createHmac('sha256', delivery.kombo_secret)
    .update(JSON.stringify(JSON.parse(delivery.body)), 'utf8')
    .digest('base64url');
  if (reserialised !== expected) {
    console.error(`delivery ${i}: the body is not compact JSON, so re-serialising receivers would fail`);
    process.exit(1);
  }
  verified += 1;
}
console.log(`verified ${verified}`);
