"""Benchmark: how fast a real `ick serve` tells people, and what telling costs the builds.

Prints: the median and p95 time from a build's end (finished_at) to its mail arriving at a
real SMTP server (aiosmtpd on loopback), and builds per second for N builds queued at once on
a concurrent project that mails one address per build, next to the same without `notify`.
Usage: python bench/notify.py [--builds N] [--latency-runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.daemon import Daemon  # noqa: E402
from tests.notify_servers import MailSink  # noqa: E402

ICK = """
projects:
  - project: told
    concurrent: true
    pipelines: [noop]
    notify: [{email: dev@example.org}]
  - project: silent
    concurrent: true
    pipelines: [noop]
pipelines:
  - pipeline: noop
    actions:
      - shell: "true"
        where: host
"""


def stamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def latency(daemon: Daemon, mail: MailSink, runs: int) -> list[float]:
    """One build at a time: its end to its mail (wall clocks of one machine)."""
    times = []
    for _ in range(runs):
        count = len(mail.items)
        build = daemon.wait_build(daemon.trigger("told"))
        mail.wait_count(count + 1)
        times.append(mail.arrived[count] - stamp(build["finished_at"]))
    return times


def smtp_alone(mail: MailSink, runs: int = 10) -> float:
    """The median time of one mail sent straight to the sink: what the receiver itself costs."""
    import asyncio
    from email.message import EmailMessage

    import aiosmtplib

    async def one() -> float:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@b.test", "c@d.test", "x"
        message.set_content("x")
        started = time.perf_counter()
        await aiosmtplib.send(message, hostname="127.0.0.1", port=mail.port, start_tls=False)
        return time.perf_counter() - started

    return statistics.median([asyncio.run(one()) for _ in range(runs)])


def throughput(daemon: Daemon, mail: MailSink | None, project: str, count: int) -> float:
    status, _ = daemon.api("GET", "/version")
    assert status == 200
    before = len(mail.items) if mail else 0
    started = time.perf_counter()
    ids = [daemon.api("POST", f"/projects/{project}/+trigger")[1]["id"] for _ in range(count)]
    daemon.wait_build(max(ids), timeout=600)
    for build_id in ids:
        daemon.wait_build(build_id, timeout=600)
    if mail is not None:
        mail.wait_count(before + count, timeout=600)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-runs", type=int, default=50)
    parser.add_argument("--builds", type=int, default=300)
    args = parser.parse_args()
    mail = MailSink().up()
    try:
        alone = smtp_alone(mail)
        mail.items.clear()
        mail.arrived.clear()
        with tempfile.TemporaryDirectory() as tmp:
            settings = {"smtp": {"host": "127.0.0.1", "port": mail.port}}
            daemon = Daemon(Path(tmp) / "state", settings, workers=2).start()
            try:
                daemon.apply(ICK)
                times = sorted(latency(daemon, mail, args.latency_runs))
                silent = throughput(daemon, None, "silent", args.builds)
                told = throughput(daemon, mail, "told", args.builds)
            finally:
                daemon.stop()
    finally:
        mail.close()
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    print(f"build end to mail received ({len(times)} builds, one at a time): "
          f"median {statistics.median(times) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms "
          f"(of which one SMTP exchange with the aiosmtpd receiver: {alone * 1000:.1f} ms)")
    print(f"{args.builds} builds queued at once, 2 workers: {silent:.0f} builds/s without "
          f"notify, {told:.0f} builds/s mailing one address each (all mails in)")


if __name__ == "__main__":
    main()
