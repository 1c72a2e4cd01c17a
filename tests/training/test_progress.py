"""Progress within an epoch: long epochs run as several engine calls over ranges of their
batches, with bitwise the same weights as one whole-epoch call."""
import copy
import re
import sys
import warnings

import numpy as np
import pytest

import fastmlp as fm
from fastmlp import optim
from fastmlp.training import ProgressBar


def _data(n=403, d=6, k=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.argmax(X @ rng.normal(size=(d, k)), axis=1)
    return X, y


class Progress:
    """Records every report; ``progress_interval=0`` makes every epoch run batch range by
    batch range (the smallest ranges: one batch each)."""

    def __init__(self, interval=0.0, interrupt_at=None):
        self.progress_interval = interval
        self.reports = []
        self.interrupt_at = interrupt_at

    def on_progress(self, epoch, done, n_batches, logs):
        self.reports.append((epoch, done, n_batches, logs["loss"]))
        if (epoch, done) == self.interrupt_at:
            raise KeyboardInterrupt

    def on_epoch_end(self, epoch, logs):
        return False


class EpochOnly:
    def on_epoch_end(self, epoch, logs):
        return False


CASES = {
    "shuffled": dict(batch_size=32),
    "short_last_batch_dropped": dict(batch_size=30, drop_last=True),
    "in_order": dict(batch_size=30, shuffle=False),
    "adam": dict(batch_size=16, optimizer=optim.Adam(lr=1e-2)),
    "momentum_l2": dict(batch_size=64, optimizer=optim.SGD(lr=0.05, momentum=0.9, l2=1e-3)),
    "validation": dict(batch_size=25, validation_split=0.2),
    "weighted": dict(batch_size=20, sample_weight="zeros_first"),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_epochs_in_batch_ranges_give_bitwise_the_same_weights(case, dtype):
    X, y = _data()
    kw = copy.deepcopy(CASES[case])
    if kw.get("sample_weight") == "zeros_first":
        # whole batches of weight 0 (skipped by the engine) at the start of an unshuffled run
        w = np.random.default_rng(1).uniform(0.5, 2, len(y))
        w[:40] = 0
        kw.update(sample_weight=w, shuffle=False)
    runs = {}
    for name, cb in (("ranges", Progress()), ("whole", EpochOnly())):
        net = fm.MLP([6, 9, 4], activation="tanh", loss="cross_entropy", dtype=dtype, seed=3)
        hist = net.fit(X, y, epochs=4, callbacks=[cb], **copy.deepcopy(kw))
        runs[name] = (net, hist, cb)
    (a, ha, prog), (b, hb, _) = runs["ranges"], runs["whole"]
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_allclose(ha.loss, hb.loss, rtol=1e-12)
    assert ha.val_loss == hb.val_loss or np.allclose(ha.val_loss, hb.val_loss, rtol=0,
                                                     equal_nan=True)
    # every batch reported, in order, epoch by epoch
    n_batches = prog.reports[0][2]
    assert [(e, d) for e, d, _, _ in prog.reports] == \
        [(e, d) for e in range(1, 5) for d in range(1, n_batches + 1)]
    # the last report of an epoch carries that epoch's mean loss
    for e in range(1, 5):
        last = [r for r in prog.reports if r[0] == e][-1]
        assert last[3] == pytest.approx(ha.loss[e - 1], rel=1e-12)


def test_a_bar_without_in_epoch_updates_leaves_short_epochs_whole():
    """With the default interval, epochs shorter than a second are single engine calls:
    only the first epoch (its length unknown) is cut, into a few growing ranges."""
    X, y = _data(2000)
    prog = Progress(interval=0.5)
    net = fm.MLP([6, 9, 4], loss="cross_entropy", seed=0)
    net.fit(X, y, epochs=5, batch_size=10, callbacks=[prog])
    epochs_reported = {e for e, *_ in prog.reports}
    assert epochs_reported == {1}
    firsts = [d for e, d, _, _ in prog.reports]
    assert firsts[0] == 1 and firsts[-1] == 200 and len(firsts) < 40   # ranges grow


def test_ctrl_c_inside_a_long_epoch_leaves_the_last_completed_epoch():
    X, y = _data()
    ref = fm.MLP([6, 9, 4], loss="cross_entropy", seed=0)
    ref.fit(X, y, epochs=2, batch_size=32)
    net = fm.MLP([6, 9, 4], loss="cross_entropy", seed=0)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        h = net.fit(X, y, epochs=5, batch_size=32, callbacks=[Progress(interrupt_at=(3, 4))])
    assert h.interrupted and len(h) == 2 and net.epochs_trained_ == 2
    np.testing.assert_array_equal(net.theta, ref.theta)


def test_divergence_inside_a_range_is_the_same_as_in_a_whole_epoch():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)) * 100
    y = X[:, 0] * 10
    out = []
    for cb in (Progress(), EpochOnly()):
        net = fm.MLP([3, 16, 1], activation="relu", loss="square", seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", fm.DivergenceWarning)
            h = net.fit(X, y, optimizer=optim.SGD(lr=10.0), epochs=20, batch_size=8,
                        callbacks=[cb])
        out.append((net.theta.copy(), h.diverged_epoch, len(h)))
    assert out[0][1:] == out[1][1:] and out[0][1] is not None
    np.testing.assert_array_equal(out[0][0], out[1][0])


def test_progress_on_the_per_batch_path():
    """A user-defined loss trains batch by batch; progress reports come from there."""
    X, y = _data(120)
    Y = np.eye(4)[y]

    class Half(fm.losses.SquareLoss):      # a Python loss: the per-batch path
        code = None

    prog = Progress()
    net = fm.MLP([6, 5, 4], loss=Half(), seed=0)
    h = net.fit(X, Y, epochs=2, batch_size=40, callbacks=[prog])
    assert h.params["per_batch"]
    assert [(e, d) for e, d, _, _ in prog.reports] == [(1, 1), (1, 2), (1, 3),
                                                       (2, 1), (2, 2), (2, 3)]


def _fallback_bar(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)


def test_the_plain_bar_advances_within_an_epoch(monkeypatch, capsys):
    _fallback_bar(monkeypatch)
    X, y = _data()
    net = fm.MLP([6, 9, 4], loss="cross_entropy", seed=0)
    net.fit(X, y, epochs=3, batch_size=100, callbacks=[ProgressBar(interval=0)])
    frames = capsys.readouterr().err.split("\r")
    shown = [re.search(r"epoch (\d+)/3 \[(=*) *\]", f) for f in frames if f.strip()]
    shown = [(int(m.group(1)), len(m.group(2))) for m in shown]
    assert len(shown) == 3 * (5 + 1)            # each of 5 batches, then the epoch's end
    assert shown[-1] == (3, 20)                 # full at the end
    assert shown == sorted(shown) and len(set(shown)) > 6   # it moved within epochs
    assert [e for e, _ in shown] == [1] * 6 + [2] * 6 + [3] * 6
    # the numbering continues on a second fit
    net.fit(X, y, epochs=2, batch_size=100, progress=True)
    assert "epoch 5/5" in capsys.readouterr().err


def test_the_tqdm_bar_counts_fractions_of_epochs(capsys):
    tqdm = pytest.importorskip("tqdm")
    X, y = _data()
    bar = ProgressBar(interval=0)
    seen = []
    real_update = tqdm.tqdm.update

    def update(self, n=1):
        seen.append(n)
        return real_update(self, n)

    tqdm.tqdm.update = update
    try:
        fm.MLP([6, 9, 4], loss="cross_entropy", seed=0).fit(X, y, epochs=2, batch_size=100,
                                                             callbacks=[bar])
    finally:
        tqdm.tqdm.update = real_update
    assert sum(seen) == pytest.approx(2.0)
    assert len(seen) == 2 * 5 + 2 and min(seen) >= 0
    assert "2.00/2 epochs" in capsys.readouterr().err


def test_progress_bar_arguments_are_checked():
    with pytest.raises(ValueError, match="interval"):
        ProgressBar(interval=-1)
