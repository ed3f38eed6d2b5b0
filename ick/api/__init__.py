"""The HTTP API (aiohttp): JSON routes, token scopes, error mapping."""
