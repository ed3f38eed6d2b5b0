"""`ick outputs ID` (a build's outputs, as a table or JSON) and `ick outputs ID PATH [-o FILE]`
(one output's bytes, checked against its digest)."""

from __future__ import annotations

from typing import Any

import click

from ick.cli.context import Context, echo_table, json_option, pass_ctx, print_json


@click.command()
@click.argument("build_id", metavar="ID", type=click.IntRange(0, 2**62))
@click.argument("path", required=False)
@click.option("-o", "--output", "file", type=click.Path(dir_okay=False), default=None,
              help="Write PATH's bytes to FILE (default: standard output).")
@click.option("--job", type=click.IntRange(0, 10000), default=None,
              help="The job whose output PATH is (a matrix build's; default: the first).")
@json_option
@pass_ctx
def outputs(ctx: Context, build_id: int, path: str | None, file: str | None, job: int | None,
            as_json: bool) -> None:
    """List build ID's outputs, or download the one at PATH."""
    from ick.cli.client import quote_name

    if path is None:
        docs: list[dict[str, Any]] = ctx.client.call("GET", f"/builds/{build_id}/outputs")
        if as_json:
            print_json(docs)
            return
        rows = [["PATH", "SIZE", "DIGEST", "JOB"]] + [
            [d["path"], str(d["size"]), d["digest"][:19], str(d["job"])] for d in docs]
        echo_table(rows, right=(1, 3))
        return
    from ick.cli.artifacts import fetch

    query = "" if job is None else f"?job={job}"
    fetch(ctx, f"/builds/{build_id}/outputs/{quote_name(path)}{query}",
          f"output {path} of build {build_id}", file)
