"""Django tasks of the test project, defined as a Django user writes them (module level, ``@task``)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from django.tasks import TaskContext, task

ran: list[str] = []
"""What ran in this process, in order (the in-process worker's tasks append to it)."""
gate = threading.Event()
"""Holds ``wait_for_gate`` until a test opens it."""


@task
def add(a: int, b: int) -> int:
    ran.append(f"add {a} {b}")
    return a + b


@task(priority=10, queue_name="reports")
def report(name: str, *, rows: int = 0) -> dict[str, Any]:
    ran.append(f"report {name}")
    return {"name": name, "rows": rows, "ratio": 0.5}


@task
async def fetch(url: str) -> str:
    await asyncio.sleep(0.01)
    ran.append(f"fetch {url}")
    return f"fetched {url}"


@task(takes_context=True)
def attempt_twice(context: TaskContext, label: str) -> dict[str, Any]:
    """Fails its first attempt, then returns what its context says."""
    ran.append(f"attempt {context.attempt}")
    if context.attempt < 2:
        raise ConnectionError(f"{label}: provider unreachable")
    return {"attempt": context.attempt, "id": context.task_result.id, "status": str(context.task_result.status)}


@task
def explode(order: int) -> None:
    raise ValueError(f"order {order} has no lines")


@task
def needs_file(path: str) -> str:
    """Fails until the file exists: a failure an operator fixes, then replays."""
    return Path(path).read_text()


@task
def opaque() -> object:
    return object()


@task
def wait_for_gate() -> str:
    gate.wait(10)
    return "through"


@task
def refuse(email: str) -> None:
    from django.core.exceptions import ValidationError

    raise ValidationError(f"not an address: {email}")
