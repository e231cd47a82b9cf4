"""Any JSON value within the payload rule comes back equal, type for type, on every backend: enqueued, then
dead-lettered (by import), then replayed. PostgreSQL keeps the text verbatim (json, not jsonb)."""

from __future__ import annotations

import io
import json
import math
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jobq
from jobq.job import DeadLetter, DeadLetterId
from jobq.payload import MAX_DEPTH
from jobq.serialize import dead_letter_to_dict
from tests.conftest import BACKENDS, backend_url, postgres_schema

SPECIAL_FLOATS = [-0.0, 0.0, 1e16, 1.5e300, 5e-324, -1.7976931348623157e308, 0.1, 1.0, 2.5e-10]
SPECIAL_INTS = [0, -1, 2**53 + 1, 2**63, 2**70, -(2**100), 10**300]

text = st.text(alphabet=st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=20)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(SPECIAL_INTS)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(SPECIAL_FLOATS)
    | text
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=16
)


def same(expected: Any, actual: Any) -> bool:
    """Equal and of the same type all the way down (1, 1.0 and True are equal in Python, not here)."""
    if type(expected) is not type(actual):
        return False
    if isinstance(expected, float):
        return repr(expected) == repr(actual)  # tells -0.0 from 0.0
    if isinstance(expected, list):
        return len(expected) == len(actual) and all(map(same, expected, actual))
    if isinstance(expected, dict):
        return list(expected) == list(actual) and all(same(item, actual[key]) for key, item in expected.items())
    return bool(expected == actual)


def test_same_tells_types_apart() -> None:
    assert same({"a": [1, 2.5, None]}, {"a": [1, 2.5, None]})
    assert not same(1, 1.0) and not same(1, True) and not same(0.0, -0.0) and not same({"a": 1}, {"a": 1.0})


@pytest.fixture(scope="module", params=BACKENDS)
def shared_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[jobq.App]:
    """One app per backend for the whole module: examples add jobs, they never need an empty queue."""
    if request.param != "postgres":
        with jobq.App(backend_url(request.param, tmp_path_factory.mktemp("roundtrip"))) as app:
            yield app
        return
    with postgres_schema() as url, jobq.App(url) as app:
        yield app


def _dead_letter_of(app: jobq.App, job: jobq.Job) -> str:
    """``job`` as a dead letter, through ``app.dlq.import_``; its id."""
    letter = DeadLetter(
        id=DeadLetterId(f"dl-{uuid.uuid4().hex}"), job_id=job.id, task=job.task, queue=job.queue,
        payload=job.payload, attempts=1, max_attempts=1, error_type="RuntimeError", error_message="boom",
        error_traceback="", error_class="unknown", fingerprint="f", failed_at=datetime.now(UTC),
    )  # fmt: skip
    line = json.dumps(dead_letter_to_dict(letter), ensure_ascii=False)
    assert app.dlq.import_(io.StringIO(line + "\n")) == 1
    return letter.id


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(args=st.lists(values, max_size=3), kwargs=st.dictionaries(text, values, max_size=3))
def test_any_json_value_comes_back_type_for_type_enqueued_dead_lettered_and_replayed(
    shared_app: jobq.App, args: list[Any], kwargs: dict[str, Any]
) -> None:
    sent = {"args": args, "kwargs": kwargs}
    job = shared_app.get_job(shared_app.enqueue("roundtrip.echo", kwargs, args=args))
    assert job is not None and job.payload_note is None
    assert same(sent, job.payload), (sent, job.payload)

    letter = shared_app.dlq.get(DeadLetterId(_dead_letter_of(shared_app, job)))
    assert letter is not None
    assert same(sent, letter.payload), (sent, letter.payload)

    replayed = shared_app.get_job(shared_app.dlq.replay(letter.id))
    assert replayed is not None
    assert same(sent, replayed.payload), (sent, replayed.payload)


def test_numbers_jsonb_would_change_come_back_as_written(shared_app: jobq.App) -> None:
    numbers = [*SPECIAL_FLOATS, *SPECIAL_INTS]
    job = shared_app.get_job(shared_app.enqueue("roundtrip.echo", args=[numbers]))
    assert job is not None
    assert same({"args": [numbers], "kwargs": {}}, job.payload), job.payload
    assert all(not isinstance(value, float) or math.isfinite(value) for value in job.payload["args"][0])


def test_a_payload_nested_exactly_to_the_limit_comes_back_whole(shared_app: jobq.App) -> None:
    deep: Any = "bottom"
    for level in range(MAX_DEPTH):
        deep = [deep] if level % 2 else {"k": deep}
    job = shared_app.get_job(shared_app.enqueue("roundtrip.echo", {"deep": deep}))
    assert job is not None and job.payload_note is None and same({"args": [], "kwargs": {"deep": deep}}, job.payload)


def test_a_worker_receives_and_dead_letters_the_payload_as_written(app: jobq.App) -> None:
    tricky: dict[str, Any] = {
        "floats": SPECIAL_FLOATS,
        "ints": SPECIAL_INTS,
        "text": "é\u2028😀\\u0000",
        "nested": [{"a": [True]}],
    }
    received: list[dict[str, Any]] = []

    @app.task(name="roundtrip.refuse", max_attempts=1)
    def refuse(**values: Any) -> None:
        received.append(values)
        raise jobq.Permanent("refused on purpose")

    job_id = refuse.enqueue(**tricky)
    app.run_worker(burst=True, install_signal_handlers=False)
    assert len(received) == 1 and same(tricky, received[0]), received
    (letter,) = app.dlq.list(with_payload=True)
    assert letter.job_id == job_id and same({"args": [], "kwargs": tricky}, letter.payload), letter.payload
    replayed = app.get_job(app.dlq.replay(letter.id))
    assert replayed is not None and same(letter.payload, replayed.payload)
