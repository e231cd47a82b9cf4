"""The seam between the shared SQL store and one database: sessions, placeholders, values, named statements.

Everything the store does is written once, in ``jobq.backends.store``, against this seam; each dialect
(``sqlite/seam.py``, ``postgres/seam.py``) supplies it in a few lines. Statement texts stay in each dialect's
``.sql`` files, under the same names on both: the store asks for a statement by name, never builds one
(except the whitelisted filter conditions of ``records.dead_letter_conditions``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from jobq.job import NewJob
from jobq.tally import Key as TallyKey

Row = Mapping[str, Any]
Params = Mapping[str, Any]


class Session(Protocol):
    """One connection, inside a transaction or not: statements in, rows (as mappings) out."""

    def rows(self, sql: str, params: Params | None = None) -> Sequence[Row]:
        """Every row the statement returns."""

    def row(self, sql: str, params: Params | None = None) -> Row | None:
        """The first row the statement returns, or None."""

    def run(self, sql: str, params: Params | None = None) -> int:
        """Run a statement; the rows it changed."""

    def run_each(self, sql: str, params: Sequence[Params]) -> None:
        """Run a statement once per parameter set (pipelined where the driver can)."""

    def first_each(self, sql: str, params: Sequence[Params]) -> list[Row | None]:
        """Run a statement once per parameter set; the first row of each run, or None."""

    def add_to_tally(self, tally: Mapping[TallyKey, float]) -> None:
        """Add to counters and buckets (the dialect's way: arrays in one statement, or one upsert each)."""

    def insert_job(self, job: NewJob) -> None:
        """Enqueue one job (a replay, a periodic tick) in this session's transaction."""

    def notify(self, queues: Sequence[str]) -> None:
        """Wake the workers of ``queues`` when this transaction commits (where the database does not by itself)."""


class Seam(Protocol):
    """What the shared store needs from one database."""

    sql: Mapping[str, str]
    """Every named statement of the dialect."""
    search: str
    """The condition matching ``:search`` anywhere in a letter's message, taken literally."""

    def read(self) -> AbstractContextManager[Session]:
        """A session for reads."""

    def write(self, *, one_statement: bool = False) -> AbstractContextManager[Session]:
        """A write transaction; ``one_statement`` where one statement is atomic by itself (no BEGIN needed)."""

    def param(self, name: str) -> str:
        """A named placeholder in the driver's style (``:name`` or ``%(name)s``)."""

    def array(self, values: Sequence[str]) -> Any:
        """A list of texts as one parameter (a JSON array on SQLite, a text[] on PostgreSQL)."""

    def search_value(self, text: str) -> str:
        """The ``:search`` value for ``text``."""

    def text(self, value: str) -> str:
        """A text as this database can store it."""

    def event_json(self, value: Mapping[str, Any]) -> str:
        """An alert's event as the JSON text the outbox stores."""
