"""BatchPlan: the one place that cuts an epoch into batches."""
import numpy as np
import pytest

import fastmlp as fm
from fastmlp.training import Run
from fastmlp.training.batches import BatchPlan


@pytest.mark.parametrize("n, size, drop_last, n_batches, rows", [
    (10, 3, False, 4, 10), (10, 3, True, 3, 9), (9, 3, True, 3, 9), (9, 3, False, 3, 9),
    (2, 5, True, 1, 2), (1, 1, False, 1, 1)])
def test_batches_per_epoch_and_rows(n, size, drop_last, n_batches, rows):
    plan = BatchPlan.make(n, size, drop_last=drop_last)
    assert plan.size == min(size, n)
    assert (plan.n_batches, plan.rows) == (n_batches, rows)
    cut = list(plan.batches())
    assert len(cut) == n_batches
    assert sum(nb for _, nb in cut) == rows
    assert [s for s, _ in cut] == list(range(0, rows, plan.size))


def test_clipping_rules():
    assert BatchPlan.make(5, None).size == 5
    assert BatchPlan.make(5, 32).size == 5
    with pytest.raises(ValueError, match="batch_size"):
        BatchPlan.make(5, 0)
    with pytest.raises(TypeError, match="batch_size"):
        BatchPlan.make(5, 2.5)
    calls = []
    assert BatchPlan.make(5, 9, on_clip=lambda: calls.append(1)).size == 5
    assert BatchPlan.make(5, 0, on_clip=lambda: calls.append(2)).size == 1
    assert calls == [1]
    assert BatchPlan.make(5, 5, shuffle=True).in_order
    assert not BatchPlan.make(5, 2, shuffle=True).in_order
    assert BatchPlan.make(5, 2, shuffle=False).in_order


def test_zero_weight_batches_do_not_count():
    plan = BatchPlan.make(7, 3)
    w = np.array([0, 0, 0, 1, 0, 2, 0.0])
    assert plan.counted_rows(w, 7) == 3          # batches [3 rows: sum 0], [3: 3], [1: 0]
    assert plan.counted_rows(None, 7) == 7
    assert plan.counted_rows(w, 3) == 0


def test_run_takes_a_plan_and_checks_it():
    X = np.random.default_rng(0).normal(size=(8, 2))
    Y = X[:, :1].copy()
    net = fm.MLP([2, 3, 1], loss="square", seed=0)
    net2 = fm.MLP([2, 3, 1], loss="square", seed=0)
    plan = BatchPlan.make(8, 3, drop_last=True, shuffle=True)
    h1 = Run(net.engine, X, Y, optimizer=fm.optim.SGD(lr=0.1), plan=plan, epochs=3).execute()
    h2 = Run(net2.engine, X, Y, optimizer=fm.optim.SGD(lr=0.1), batch_size=3, drop_last=True,
             epochs=3).execute()
    assert h1.loss == h2.loss
    np.testing.assert_array_equal(net.theta, net2.theta)
    with pytest.raises(ValueError, match="plan is for 9 rows"):
        Run(net.engine, X, Y, optimizer=fm.optim.SGD(lr=0.1), plan=BatchPlan.make(9, 3),
            epochs=1)
