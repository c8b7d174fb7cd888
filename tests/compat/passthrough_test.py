"""Kombo's official Python SDK (`kombo` on PyPI, pinned in requirements.txt) sends passthrough
requests to a live Plugboard. The SDK parses the answer and every error body with pydantic, so
a passthrough envelope that drifts from Kombo's shape fails here.

The Rust integration test `sdk_passthrough` runs this file (with the venv `scripts/test` makes
under target/) after `passthrough.test.mjs`, with the same PLUGBOARD_* variables; it asserts
on unittest's "Ran N tests" and "OK". Only the standard library's unittest, so the venv holds
nothing but the SDK.
"""

import base64
import json
import os
import sys
import unittest
import urllib.parse
import urllib.request

from kombo import Kombo
from kombo.errors import KomboGeneralError

REQUIRED = [
    "PLUGBOARD_SERVER_URL",
    "PLUGBOARD_DEV_API_KEY",
    "PLUGBOARD_SANDBOX_ID",
    "PLUGBOARD_SPARE_SANDBOX_ID",
    "PLUGBOARD_BAMBOOHR_ID",
]
missing = [name for name in REQUIRED if not os.environ.get(name)]
if missing:
    # Fail loudly rather than skip: a silently skipped compat suite looks like a passing one.
    sys.exit(
        f"missing environment variables: {', '.join(missing)}. This file is run by the Rust "
        "integration test `sdk_passthrough`, which starts Plugboard and sets them."
    )
ENV = os.environ
SERVER_URL = ENV["PLUGBOARD_SERVER_URL"]


def client(integration_id):
    # The SDK timeout is well above the server's passthrough timeout, so the timeout case sees
    # Plugboard's 504 rather than the SDK giving up first. No retries unless configured.
    return Kombo(
        api_key=ENV["PLUGBOARD_DEV_API_KEY"],
        server_url=SERVER_URL,
        integration_id=integration_id,
        timeout_ms=10_000,
    )


SANDBOX = client(ENV["PLUGBOARD_SANDBOX_ID"])


class Passthrough(unittest.TestCase):
    def assert_envelope(self, res, remote_status):
        self.assertEqual(res.STATUS, "success")
        self.assertIsInstance(res.warnings, list)
        self.assertEqual(res.data.status, remote_status)
        self.assertIsInstance(res.data.url, str)
        self.assertIsInstance(res.data.headers, dict)

    def assert_api_error(self, call, code, status_code):
        with self.assertRaises(KomboGeneralError) as raised:
            call()
        err = raised.exception
        self.assertEqual(err.status_code, status_code)
        self.assertEqual(err.data.status, "error")
        self.assertEqual(err.data.error.code, code)
        self.assertIsInstance(err.data.error.message, str)

    def test_get_json(self):
        res = SANDBOX.general.send_passthrough_request(
            tool="sandbox", api="v1", method="GET", path="/employees"
        )
        self.assert_envelope(res, 200)
        self.assertTrue(res.data.url.endswith("/sandbox/v1/employees"), res.data.url)
        self.assertEqual(len(res.data.data["data"]), 5)
        self.assertEqual(res.data.data["data"][0]["first_name"], "Ada")

    def test_post_json(self):
        res = SANDBOX.general.send_passthrough_request(
            tool="sandbox",
            api="v1",
            method="POST",
            path="/echo",
            params={"dry_run": "1"},
            data={"first_name": "Mary"},
        )
        self.assert_envelope(res, 200)
        self.assertEqual(res.data.data["method"], "POST")
        self.assertEqual(res.data.data["query"], "dry_run=1")
        self.assertEqual(res.data.data["content_type"], "application/json")
        self.assertEqual(res.data.data["body"], {"first_name": "Mary"})

    def test_soap_string_body(self):
        soap = "<soap:Envelope><soap:Body/></soap:Envelope>"
        res = SANDBOX.general.send_passthrough_request(
            tool="sandbox",
            api="v1",
            method="POST",
            path="/echo",
            headers={"Content-Type": "text/xml"},
            data=soap,
        )
        self.assert_envelope(res, 200)
        self.assertEqual(res.data.data["content_type"], "text/xml")
        self.assertEqual(res.data.data["body"], soap)

    def test_response_as_base64(self):
        res = SANDBOX.general.send_passthrough_request(
            tool="sandbox",
            api="v1",
            method="GET",
            path="/documents/1",
            response_as_base64=True,
        )
        self.assert_envelope(res, 200)
        self.assertTrue(base64.b64decode(res.data.data).startswith(b"%PDF-"))

    def test_multipart(self):
        res = SANDBOX.general.send_passthrough_request(
            tool="sandbox",
            api="v1",
            method="POST",
            path="/echo",
            multipart_form_data=[
                {"name": "title", "value": "Contract"},
                {
                    "name": "file",
                    "value": {
                        "name": "c.txt",
                        "content_type": "text/plain",
                        "data": base64.b64encode(b"hello").decode(),
                    },
                },
            ],
        )
        self.assert_envelope(res, 200)
        self.assertTrue(
            res.data.data["content_type"].startswith("multipart/form-data; boundary=")
        )
        body = res.data.data["body"]
        self.assertIn('name="title"', body)
        self.assertIn("Contract", body)
        self.assertIn('filename="c.txt"', body)
        self.assertIn("hello", body)

    def test_remote_404_is_an_answer(self):
        res = SANDBOX.general.send_passthrough_request(
            tool="sandbox", api="v1", method="GET", path="/employees/99"
        )
        self.assert_envelope(res, 404)

    def test_remote_500_is_an_answer(self):
        res = client(ENV["PLUGBOARD_BAMBOOHR_ID"]).general.send_passthrough_request(
            tool="bamboohr", api="v1", method="GET", path="/boom"
        )
        self.assert_envelope(res, 500)

    def test_unknown_integration(self):
        self.assert_api_error(
            lambda: client("no-such-integration").general.send_passthrough_request(
                tool="sandbox", api="v1", method="GET", path="/employees"
            ),
            "PLATFORM.INTEGRATION_NOT_FOUND",
            404,
        )

    def test_wrong_tool(self):
        self.assert_api_error(
            lambda: SANDBOX.general.send_passthrough_request(
                tool="personio", api="personnel", method="GET", path="/company/employees"
            ),
            "PLATFORM.INPUT_INVALID",
            400,
        )

    def test_disabled_integration(self):
        # Disabling is idempotent, so this holds whether or not the TypeScript suite ran first.
        spare = ENV["PLUGBOARD_SPARE_SANDBOX_ID"]
        request = urllib.request.Request(
            f"{SERVER_URL}/integrations/{urllib.parse.quote(spare, safe='')}/enabled",
            method="PUT",
            data=json.dumps({"value": False}).encode(),
            headers={
                "Authorization": f"Bearer {ENV['PLUGBOARD_DEV_API_KEY']}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request) as answer:
            self.assertEqual(answer.status, 200)
        self.assert_api_error(
            lambda: client(spare).general.send_passthrough_request(
                tool="sandbox", api="v1", method="GET", path="/employees"
            ),
            "PLATFORM.INPUT_INVALID",
            400,
        )

    def test_timeout(self):
        self.assert_api_error(
            lambda: client(ENV["PLUGBOARD_BAMBOOHR_ID"]).general.send_passthrough_request(
                tool="bamboohr", api="v1", method="GET", path="/late"
            ),
            "PLATFORM.TASK_TIMED_OUT",
            504,
        )


if __name__ == "__main__":
    unittest.main(verbosity=2)
