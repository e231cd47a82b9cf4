"""The recovery queue's schedule: recoverable dead letters are replayed after a growing cool-down.

A dead letter of class ``recoverable`` enters ``pending_recovery`` with a ``recover_at`` time; a worker
replays it then. If the replay dies again, the new dead letter links to the old one (``previous_id``)
and waits for the next round, until ``rounds`` automatic replays have been spent: then it stays
``open`` for a human. A replay that succeeds marks its dead letter ``recovered``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RecoveryPolicy:
    """Cool-down before the first automatic replay, its growth factor, and how many rounds at most."""

    cooldown: float = 300.0
    factor: float = 2.0
    rounds: int = 3

    def __post_init__(self) -> None:
        if self.cooldown < 0 or self.factor < 1 or self.rounds < 0:
            raise ValueError("recovery needs cooldown >= 0, factor >= 1 and rounds >= 0")

    def delays(self) -> tuple[float, ...]:
        """The cool-down of each round, in seconds: round r waits ``cooldown * factor ** r``."""
        return tuple(self.cooldown * self.factor**round_ for round_ in range(self.rounds))


NO_RECOVERY = RecoveryPolicy(rounds=0)
"""Recoverable dead letters stay open, like any other."""


@dataclass(frozen=True, slots=True)
class RecoveryPlan:
    """Where a new dead letter starts: its resolution, when it is due for replay, and its round."""

    resolution: str
    recover_at: float | None
    round: int | None


def plan_recovery(delays: tuple[float, ...], *, recoverable: bool, prior_round: int | None, at: float) -> RecoveryPlan:
    """The plan for a dead letter failing at ``at``, whose replayed predecessor was in ``prior_round``."""
    if not recoverable:
        return RecoveryPlan("open", None, None)
    round_ = 0 if prior_round is None else prior_round + 1
    if round_ >= len(delays):
        return RecoveryPlan("open", None, round_)  # out of automatic replays: a human decides
    return RecoveryPlan("pending_recovery", at + delays[round_], round_)
