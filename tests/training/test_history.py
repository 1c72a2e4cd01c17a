"""History keeps its per-epoch figures in compact arrays behind list-like columns."""
import math
import pickle
import sys

import numpy as np

import fastmlp as fm
from fastmlp.training.history import EpochColumn, History


def test_columns_behave_like_the_lists_they_replace():
    h = History()
    h._extend(1, np.array([3.0, 2.0, 1.0]), 0.1, 0.5)
    h._append(4, {"loss": 0.5, "val_loss": 0.7, "lr": 0.1})
    assert len(h) == 4
    assert h.epoch == [1, 2, 3, 4] and h.loss == [3.0, 2.0, 1.0, 0.5]
    assert h.loss[-1] == 0.5 and type(h.loss[-1]) is float and type(h.epoch[0]) is int
    assert h.loss[1:3] == [2.0, 1.0] and isinstance(h.loss[1:3], list)
    assert list(h.lr) == [0.1, 0.1, 0.1, 0.1]
    assert math.isnan(h.val_loss[0]) and h.val_loss[3] == 0.7
    assert np.asarray(h.loss).dtype == np.float64
    assert [] + h.loss == h.loss + [] == [3.0, 2.0, 1.0, 0.5]
    curve = [9.0]
    curve += h.loss
    assert curve == [9.0, 3.0, 2.0, 1.0, 0.5]
    assert h.best_epoch == 4 and h.best_index == 3 and h.best_loss == 0.5
    assert h.history["val_loss"][3] == 0.7 and "val_score" not in h.history
    h._truncate(2)
    assert h.epoch == [1, 2] and h.loss == [3.0, 2.0] and len(h) == 2
    h._append(3, {"loss": 1.5})
    assert h.loss == [3.0, 2.0, 1.5]
    g = pickle.loads(pickle.dumps(h))
    assert g.loss == h.loss and g.epoch == h.epoch and len(g) == 3
    first = History()
    first._extend(1, np.array([5.0]), 0.2, 0.1)
    h._prepend(first)
    assert h.epoch == [1, 1, 2, 3] and h.loss == [5.0, 3.0, 2.0, 1.5]
    assert History().loss == [] and History().best_epoch is None


def test_a_long_run_is_stored_compactly():
    h = History()
    n = 2_000_000
    losses = np.linspace(1, 0, n)
    for i in range(4):
        h._extend(1 + i * n // 4, losses[i * n // 4:(i + 1) * n // 4], 0.1, 1e-6)
    assert len(h) == n and h.loss[-1] == 0.0 and h.epoch[-1] == n
    assert isinstance(h.loss, EpochColumn)
    # 7 columns of 8 bytes each, at most doubled by the amortised growth: no Python floats
    total = sum(v.nbytes for v in h._cols.values())
    assert total <= 2 * 7 * 8 * n
    assert sys.getsizeof(h.loss) < 1000


def test_fit_history_matches_the_epoch_count():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    y = np.array([0, 1, 1, 0])
    net = fm.MLP([2, 4, 1], activation="tanh", loss="logistic", seed=0)
    h = net.fit(X, y, optimizer=fm.optim.SGD(lr=0.5), epochs=50)
    assert h.epoch == list(range(1, 51)) and len(h.loss) == 50
    h2 = net.fit(X, y, epochs=3, validation_data=(X, y))
    assert h2.epoch == [51, 52, 53] and all(v == v for v in h2.val_loss)
