"""Where hook events go: the Sink protocol, and the logging and Python-callable sinks."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from jobq.errors import JobqError
from jobq.hooks.events import HOOK_KINDS, HookEvent, HookKind


class DeliveryError(JobqError):
    """A sink could not deliver an event; the message is one line, fit for a log and the outbox.

    ``status_code`` and ``headers`` (of an HTTP answer) follow the shapes ``jobq.classify`` reads, so a
    receiver's ``Retry-After`` is honoured.
    """

    def __init__(self, message: str, *, status_code: int | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.headers = headers or {}


@runtime_checkable
class Sink(Protocol):
    """Delivers hook events somewhere; ``deliver`` raises (ideally DeliveryError) when it could not.

    A sink may also have ``kinds``, a collection of the HookKinds it wants (None: all); ``Hooks`` then skips
    the others. Names must be unique within one ``Hooks``: results and retries refer to sinks by name.
    """

    @property
    def name(self) -> str:
        """A short, unique label; never a secret (it is logged and stored with delivery results)."""
        ...

    def deliver(self, event: HookEvent) -> None:
        """Deliver one event (already redacted), or raise."""
        ...


@runtime_checkable
class BoundedSink(Protocol):
    """A sink that can be told to give up sooner than it would: a stopping worker's last deliveries."""

    def within(self, seconds: float) -> Sink:
        """This sink, waiting at most ``seconds`` for a delivery."""
        ...


def kinds_of(kinds: Collection[HookKind] | None) -> frozenset[HookKind] | None:
    """A sink's ``kinds=`` argument checked and frozen (None: every kind)."""
    if kinds is None:
        return None
    if isinstance(kinds, str):
        kinds = (kinds,)  # type: ignore[assignment]  # kinds="alert" is a common slip: accept it
    unknown = sorted(set(kinds) - set(HOOK_KINDS))
    if unknown:
        raise JobqError(f"unknown hook kind {unknown[0]!r}: expected one of {', '.join(HOOK_KINDS)}")
    return frozenset(kinds)


def summary(event: HookEvent) -> str:
    """One line saying what an event is about, for logs."""
    data = event.data
    if event.kind == "alert":
        return f"alert {data.get('name')}: {data.get('message')}"
    first_line = str(data.get("error_message", "")).strip().split("\n", 1)[0][:300]
    return (
        f"{event.kind}: job {data.get('job_id')} ({data.get('task')}) dead after {data.get('attempts')} attempts: "
        f"{data.get('error_type')}: {first_line}"
    )


@dataclass(frozen=True)
class LoggingSink:
    """Logs one line per event; the whole event rides along as ``extra={"jobq_event": {...}}``."""

    logger: str = "jobq.hooks"
    level: int | str = logging.INFO
    kinds: Collection[HookKind] | None = None
    name: str = "logging"

    def __post_init__(self) -> None:
        level = self.level
        if isinstance(level, str):
            level = logging.getLevelNamesMapping().get(level.upper(), -1)
        if isinstance(level, bool) or not isinstance(level, int) or level < 0:
            raise JobqError(f"LoggingSink level must be a logging level, not {self.level!r}")
        object.__setattr__(self, "level", level)
        object.__setattr__(self, "kinds", kinds_of(self.kinds))

    def deliver(self, event: HookEvent) -> None:
        """Log the event."""
        logging.getLogger(self.logger).log(
            int(self.level), "hook %s %s", event.id, summary(event), extra={"jobq_event": event.to_dict()}
        )


@dataclass(frozen=True)
class CallableSink:
    """Calls a user's function with each event; an ``async def`` runs to completion on its own event loop."""

    function: Callable[[HookEvent], Any]
    kinds: Collection[HookKind] | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if not callable(self.function):
            raise JobqError(f"CallableSink needs a function, not {type(self.function).__name__}")
        if not self.name:
            label = getattr(self.function, "__qualname__", None) or type(self.function).__name__
            object.__setattr__(self, "name", f"callable {label}")
        object.__setattr__(self, "kinds", kinds_of(self.kinds))

    def deliver(self, event: HookEvent) -> None:
        """Call the function; what it raises is the delivery's failure."""
        result = self.function(event)
        if inspect.isawaitable(result):
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                asyncio.run(_awaited(result))
                return
            if inspect.iscoroutine(result):
                result.close()  # never awaited otherwise: close it rather than leak a warning
            raise DeliveryError(f"{self.name} is async and was called inside a running event loop")


async def _awaited(result: Any) -> None:
    await result
