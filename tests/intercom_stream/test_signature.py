"""Unit tests of the X-Hub-Signature verifier."""

from __future__ import annotations

import pytest

from intercom_stream.errors import SignatureError
from intercom_stream.signature import Verifier, sign, verify

BODY = b'{"type":"notification_event","id":"notif_1"}'
SECRET = b"s3cret"


def test_sign_matches_a_known_hmac_sha1_vector() -> None:
    """The signature is sha1= and the RFC 2104 HMAC-SHA1 hex digest of the raw body."""
    # RFC 2202 test case 2: key "Jefe", data "what do ya want for nothing?".
    assert sign(b"what do ya want for nothing?", b"Jefe") == (
        "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
    )


def test_verify_accepts_the_right_signature() -> None:
    """A correct signature verifies without raising."""
    verify([sign(BODY, SECRET)], BODY, [SECRET])


def test_verify_accepts_a_previous_secret_during_rotation() -> None:
    """A body signed with the previous secret verifies while that secret is still configured."""
    verify([sign(BODY, b"old")], BODY, [SECRET, b"old"])


def test_verify_accepts_upper_case_hex() -> None:
    """Hex digits are compared by value, not by letter case."""
    verify(["sha1=" + sign(BODY, SECRET)[5:].upper()], BODY, [SECRET])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([], "exactly one"),
        (["sha1=" + "0" * 40, "sha1=" + "0" * 40], "exactly one"),
        (["0" * 40], "must start with"),
        (["sha256=" + "0" * 64], "must start with"),
        (["sha1=" + "0" * 39], "40 hexadecimal"),
        (["sha1=" + "g" * 40], "40 hexadecimal"),
        (["sha1=" + "0" * 40], "does not match"),
    ],
)
def test_verify_rejects_malformed_or_wrong_headers(values: list[str], message: str) -> None:
    """Every malformed or wrong header raises SignatureError naming the problem."""
    with pytest.raises(SignatureError, match=message):
        verify(values, BODY, [SECRET])


def test_verify_rejects_a_signature_over_other_bytes() -> None:
    """Re-serialised JSON (other bytes) does not verify."""
    with pytest.raises(SignatureError):
        verify([sign(BODY + b" ", SECRET)], BODY, [SECRET])


@pytest.mark.parametrize("secrets", [[], [b""]])
def test_verify_fails_closed_without_a_secret(secrets: list[bytes]) -> None:
    """No secret, or an empty one, rejects even a signature made with the empty key."""
    with pytest.raises(SignatureError, match="no client secret"):
        verify([sign(BODY, b"")], BODY, secrets)


def test_a_verifier_checks_many_bodies_with_the_same_keyed_state() -> None:
    """Each check starts from the keyed state: an earlier body never leaks into the next."""
    verifier = Verifier([b"old", SECRET])
    bodies = [BODY, BODY + b" ", b"", b"x" * 5000]  # 5000 bytes: OpenSSL's threaded path
    for body in bodies * 2:
        verifier.verify([sign(body, SECRET)], body)
        verifier.verify([sign(body, b"old")], body)
    with pytest.raises(SignatureError, match="does not match"):
        verifier.verify([sign(BODY, b"other")], BODY)


@pytest.mark.parametrize("secrets", [[], [b""], [SECRET, b""]])
def test_a_verifier_fails_closed_without_every_secret(secrets: list[bytes]) -> None:
    """A verifier built with no secret, or with an empty one, rejects every signature."""
    with pytest.raises(SignatureError, match="no client secret"):
        Verifier(secrets).verify([sign(BODY, SECRET)], BODY)
