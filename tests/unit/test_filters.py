"""The typed dead-letter filters of the public API stay in step with the storage contract's filter."""

from dataclasses import fields
from typing import Any

import pytest

import jobq
from jobq.backends.contract import DeadLetterFilter
from jobq.filters import DeadLetterFilters


def test_typed_filters_name_exactly_the_fields_of_the_storage_filter() -> None:
    assert DeadLetterFilters.__optional_keys__ == {field.name for field in fields(DeadLetterFilter)}


def test_a_misspelt_filter_still_fails_at_run_time_for_untyped_callers() -> None:
    untyped: dict[str, Any] = {"tenat": "acme"}
    with jobq.App("sqlite:///:memory:") as app, pytest.raises(TypeError, match="tenat"):
        app.dlq.list(**untyped)
