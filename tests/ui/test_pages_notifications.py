"""The build page's notifications (ick/ui/templates/build.html): each with its channel and
address, whichever channel it goes by; real app, real database."""

from __future__ import annotations

from pytest_aiohttp import AiohttpClient

from ick.api.app import make_app
from ick.daemon import Daemon
from ick.storage.notifications import Decision
from tests.ui.test_pages import login


async def test_the_build_page_names_each_notifications_channel(
        services: Daemon, aiohttp_client: AiohttpClient) -> None:
    build = await services.builds.create("p", {}, False, [], "2024-01-01T00:00:00Z")
    await services.notifications.decide([Decision(build.id, "end", [
        {"irc": "#hello", "when": "always", "on": ["ended"]},
        {"matrix": "!room:example.org", "when": "always", "on": ["ended"]},
        {"email": "dev@example.org", "when": "always", "on": ["ended"]}])],
        "2024-01-01T00:00:01Z")
    client = await aiohttp_client(make_app(services))
    admin = (services.settings.state_dir / "admin.token").read_text().strip()
    await login(client, admin)
    async with client.get(f"/ui/builds/{build.id}") as reply:
        assert reply.status == 200
        html = await reply.text()
    for shown in ("irc #hello", "matrix !room:example.org", "email dev@example.org"):
        assert f"<tr><td>{shown}</td><td>end</td>" in html
