"""Webhook posts (ick/notify/webhook.py): the signature, and the URL as logs show it."""

from __future__ import annotations

from ick.notify.webhook import signature, where


def test_signature_is_hex_hmac_sha256_of_the_body() -> None:
    # RFC 4231 test case 2
    assert signature(b"Jefe", b"what do ya want for nothing?") == (
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")


def test_webhook_urls_are_logged_without_credentials_path_or_query() -> None:
    assert where("https://bob:pw@hooks.test:8443/T0/B1/XyZ?token=s3") == \
        "webhook https://hooks.test:8443"
    assert where("http://hooks.test/x") == "webhook http://hooks.test"
