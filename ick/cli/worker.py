"""`ick worker`: a remote worker that takes actions from a controller over HTTP; and
`ick workers`, the list of workers a controller knows."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from pathlib import Path

import click

from ick.cli.context import Context, echo_table, fail, json_option, pass_ctx, print_json

DEFAULT_STATE = "~/.local/share/ick-worker"


def _labels(pairs: tuple[str, ...]) -> dict[str, list[str]]:
    from ick.scheduler.routing import label_problem

    labels: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            fail(f"--label {pair!r}: expected KEY=VALUE")
        problem = label_problem(key, value)
        if problem:
            fail(f"--label {pair!r}: {problem}")
        labels.setdefault(key, []).append(value)
    return labels


def _token(token_file: str | None) -> str:
    """From --token-file, else ICK_TOKEN: never from the command line, where `ps` shows it."""
    ctx = click.get_current_context()
    parent = ctx.parent
    if parent is not None and parent.get_parameter_source("token") == \
            click.core.ParameterSource.COMMANDLINE:
        fail("ick worker takes its token from --token-file or ICK_TOKEN, never from --token")
    if token_file is not None:
        try:
            token = Path(token_file).read_text().strip()
        except OSError as e:
            fail(f"--token-file {token_file}: cannot read: {e.strerror}")
        if not token:
            fail(f"--token-file {token_file}: the file is empty")
        return token
    from ick.config import client_environment

    token = (client_environment().token or "").strip()
    if not token:
        fail("ick worker needs a worker-scope token: --token-file FILE, or ICK_TOKEN")
    return token


@click.command()
@click.option("--url", default=None, help="The controller's address [ICK_URL, else --url of ick].")
@click.option("--token-file", default=None, type=click.Path(dir_okay=False),
              help="A file holding a worker-scope token [else ICK_TOKEN].")
@click.option("--name", default=None, help="This worker's name [host name].")
@click.option("--label", "labels", multiple=True, metavar="K=V",
              help="A label of this worker (repeatable), beside arch and host.")
@click.option("--state-dir", default=None, help=f"Workspaces and caches [{DEFAULT_STATE}].")
@click.option("--slots", default=1, type=click.IntRange(1, 256), show_default=True,
              help="How many builds it runs at once.")
@click.option("--systree-cache", type=click.Choice(["disk", "tmpfs"]), default="disk",
              show_default=True,
              help="Where unpacked systrees live: in --state-dir, or on a tmpfs (RAM; root).")
@pass_ctx
def worker(ctx: Context, url: str | None, token_file: str | None, name: str | None,
           labels: tuple[str, ...], state_dir: str | None, slots: int,
           systree_cache: str) -> None:
    """Run actions for the controller at --url; SIGTERM hands back what runs and stops."""
    token = _token(token_file)
    extra = _labels(labels)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    state = Path(os.path.expanduser(state_dir or DEFAULT_STATE))
    try:
        for sub in ("workspaces", "run"):
            (state / sub).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        fail(f"--state-dir {state}: {e.strerror}")
    from ick.scheduler.work import Refused

    try:
        asyncio.run(_run(url or ctx.url, token, name or socket.gethostname(), extra, state,
                         slots, systree_cache == "tmpfs"))
    except BaseExceptionGroup as group:  # from the task groups the worker runs in
        refused = group.subgroup(Refused)
        if refused is None:
            raise
        error: BaseException = refused
        while isinstance(error, BaseExceptionGroup):
            error = error.exceptions[0]
        fail(str(error))


async def _run(url: str, token: str, name: str, extra: dict[str, list[str]], state: Path,
               slots: int, tmpfs: bool = False) -> None:
    from ick.daemon.host import prepare_binfmt, prepare_nspawn
    from ick.daemon.serve import use_pidfd_watcher
    from ick.runners.base import HostSettings
    from ick.worker.instance import instance_key
    from ick.worker.labels import own_labels
    from ick.worker.remote import RemoteServices, RemoteSource
    from ick.worker.rundir import run_root
    from ick.worker.tracking import ActionTracker
    from ick.worker.worker import Worker
    from ick.worker.workspaces import Workspaces

    log = logging.getLogger("ick.worker")
    loop = asyncio.get_running_loop()
    use_pidfd_watcher(loop)
    # Run directories (scripts, parameters, secrets) on a tmpfs, as the daemon's workers'.
    runs = run_root(state)
    tracker = ActionTracker(state, runs / "actions")
    killed = tracker.kill_leftovers()
    if killed:
        log.warning("killed %d processes left by actions of this worker's last run", killed)
    workspaces = Workspaces(state / "workspaces")
    async with RemoteSource(url, token, instance_key(state)) as source:
        services = RemoteServices(source, lambda: remote.worker_id, state)
        if os.geteuid() == 0:
            prepare_nspawn()
            prepare_binfmt()
        await services.systrees.open(tmpfs=tmpfs and os.geteuid() == 0)
        remote = Worker(source, name, HostSettings(state_dir=state, run_root=runs), services,
                        workspaces, labels=own_labels(extra), slots=slots, tracker=tracker,
                        announce=logging.INFO, controller=url)
        try:
            async with asyncio.TaskGroup() as group:
                cleaner = group.create_task(workspaces.run())
                work = group.create_task(remote.run())
                # SIGTERM: what runs is handed back and the worker deregisters (Worker.run).
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(sig, work.cancel)
                await asyncio.wait({work})
                cleaner.cancel()
        finally:
            await services.systrees.close()
    log.info("worker %s stopped", name)


@click.command()
@json_option
@pass_ctx
def workers(ctx: Context, as_json: bool) -> None:
    """List the workers the controller knows: labels, slots, what each runs, last seen."""
    docs = ctx.client.call("GET", "/workers")
    if as_json:
        print_json(docs)
        return
    rows = [["WORKER", "WHERE", "SLOTS", "RUNNING", "LAST SEEN", "LABELS"]]
    for doc in docs:
        labels = " ".join(f"{k}={','.join(v)}" for k, v in doc["labels"].items())
        running = ",".join(f"#{r['build']}" for r in doc["running"]) or "idle"
        where = "local" if doc["local"] else "remote"
        rows.append([doc["worker"], where, str(doc["slots"]), running, doc["last_seen"], labels])
    echo_table(rows, right=(2,))
