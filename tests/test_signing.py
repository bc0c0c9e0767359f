"""Our Standard Webhooks signer agrees with the reference library, and our verifier refuses
what must be refused."""

import base64
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from edge_server.integration.signing import (
    SignatureError,
    decode_secret,
    generate_secret,
    sign,
    signed_headers,
    verify,
)

BODY = b'{"type":"inventory.changed","id":"evt_1","data":{"sku":"A","qty":3}}'


def test_generated_secret_is_whsec_with_32_random_bytes():
    a, b = generate_secret(), generate_secret()
    assert a.startswith("whsec_") and a != b
    assert len(decode_secret(a)) == 32


def test_our_signature_verifies_with_the_reference_library():
    secret = generate_secret()
    headers = signed_headers(secret, "evt_123", BODY)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(BODY, headers)["data"] == {"sku": "A", "qty": 3}


def test_reference_library_signature_verifies_with_ours():
    secret = generate_secret()
    ts = int(time.time())
    sig = Webhook(secret).sign("msg_9", datetime.fromtimestamp(ts, UTC), BODY.decode())
    headers = {"Webhook-Id": "msg_9", "Webhook-Timestamp": str(ts), "Webhook-Signature": sig}
    assert verify(secret, headers, BODY) == "msg_9"


def test_signature_matches_the_spec_test_vector():
    # The example from the Standard Webhooks specification.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = '{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected


def test_wrong_secret_is_refused():
    headers = signed_headers(generate_secret(), "evt_1", BODY)
    with pytest.raises(SignatureError, match="no matching signature"):
        verify(generate_secret(), headers, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)


def test_tampered_body_id_or_timestamp_is_refused():
    secret = generate_secret()
    headers = signed_headers(secret, "evt_1", BODY)
    with pytest.raises(SignatureError):
        verify(secret, headers, BODY.replace(b'"qty":3', b'"qty":30'))
    with pytest.raises(SignatureError):
        verify(secret, {**headers, "webhook-id": "evt_2"}, BODY)
    moved = str(int(headers["webhook-timestamp"]) - 1)
    with pytest.raises(SignatureError):
        verify(secret, {**headers, "webhook-timestamp": moved}, BODY)


def test_stale_and_future_timestamps_are_refused_even_when_correctly_signed():
    secret = generate_secret()
    now = time.time()
    old = signed_headers(secret, "evt_1", BODY, timestamp=int(now) - 301)
    with pytest.raises(SignatureError, match="too old"):
        verify(secret, old, BODY, now=now)
    future = signed_headers(secret, "evt_1", BODY, timestamp=int(now) + 301)
    with pytest.raises(SignatureError, match="too new"):
        verify(secret, future, BODY, now=now)
    # inside the tolerance it passes, and the tolerance is adjustable
    recent = signed_headers(secret, "evt_1", BODY, timestamp=int(now) - 200)
    assert verify(secret, recent, BODY, now=now) == "evt_1"
    with pytest.raises(SignatureError, match="too old"):
        verify(secret, recent, BODY, now=now, tolerance_seconds=60)


def test_missing_or_malformed_headers_are_refused():
    secret = generate_secret()
    headers = signed_headers(secret, "evt_1", BODY)
    for name in headers:
        partial = {k: v for k, v in headers.items() if k != name}
        with pytest.raises(SignatureError, match="missing"):
            verify(secret, partial, BODY)
    with pytest.raises(SignatureError, match="unix time"):
        verify(secret, {**headers, "webhook-timestamp": "yesterday"}, BODY)
    with pytest.raises(SignatureError, match="no v1 signature"):
        verify(secret, {**headers, "webhook-signature": "v2,abc v1a,xyz"}, BODY)


def test_rotation_two_signatures_in_one_header_each_secret_verifies():
    old, new = generate_secret(), generate_secret()
    headers = signed_headers([new, old], "evt_1", BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verify(old, headers, BODY) == "evt_1"
    assert verify(new, headers, BODY) == "evt_1"
    assert Webhook(old).verify(BODY, headers) and Webhook(new).verify(BODY, headers)
    # a receiver that holds both secrets accepts a message signed with either one
    only_new = signed_headers(new, "evt_2", BODY)
    assert verify([old, new], only_new, BODY) == "evt_2"
    with pytest.raises(SignatureError):
        verify(generate_secret(), headers, BODY)


def test_unknown_signature_versions_are_skipped_not_fatal():
    secret = generate_secret()
    headers = signed_headers(secret, "evt_1", BODY)
    headers["webhook-signature"] = "v1a,Zm9v v2,YmFy " + headers["webhook-signature"]
    assert verify(secret, headers, BODY) == "evt_1"


def test_bad_secrets_are_refused():
    with pytest.raises(SignatureError):
        decode_secret("whsec_")
    with pytest.raises(SignatureError):
        decode_secret("whsec_not base64!!")
    # raw bytes and unpadded base64 both work
    key = b"0123456789abcdef0123456789abcdef"
    unpadded = "whsec_" + base64.b64encode(key).decode().rstrip("=")
    assert decode_secret(unpadded) == key == decode_secret(key)
