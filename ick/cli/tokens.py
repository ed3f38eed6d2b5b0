"""`ick token create|list|revoke`."""

from __future__ import annotations

import click

from ick.cli.context import Context, echo_table, json_option, pass_ctx, print_json

SCOPES = ("read", "trigger", "write", "deploy", "worker", "admin")


@click.group()
def token() -> None:
    """Create, list and revoke API tokens (needs an admin token)."""


@token.command("create")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(SCOPES),
              help="A scope the token carries; repeat for more.")
@click.option("--name", required=True, help="What the token is for.")
@click.option("--project", "projects", multiple=True, metavar="GLOB",
              help="Bind the token to the projects this glob matches (fnmatch: *, ?, [...]); "
                   "repeat for more. Any other project is unknown to it.")
@json_option
@pass_ctx
def create(ctx: Context, scopes: tuple[str, ...], name: str, projects: tuple[str, ...],
           as_json: bool) -> None:
    """Mint a token and print it (it is shown only this once)."""
    body: dict[str, object] = {"name": name, "scopes": list(scopes)}
    if projects:
        body["projects"] = list(projects)
    doc = ctx.client.call("POST", "/tokens", body)
    if as_json:
        print_json(doc)
    else:
        click.echo(doc["token"])


@token.command("list")
@json_option
@pass_ctx
def list_(ctx: Context, as_json: bool) -> None:
    """List tokens and what each is for (never their secrets)."""
    docs = ctx.client.call("GET", "/tokens")
    if as_json:
        print_json(docs)
        return
    # PROJECTS comes last, so that scripts reading the first columns read what they did.
    rows = [["ID", "SCOPES", "CREATED", "FOR", "PROJECTS"]]
    for t in docs:
        what = t["name"] + (" (ick hook shows it again)" if t.get("reusable") else "")
        bound = t.get("projects")
        rows.append([t["id"], ",".join(t["scopes"]), t["created_at"], what,
                     ",".join(bound) if bound else "*"])
    echo_table(rows)


@token.command("revoke")
@click.argument("token_id")
@pass_ctx
def revoke(ctx: Context, token_id: str) -> None:
    """Revoke a token by its id (as `ick token list` shows it), or by the token itself."""
    from ick.keepers.tokens import split_token

    parts = split_token(token_id)
    if parts is not None:
        token_id = parts[0]
    ctx.client.call("DELETE", f"/tokens/{token_id}")
    click.echo(f"token {token_id}: revoked")
