"""`ick webhook PROJECT`: the URL to paste into the forge's webhook settings, the secret to
give it (made and stored the first time), and what the forge's status token needs."""

from __future__ import annotations

import secrets as random

import click

from ick.cli.context import Context, fail, pass_ctx

# Where each forge takes a webhook, which events to tick, and the status token's scope.
WHERE = {
    "forgejo": ("Settings > Webhooks > Add webhook > Forgejo",
                "Trigger on: Push events and Pull request events (\"Custom events\": Push, "
                "Pull request, Pull request synchronized)",
                "an access token (User settings > Applications) with scope "
                "write:repository"),
    "gitea": ("Settings > Webhooks > Add webhook > Gitea",
              "Trigger on: Push events and Pull request events",
              "an access token (Settings > Applications) with scope write:repository"),
    "github": ("Settings > Webhooks > Add webhook",
               "Which events: \"Let me select\": Pushes and Pull requests",
               "a fine-grained token with repository permission \"Commit statuses: Read and "
               "write\" (a classic token: scope repo:status)"),
    "gitlab": ("Settings > Webhooks > Add new webhook",
               "Trigger: Push events, Tag push events and Merge request events",
               "a project access token with scope api and role Developer"),
}


@click.command()
@click.argument("project")
@click.option("--webhook-url", default=None,
              help="The address the forge reaches the daemon at [--url].")
@click.option("--new-secret", is_flag=True,
              help="Make and store a new webhook secret (paste it into the forge again).")
@pass_ctx
def webhook(ctx: Context, project: str, webhook_url: str | None, new_secret: bool) -> None:
    """Print what to paste into the forge's webhook settings for PROJECT (its `forge:`);
    the webhook secret is made and stored the first time."""
    from ick.cli.client import quote_name

    doc = ctx.client.call("GET", f"/projects/{quote_name(project)}")
    forge = doc.get("forge")
    if not isinstance(forge, dict):
        fail(f"project {project!r} has no forge: (see README, \"Forges\")")
    kind = str(forge["type"])
    where, events, scope = WHERE.get(kind, ("the forge's webhook settings", "", ""))
    secret_name = str(forge["webhook_secret"])
    base = f"/projects/{quote_name(project)}/+secrets"
    have = {s["name"] for s in ctx.client.call("GET", base)}
    url = f"{(webhook_url or ctx.url).rstrip('/')}/webhooks/{quote_name(project)}"
    click.echo(f"In {forge['repository']} on {forge['url']}: {where}")
    click.echo(f"  {'URL' if kind == 'gitlab' else 'Payload URL'}: {url}")
    if kind != "gitlab":
        click.echo("  Content type: application/json (HTTP method: POST)")
    label = "Secret token" if kind == "gitlab" else "Secret"
    if new_secret or secret_name not in have:
        value = random.token_hex(24)
        conn, response = ctx.client.open("PUT", f"{base}/{quote_name(secret_name)}",
                                         value.encode(),
                                         {"Content-Type": "application/octet-stream"})
        try:
            response.read()
        finally:
            conn.close()
        click.echo(f"  {label}: {value}")
        click.echo(f"    (stored as secret {secret_name} of project {project}; it is not shown "
                   "again: `ick webhook --new-secret` makes another)")
    else:
        click.echo(f"  {label}: the value of secret {secret_name} of project {project}, as "
                   "pasted before (`ick webhook --new-secret` makes another)")
    if events:
        click.echo(f"  {events}")
    token = forge.get("token_secret")
    if not token:
        click.echo("Commit statuses: none (forge: has no token_secret)")
    else:
        state = "set" if token in have else f"NOT SET: ick secret set {project} {token}"
        click.echo(f"Commit statuses: with secret {token} ({state}), {scope}")
    if not doc.get("trust_changes"):
        click.echo("Pull requests build as untrusted changes: no secrets, shell and python "
                   "only where: container without network, no delivery (trust_changes: true "
                   "lifts this)")
