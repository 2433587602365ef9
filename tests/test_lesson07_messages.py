"""Lesson 7's failure messages describe strategies and PerReplica values in one line."""

from __future__ import annotations

from gradlab.course.catalogue import lesson
from gradlab.course.exercise import exercises_of
from gradlab.course.judge import check_exercise, reference_functions


def _exercise(number: int):
    return exercises_of(7)[number - 1]


def test_a_wrong_reduction_is_described_without_object_addresses_or_multiline_reprs():
    def mean_instead_of_sum(strategy, per_replica_grads):
        return [strategy.reduce("MEAN", g, axis=None) for g in per_replica_grads]

    verdict = check_exercise(_exercise(3), mean_instead_of_sum, reference_functions(lesson(7)))
    text = str(verdict)
    call = next(line for line in text.splitlines() if line.strip().startswith("call"))
    assert "MirroredStrategy(4 replicas)" in call
    assert "per_replica_grads=[PerReplica(tf.Tensor(" in call
    assert "object at 0x" not in text
    assert "PerReplica:{" not in text
