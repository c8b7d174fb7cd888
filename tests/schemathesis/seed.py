"""Seeds a fresh Plugboard server with one of everything the API can point at, so that the
fuzzer's path parameters can name real resources and reach the 200 answers, not only 404s.

    python seed.py BASE_URL API_KEY > seeds.json

Uses only the API and the hosted flow, as an operator and an end user would: a development
webhook endpoint on loopback (nothing listens there, so its deliveries fail and are retried,
which fills the delivery log with attempts), integrations connected through the sandbox tool,
a failed connection attempt, a test event and a magic link. Prints a JSON object mapping each
path parameter name to a list of real values; `hooks.py` mixes them into generated requests.
"""

from __future__ import annotations

import html
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

BASE, KEY = sys.argv[1].rstrip("/"), sys.argv[2]

# Port 9 (discard) on loopback: allowed for development endpoints, and nothing answers there.
WEBHOOK_URL = "http://127.0.0.1:9/plugboard-schemathesis"


def api(method: str, path: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {KEY}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)["data"]
    except urllib.error.HTTPError as error:
        sys.exit(f"seed: {method} {path} answered {error.code}: {error.read().decode()}")


def link(**extra: str) -> str:
    body = {
        "end_user_email": "admin@acme.example",
        "end_user_organization_name": "Acme, Inc.",
        "end_user_origin_id": "36123",
        "integration_tool": "sandbox",
        **extra,
    }
    return api("POST", "/v1/connect/create-link", body)["link"]


def connect(link_url: str, api_key: str) -> str | None:
    """Goes through the hosted flow's credentials step with the sandbox; returns the
    activation token, or None when the sandbox refused the key (as `invalid` makes it)."""
    with urllib.request.urlopen(link_url + "&step=credentials", timeout=30) as response:
        page = response.read().decode()
    form = {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
    }
    if not {"token", "tool", "state"} <= form.keys():
        sys.exit("seed: the credentials page has no form with token, tool and state")
    form["field.api_key"] = api_key
    request = urllib.request.Request(
        BASE + "/connect/verify",
        data=urllib.parse.urlencode(form).encode(),
        method="POST",
        # A browser sends its page's origin; the flow refuses a post without one.
        headers={"Origin": BASE},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            page = response.read().decode()
    except urllib.error.HTTPError as error:
        if error.code == 422:  # the sandbox refused the credentials, as asked
            return None
        sys.exit(f"seed: POST /connect/verify answered {error.code}")
    found = re.search(r'data-activation-token="([^"]+)"', page)
    if not found:
        sys.exit("seed: the success page has no activation token")
    return found.group(1)


webhook = api("POST", "/v1/webhooks", {"url": WEBHOOK_URL})

# Integrations: one that stays, one for DELETE to remove, and two whose activation tokens are
# left unredeemed for the fuzzer (one in the path of integration-by-token, one in the body of
# activate-integration); and a failed attempt (a `connection-flow-failed` event).
kept = api("GET", f"/v1/connect/integration-by-token/{connect(link(), 'schemathesis')}")["id"]
doomed = api("GET", f"/v1/connect/integration-by-token/{connect(link(), 'schemathesis')}")["id"]
path_token = connect(link(), "schemathesis")
body_token = connect(link(), "schemathesis")
connect(link(), "invalid")

# A magic link (listed and revocable), and a relink of the kept integration.
link(link_type="MAGIC_LINK")
api("POST", f"/v1/integrations/{urllib.parse.quote(kept, safe='')}/relink", {})
links = [entry["id"] for entry in api("GET", "/v1/connect/links")["results"]]

test = api("POST", f"/v1/webhooks/{webhook['id']}/test")

# Wait for the worker's first (failed) attempts, so delivery details carry attempts.
deadline = time.monotonic() + 15
while True:
    deliveries = api("GET", f"/v1/webhooks/{webhook['id']}/deliveries")["results"]
    detail = api("GET", f"/v1/webhooks/deliveries/{test['delivery_id']}")
    if detail["attempt_log"] or time.monotonic() > deadline:
        break
    time.sleep(0.2)

json.dump(
    {
        "webhook_id": [webhook["id"]],
        "integration_id": [kept],
        "integration_id_to_delete": [doomed],
        "token": [path_token],
        "activate_token": [body_token],
        "link_id": links,
        "event_id": sorted({d["event_id"] for d in deliveries}),
        "delivery_id": [d["id"] for d in deliveries],
        "category": ["hris", "ats", "assessment", "lms"],
    },
    sys.stdout,
    indent=2,
)
print()
