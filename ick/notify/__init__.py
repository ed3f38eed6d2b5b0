"""Telling people how their builds went: email (aiosmtplib) and webhooks, retried from an outbox.

channels: one record per channel (its `notify:` key, its address check, its sender, its
settings), which the .ick file checks, the outbox and `ick doctor` read; rules: who is told
and when to retry; message: what they are told; mail, webhook: how; outbox: the queue that
survives restarts.
"""
