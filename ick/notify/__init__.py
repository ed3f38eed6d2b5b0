"""Telling people how their builds went: email (aiosmtplib) and webhooks, retried from an outbox.

rules: who is told and when to retry; message: what they are told; mail, webhook: how;
outbox: the queue that survives restarts; plugin: wiring into the daemon.
"""
