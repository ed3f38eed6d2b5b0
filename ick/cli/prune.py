"""`ick prune [--dry-run]`: prune now, and say what went and how many bytes that freed."""

from __future__ import annotations

import click

from ick.cli.context import Context, json_option, pass_ctx, print_json


def human(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


@click.command()
@click.option("--dry-run", is_flag=True, help="Only say what would go.")
@json_option
@pass_ctx
def prune(ctx: Context, dry_run: bool, as_json: bool) -> None:
    """Prune old builds, unused blobs, workspaces, mirrors and systrees now."""
    report = ctx.client.call("POST", "/prune", {"dry_run": dry_run}, timeout=None)
    if as_json:
        print_json(report)
        return
    verb = "would remove" if dry_run else "removed"
    for item in report["removed"]:
        if not item["count"]:
            continue
        names = ", ".join(item["names"])
        more = item["count"] - len(item["names"])
        if more > 0:
            names += f" and {more} more"
        size = f" ({human(item['bytes'])})" if item["bytes"] else ""
        click.echo(f"{verb} {item['count']} {item['what']}{size}: {names}")
    freed = human(report["bytes_freed"])
    click.echo(f"would free {freed}" if dry_run else f"freed {freed}")
