"""The async API: ``enqueue_async`` and the reads a web handler needs, on jobq's own threads, never the loop's."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

import jobq
from jobq import JobId

from .harness import work

PINGS_EVERY = 0.001  # seconds between a ping's wake-ups
BUDGET = 0.005  # the most a ping may be late at its 99th percentile (issue 17)
TRIES = 3


class Probe:
    """A coroutine that wakes every millisecond and records how late the loop let it run."""

    def __init__(self) -> None:
        self.lateness: list[float] = []
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            asked = time.perf_counter()
            await asyncio.sleep(PINGS_EVERY)
            self.lateness.append(time.perf_counter() - asked - PINGS_EVERY)

    def stop(self) -> None:
        self._stop.set()

    def p99(self) -> float:
        return statistics.quantiles(self.lateness, n=100)[98]


async def probed(work_to_do: Callable[[], Awaitable[object]]) -> Probe:
    probe = Probe()
    pinging = asyncio.create_task(probe.run())
    await asyncio.sleep(0.01)
    await work_to_do()
    probe.stop()
    await pinging
    return probe


def test_async_enqueue_and_reads_give_what_the_sync_calls_give(url: str) -> None:
    with jobq.App(url) as app:

        @app.task(name="render")
        def render(scene: str) -> None:
            raise jobq.Permanent(f"no scene {scene}")

        async def produce() -> tuple[JobId, JobId]:
            by_task = await render.enqueue_async("s-1", _tenant="acme", _priority=5)
            by_name = await app.enqueue_async("render", {"scene": "s-2"}, key="k-2", delay=60)
            return by_task, by_name

        by_task, by_name = asyncio.run(produce())
        job = asyncio.run(app.get_job_async(by_task))
        assert job is not None and (job.task, job.tenant, job.priority, job.payload) == (
            "render", "acme", 5, {"args": ["s-1"], "kwargs": {}}
        )  # fmt: skip
        assert asyncio.run(app.get_job_async(by_name)) == app.get_job(by_name)
        assert asyncio.run(app.get_job_async("nope")) is None
        work(app)
        page = asyncio.run(app.dlq.list_async(task="render", with_payload=True))
        assert [letter.job_id for letter in page] == [by_task]
        assert asyncio.run(app.dlq.get_async(page[0].id)) == app.dlq.get(page[0].id)
        assert asyncio.run(app.dlq.list_async(tenant="nobody")) == []


def test_a_bad_payload_fails_the_await_with_the_same_error(tmp_path: Path) -> None:
    with jobq.App(f"sqlite:///{tmp_path / 'jobq.db'}") as app:
        with pytest.raises(jobq.PayloadError, match=r"payload is not JSON: kwargs\['x'\] is inf"):
            asyncio.run(app.enqueue_async("render", {"x": float("inf")}))
        assert app.list_jobs() == []


@pytest.mark.parametrize("url", ["sqlite-file", "postgres"], indirect=True)
def test_ten_thousand_async_enqueues_from_100_coroutines_never_hold_the_loop(url: str) -> None:
    """A run that misses the bound is measured again, up to ``TRIES`` times: 2 cores shared with other processes'
    tests can starve any process for milliseconds. A loop that enqueue_async held would miss the bound every time
    (the control below shows that the probe sees a held loop)."""
    with jobq.App(url) as app:
        app.migrate()
        p99s = []
        for round_ in range(TRIES):
            ids: list[JobId] = []

            async def enqueue_all(round_: int = round_, ids: list[JobId] = ids) -> None:
                async def producer(n: int) -> list[JobId]:
                    return [await app.enqueue_async("render", {"scene": f"{round_}-{n}-{i}"}) for i in range(100)]

                for batch in await asyncio.gather(*(producer(n) for n in range(100))):
                    ids.extend(batch)

            probe = asyncio.run(probed(enqueue_all))
            assert len(set(ids)) == 10_000 and app.counts()["default"]["queued"] == 10_000 * (round_ + 1)
            assert len(probe.lateness) > 100  # the probe ran all along
            p99s.append(probe.p99())
            if p99s[-1] < BUDGET:
                break
        assert p99s[-1] < BUDGET, f"p99 lateness of each run, ms: {[round(p99 * 1000, 1) for p99 in p99s]}"


def test_the_probe_sees_a_loop_held_by_synchronous_enqueues(tmp_path: Path) -> None:
    """The control: the same probe around enqueues made on the loop itself reports them, so it can fail."""
    with jobq.App(f"sqlite:///{tmp_path / 'jobq.db'}") as app:
        app.migrate()

        async def hold_the_loop() -> None:
            for round_ in range(20):
                for i in range(50):
                    app.enqueue("render", {"scene": f"{round_}-{i}"})  # blocks the loop: what enqueue_async avoids
                await asyncio.sleep(0)

        probe = asyncio.run(probed(hold_the_loop))
        assert max(probe.lateness) > BUDGET
