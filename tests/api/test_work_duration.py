"""The work protocol refuses a duration no action can have (1e308 was printed as 300 digits)."""

from __future__ import annotations

from tests.api.apiclient import WAIT, Api
from tests.api.test_work import OUTCOME


async def test_a_duration_that_is_not_sane_is_refused(api: Api) -> None:
    await api.setup_hello()
    worker = (await api.ok("POST", "/work", 201, json={"name": "w"}))["worker"]
    bid = (await api.ok("POST", "/projects/hello/+trigger", 201))["id"]
    await api.ok("GET", f"/work?worker={worker}&timeout={WAIT}")
    for duration in (1e308, 11 * 365.25 * 86400, -1.0, "nan", "inf"):
        reply = await api.call("POST", f"/work/{bid}/0/done?worker={worker}",
                               json={"exit_code": 0, "duration": duration})
        assert (reply.status, reply.error) == (400, OUTCOME), duration
    assert (await api.ok("GET", f"/builds/{bid}"))["actions"][0]["state"] == "running"
    await api.ok("POST", f"/work/{bid}/0/done?worker={worker}",
                 json={"exit_code": 0, "duration": 9 * 365 * 86400.0})
    assert (await api.ok("GET", f"/builds/{bid}"))["actions"][0]["duration"] == 9 * 365 * 86400.0
