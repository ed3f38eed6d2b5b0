"""POST /work's `instance` (ick/api/work.py): the worker's own key. Registering again with the
same name, token and key replaces the old registration; another key under the same name and
token is another worker; a malformed key is a 400."""

from __future__ import annotations

from tests.api.apiclient import Api

KEY = "0123456789abcdef0123456789abcdef"


async def workers(api: Api) -> list[str]:
    return sorted(w["worker"] for w in await api.ok("GET", "/workers") if not w["local"])


async def test_the_same_instance_replaces_another_stays(api: Api) -> None:
    first = (await api.ok("POST", "/work", 201, json={"name": "w", "instance": KEY}))["worker"]
    again = (await api.ok("POST", "/work", 201, json={"name": "w", "instance": KEY}))["worker"]
    assert await workers(api) == [again] and again != first
    other = (await api.ok("POST", "/work", 201,
                          json={"name": "w", "instance": "f" * 32}))["worker"]
    plain = (await api.ok("POST", "/work", 201, json={"name": "w"}))["worker"]
    assert await workers(api) == sorted([again, other, plain])


async def test_a_malformed_instance_is_refused(api: Api) -> None:
    for bad in ("zz" * 16, "0" * 8, "0" * 65, 17, ["x"]):
        reply = await api.call("POST", "/work", json={"name": "w", "instance": bad})
        assert (reply.status, reply.error) == (
            400, "instance: expected 16 to 64 hexadecimal digits"), bad
    assert await workers(api) == []
