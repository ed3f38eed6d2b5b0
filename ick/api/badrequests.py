"""Requests aiohttp cannot parse (a request line over its 8190 bytes, a bad header) are the
client's mistake: aiohttp answers 400 and logs a traceback at ERROR; this makes it one line."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

SERVER_LOGGER = "aiohttp.server"


class BadRequestFilter(logging.Filter):
    """Turns aiohttp's record of a request it could not parse into a one-line warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError) and 400 <= error.code < 500:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg, record.args = "bad request: %s", (str(error.message)[:200],)
            record.exc_info, record.exc_text = None, None
        return True


async def quiet_bad_requests(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context: the filter is on while the app runs."""
    logger = logging.getLogger(SERVER_LOGGER)
    bad = BadRequestFilter()
    logger.addFilter(bad)
    try:
        yield
    finally:
        logger.removeFilter(bad)
