"""Tasks: a registered function, its options, and the way to enqueue calls of it."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, ParamSpec, Protocol, TypeVar

from jobq.errors import PayloadError
from jobq.job import JobId, Payload
from jobq.offload import Offload
from jobq.retry import Backoff

P = ParamSpec("P")
R = TypeVar("R")

ExceptionTypes = tuple[type[BaseException], ...]


class Producer(Protocol):
    """What a task asks of its app (``jobq.App``): to queue its calls, and the names of the app's dependencies."""

    @property
    def dependencies(self) -> Mapping[str, Any]: ...

    @property
    def offload(self) -> Offload: ...

    def enqueue(
        self,
        task: str,
        kwargs: Mapping[str, Any] | None = None,
        *,
        args: Sequence[Any] = (),
        queue: str | None = None,
        tenant: str | None = None,
        key: str | None = None,
        delay: float | timedelta | None = None,
        run_at: datetime | None = None,
        priority: int | None = None,
        unique_key: str | None = None,
    ) -> JobId: ...

    def enqueue_many(
        self,
        task: str,
        calls: Iterable[Mapping[str, Any]],
        *,
        tenant: str | None = None,
        delay: float | timedelta | None = None,
        priority: int | None = None,
        queue: str | None = None,
    ) -> list[JobId]: ...


@dataclass(frozen=True, slots=True)
class TaskOptions:
    """How jobs of a task are queued, retried and timed out."""

    queue: str
    max_attempts: int
    backoff: Backoff
    timeout: float | None
    priority: int
    retry_on: ExceptionTypes
    dead_on: ExceptionTypes


class Task(Generic[P, R]):
    """A function registered with an app. Call it to run it here; ``enqueue`` it to run it in a worker."""

    def __init__(self, app: Producer, fn: Callable[P, R], name: str, options: TaskOptions) -> None:
        self.app = app
        self.fn = fn
        self.name = name
        self.options = options
        self.is_async = inspect.iscoroutinefunction(fn)
        self.signature = inspect.signature(fn)
        parameters = self.signature.parameters.values()
        # Collaborators are injected into keyword-only parameters, so enqueueing never has to supply them.
        self.injectable = frozenset(p.name for p in parameters if p.kind is p.KEYWORD_ONLY)
        # Most handlers take plain named parameters: check those with set operations, not Signature.bind.
        self._named_only = all(p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in parameters)
        self._names = frozenset(p.name for p in parameters)
        self._positional = tuple(p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD)
        self._required = frozenset(p.name for p in parameters if p.default is p.empty)
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Task {self.name} queue={self.options.queue!r}>"

    def enqueue(
        self,
        *args: Any,
        _tenant: str | None = None,
        _key: str | None = None,
        _delay: float | timedelta | None = None,
        _run_at: datetime | None = None,
        _priority: int | None = None,
        _unique_key: str | None = None,
        _queue: str | None = None,
        **kwargs: Any,
    ) -> JobId:
        """Queue one call; returns the job id (the pending job's id when ``_unique_key`` is taken)."""
        return self.app.enqueue(
            self.name, kwargs, args=args, tenant=_tenant, key=_key, delay=_delay, run_at=_run_at,
            priority=_priority, unique_key=_unique_key, queue=_queue,
        )  # fmt: skip

    async def enqueue_async(self, *args: Any, **kwargs: Any) -> JobId:
        """``enqueue`` for coroutines, with its options: ``await send_sms.enqueue_async(to=..., _tenant=...)`` runs
        ``enqueue`` on the app's offload threads, so the event loop never waits."""
        return await self.app.offload(self.enqueue, *args, **kwargs)

    def enqueue_many(
        self,
        calls: Iterable[Mapping[str, Any]],
        *,
        tenant: str | None = None,
        delay: float | timedelta | None = None,
        priority: int | None = None,
        queue: str | None = None,
    ) -> list[JobId]:
        """Queue many calls (each a mapping of keyword arguments) in one transaction."""
        return self.app.enqueue_many(self.name, calls, tenant=tenant, delay=delay, priority=priority, queue=queue)

    def check_arguments(self, args: Sequence[Any], kwargs: Mapping[str, Any], *, at_enqueue: bool) -> None:
        """Raise PayloadError when the handler could not accept these arguments.

        At enqueue, keyword-only parameters and those named like the app's dependencies may be left out:
        a worker injects them.
        """
        injectable = self.injectable | (self._names & self.app.dependencies.keys()) if at_enqueue else frozenset()
        required = self._required - injectable
        if self._named_only and len(args) <= len(self._positional):
            filled = self._positional[: len(args)]  # the parameters the positional arguments fill
            if not kwargs.keys() & filled:
                given = kwargs.keys() | filled
                if given <= self._names and required <= given:
                    return
        left_out = injectable - kwargs.keys()
        provided = {name: None for name in left_out}
        try:
            self.signature.bind(*args, **kwargs, **provided)
        except TypeError as exc:
            raise PayloadError(f"task {self.name} cannot take this payload: {exc}") from None

    def call_arguments(self, payload: Payload, dependencies: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """The arguments to call the handler with: the payload plus the dependencies it asks for by name."""
        args: list[Any] = payload.get("args", [])
        kwargs: dict[str, Any] = dict(payload.get("kwargs", {}))
        for name in self.signature.parameters:
            if name in dependencies and name not in kwargs:
                kwargs[name] = dependencies[name]
        self.check_arguments(args, kwargs, at_enqueue=False)
        return args, kwargs
