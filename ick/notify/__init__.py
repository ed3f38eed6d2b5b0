"""Telling people how their builds went: email (aiosmtplib), webhooks, Matrix rooms and IRC
channels, retried from an outbox.

channels: one record per channel (its `notify:` key, its address check, its sender, its
settings, its probe), which the .ick file checks, the outbox and `ick doctor` read; rules: who
is told at which point and when to retry; message: what they are told; mail, webhook, matrix,
irc: how; outbox: the queue that survives restarts.
"""
