"""base.pool: one process-pool runner, results in job order, here or in workers."""

from __future__ import annotations

import os

import pytest

from base.pool import pool_map


def _square_and_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def _fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError(f"job {x} is bad")
    return x


@pytest.mark.parametrize("start_method", [None, "spawn"])
def test_results_come_in_job_order_from_other_processes(start_method):
    out = list(pool_map(_square_and_pid, range(20), 2, max_chunk=3, start_method=start_method))
    assert [v for v, _ in out] == [x * x for x in range(20)]
    assert os.getpid() not in {pid for _, pid in out}


def test_one_worker_or_one_job_runs_here():
    assert list(pool_map(_square_and_pid, range(4), 1)) == [(x * x, os.getpid()) for x in range(4)]
    assert list(pool_map(_square_and_pid, [5], 4)) == [(25, os.getpid())]
    assert list(pool_map(_square_and_pid, [], 4)) == []


def test_a_job_that_raises_reaches_the_caller():
    with pytest.raises(ValueError, match="job 3 is bad"):
        list(pool_map(_fail_on_three, range(6), 2))
