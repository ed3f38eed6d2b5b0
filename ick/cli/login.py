"""`ick login-link`: a one-use link that logs a browser in to the web UI as this token."""

from __future__ import annotations

import click

from ick.cli.context import Context, json_option, pass_ctx, print_json


@click.command("login-link")
@json_option
@pass_ctx
def login_link(ctx: Context, as_json: bool) -> None:
    """Print a web login link: good for one login, for 60 seconds."""
    doc = ctx.client.call("POST", "/login-links")
    if as_json:
        print_json(doc)
    else:
        click.echo(doc["url"])
