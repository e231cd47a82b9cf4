"""``GET /metrics``: Prometheus text, read from the database at scrape time.

A ``MetricSource`` turns ``App`` into metric families; the collector asks each source on every scrape, so
the numbers are the database's (every worker process's), never one process's memory.

Sources: gauges read from the queue (``jobq_jobs{queue,state}``, ``jobq_dead_letters{error_class,resolution}``),
what workers tally in the database (``app.metrics()``): ``jobq_jobs_{processed,succeeded,failed,
dead_lettered,replayed}_total{queue}``, ``jobq_dlq_pruned_total{queue}`` and the histograms
``jobq_job_duration_seconds{queue}`` and ``jobq_queue_wait_seconds{queue}`` (from due to started), and
``jobq_hook_deliveries{state}``, and ``jobq_queue_paused{queue}`` (1 for each paused queue). A new source is one
more function in ``SOURCES``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.responses import Response

from jobq.app import App
from jobq.job import ERROR_CLASSES, RESOLUTIONS
from jobq.tally import COUNTERS, HISTOGRAMS

MetricSource = Callable[[App], Iterable[Metric]]


def job_gauges(app: App) -> Iterator[Metric]:
    """``jobq_jobs{queue,state}``: jobs stored now (``scheduled``: queued, due later)."""
    gauge = GaugeMetricFamily("jobq_jobs", "Jobs stored, by queue and state.", labels=["queue", "state"])
    for queue, counts in sorted(app.counts().items()):
        for state, count in counts.items():
            gauge.add_metric([queue, state], count)
    yield gauge


def dead_letter_gauges(app: App) -> Iterator[Metric]:
    """``jobq_dead_letters{error_class,resolution}``: dead letters stored now; every pair, zeros included."""
    gauge = GaugeMetricFamily(
        "jobq_dead_letters", "Dead letters stored, by error class and resolution.", labels=["error_class", "resolution"]
    )
    for resolution in RESOLUTIONS:
        counts = {group.value: group.count for group in app.dlq.groups("class", resolution=resolution)}
        for error_class in ERROR_CLASSES:
            gauge.add_metric([error_class, resolution], counts.get(error_class, 0))
    yield gauge


COUNTER_HELP = {
    "processed": "Attempts workers finished, by queue.",
    "succeeded": "Attempts that succeeded, by queue.",
    "failed": "Attempts that failed (retried or dead-lettered), by queue.",
    "dead_lettered": "Jobs moved to the dead-letter queue, by queue.",
    "replayed": "Dead letters replayed as new jobs, by queue.",
    "dlq_pruned": "Dead letters the DLQ quota archived and deleted, by queue.",
}
HISTOGRAM_HELP = {
    "job_duration_seconds": "How long attempts ran, by queue.",
    "queue_wait_seconds": "How long jobs waited between due and started, by queue.",
}


def worker_tallies(app: App) -> Iterator[Metric]:
    """What every worker counted, from ``app.metrics()``: ``jobq_jobs_*_total`` and two histograms."""
    tallied = app.metrics()
    for name in COUNTERS:
        metric_name = "jobq_dlq_pruned" if name == "dlq_pruned" else f"jobq_jobs_{name}"
        counter = CounterMetricFamily(metric_name, COUNTER_HELP.get(name, name), labels=["queue"])
        for (metric, queue), value in sorted(tallied.counters.items()):
            if metric == name:
                counter.add_metric([queue], value)
        yield counter
    for name in HISTOGRAMS:
        histogram = HistogramMetricFamily(f"jobq_{name}", HISTOGRAM_HELP.get(name, name), labels=["queue"])
        for (metric, queue), observed in sorted(tallied.histograms.items()):
            if metric == name:
                buckets = [("+Inf" if math.isinf(bound) else str(bound), count) for bound, count in observed.buckets]
                histogram.add_metric([queue], buckets, sum_value=observed.sum)
        yield histogram


def hook_gauges(app: App) -> Iterator[Metric]:
    """``jobq_hook_deliveries{state}``: hook deliveries in the outbox by state (``failed``: given up)."""
    gauge = GaugeMetricFamily("jobq_hook_deliveries", "Hook deliveries in the outbox, by state.", labels=["state"])
    for state, count in app.stats()["hooks"].items():
        gauge.add_metric([state], count)
    yield gauge


def pause_gauges(app: App) -> Iterator[Metric]:
    """``jobq_queue_paused{queue}``: 1 for each queue paused now (an alert rule can watch a pause left on)."""
    gauge = GaugeMetricFamily("jobq_queue_paused", "1 for each paused queue.", labels=["queue"])
    for pause in app.paused_queues():
        gauge.add_metric([pause.queue], 1)
    yield gauge


SOURCES: tuple[MetricSource, ...] = (job_gauges, dead_letter_gauges, worker_tallies, hook_gauges, pause_gauges)


class JobqCollector(Collector):
    """Asks every source for its metric families at each scrape."""

    def __init__(self, app: App, sources: Sequence[MetricSource] = SOURCES) -> None:
        self.app = app
        self.sources = tuple(sources)

    def collect(self) -> Iterator[Metric]:
        for source in self.sources:
            yield from source(self.app)

    def describe(self) -> Iterable[Metric]:
        return []  # nothing to check at registration: reading the database then would be a surprise


def exposition(app: App, sources: Sequence[MetricSource] = SOURCES) -> Callable[[], Response]:
    """A function answering one scrape of ``app``'s metrics (blocking: run it in a worker thread)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(JobqCollector(app, sources))

    def scrape() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return scrape
