"""Learning-rate searches (fastmlp.training.lr_search): lr_sweep, lr_range_test and
lr='auto' -- candidates equal to separate fits, parallel equal to sequential, the same on any
thread count, divergence recorded, the model never changed, clear errors."""
import copy
import math
import pickle
import warnings

import numpy as np
import pytest

import fastmlp as fm
from fastmlp import datasets, optim
from fastmlp.training import History, LRSweepResult, SweepDivergedError
from fastmlp.training.lr_search import (AUTO_NUM, AUTO_REFINE, auto_epochs, check_lrs,
                                        default_lrs, refinement)


def _digits(n=400):
    X, y = datasets.load_digits(n_samples=n, seed=3, return_X_y=True)
    return X / 16.0, y


def _net(seed=0, **kw):
    return fm.MLP([64, 16, 10], activation="relu", loss="cross_entropy", seed=seed, **kw)


def _regression(n=200, scale=1.0):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 4)) * scale
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.1 * rng.normal(size=n)
    return X, y


def _state(model):
    """Everything a model is: its pickled state (parameters, optimiser, history, classes)."""
    return pickle.dumps(model)


def _curves_equal(a, b):
    assert np.array_equal(a.lrs, b.lrs)
    for x, y in zip(a.loss, b.loss):
        np.testing.assert_array_equal(x, y)
    if a.val_loss is not None or b.val_loss is not None:
        for x, y in zip(a.val_loss, b.val_loss):
            np.testing.assert_array_equal(x, y)
    assert a.diverged.tolist() == b.diverged.tolist()
    assert a.diverged_epoch == b.diverged_epoch
    assert a.lr == b.lr and a.index == b.index


# ---------------------------------------------------------------------------------------------
# lr_sweep
# ---------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:lr_sweep chose:UserWarning")     # extend=0 at an edge
@pytest.mark.parametrize("validation", [0.0, 0.25], ids=["train-loss", "validation"])
def test_each_candidate_is_exactly_a_fit_with_its_rate(validation):
    X, y = _digits()
    net = _net()
    sgd = optim.SGD(lr=0.5, momentum=0.5)
    lrs = [0.003, 0.03, 0.3]
    res = fm.lr_sweep(net, X, y, lrs, epochs=3, optimizer=sgd, batch_size=16,
                      validation_split=validation, extend=0)
    assert isinstance(res, LRSweepResult) and res.lrs.tolist() == lrs
    for i, lr in enumerate(lrs):
        m = copy.deepcopy(net)
        h = m.fit(X, y, optimizer=optim.SGD(lr=lr, momentum=0.5), batch_size=16, epochs=3,
                  validation_split=validation)
        assert res.histories[i].loss == h.loss
        np.testing.assert_array_equal(res.loss[i], h.loss)
        if validation:
            assert res.histories[i].val_loss == h.val_loss
            np.testing.assert_array_equal(res.val_loss[i], h.val_loss)
        else:
            assert res.val_loss is None
    assert res.monitor == ("val_loss" if validation else "loss")
    assert sgd.lr == 0.5 and sgd.state == {}            # the caller's optimiser is untouched


@pytest.mark.parametrize("refine", [0, 2])
def test_parallel_equals_sequential_and_every_thread_count(refine):
    X, y = _digits()
    net = _net(seed=4)
    kw = dict(epochs=2, batch_size=32, validation_split=0.2, refine=refine)
    par = fm.lr_sweep(net, X, y, n_threads=2, **kw)
    seq = fm.lr_sweep(net, X, y, n_threads=2, parallel=False, **kw)
    one = fm.lr_sweep(net, X, y, n_threads=1, **kw)
    assert par.workers == 2 and seq.workers == 1 and one.workers == 1
    _curves_equal(par, seq)
    _curves_equal(par, one)
    n_beyond = int(par.beyond.sum())         # rates past the grid's edge (extend=3)
    assert len(par.lrs) == 7 + 2 * refine + n_beyond
    assert sorted(par.stage[~par.beyond].tolist()) == sorted(
        [0] * 7 + [k for k in range(1, refine + 1) for _ in range(2)])


def test_the_model_is_left_unchanged():
    X, y = _digits()
    fresh = _net()
    trained = _net(seed=1)
    trained.fit(X, y, optimizer=optim.Adam(lr=1e-3), epochs=2)
    for net in (fresh, trained):
        before = _state(net)
        theta = net.theta.copy()
        res = fm.lr_sweep(net, X, y, [1e-4, 1e-3, 1e-2, 10.0], epochs=2, validation_split=0.2)
        fm.lr_range_test(net, X, y, num_steps=20)
        assert _state(net) == before
        np.testing.assert_array_equal(net.theta, theta)
    assert not hasattr(fresh, "classes_") and fresh.optimizer_ is None
    # a trained model sweeps its own optimiser (Adam here): the default grid is Adam's
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)        # extend=0: maybe at an edge
        res = fm.lr_sweep(trained, X, y, epochs=1, extend=0)
    np.testing.assert_allclose(res.lrs, default_lrs(optim.Adam()))


def test_divergence_is_recorded_per_rate_without_warnings():
    X, y = _regression(scale=30.0)
    net = fm.MLP([4, 8, 1], activation="relu", loss="square", seed=0)
    lrs = [1e-5, 1e-4, 10 ** -3.625, 1e-3]
    with warnings.catch_warnings():
        warnings.simplefilter("error", fm.DivergenceWarning)
        res = fm.lr_sweep(net, X, y, lrs, epochs=4, batch_size=20)
    assert res.diverged.tolist() == [False, False, True, True]
    assert res.diverged_epoch == [None, None, 2, 1]     # epochs count from 1
    for i in (2, 3):
        assert res.histories[i].diverged and len(res.histories[i]) + 1 == res.diverged_epoch[i]
        assert math.isinf(res.scores[i])
        with pytest.warns(fm.DivergenceWarning,
                          match=f"diverged in epoch {res.diverged_epoch[i]}:"):
            copy.deepcopy(net).fit(X, y, lr=lrs[i], batch_size=20, epochs=4)
    assert res.lr == 1e-4 and not res.diverged[res.index]
    assert res.largest_stable_lr == 1e-4
    assert "diverged in epoch 2" in res.table() and "diverged in epoch 1" in res.table()


def test_every_rate_diverging_is_a_clear_error_and_leaves_the_model_unchanged():
    X, y = _regression(scale=1e4)
    net = fm.MLP([4, 8, 1], activation="relu", loss="square", seed=0)
    before = _state(net)
    with pytest.raises(SweepDivergedError, match=r"every learning rate .* diverged .*smallest, "
                                                 r"0\.1, diverged in epoch 1") as exc:
        fm.lr_sweep(net, X, y, [0.1, 1.0, 10.0], epochs=2)
    assert isinstance(exc.value, FloatingPointError)
    assert exc.value.result.diverged.all() and exc.value.result.lr is None
    assert "no largest stable rate" in str(exc.value)
    assert _state(net) == before
    # lr='auto' the same: the model keeps its loss-less, class-less, untrained state (the
    # loss given to this fit included)
    bare = fm.MLP([4, 8, 1], activation="relu", seed=0)
    before = _state(bare)
    with pytest.raises(SweepDivergedError, match="every learning rate"):
        bare.fit(X, y, loss="square", lr="auto", epochs=5)
    assert _state(bare) == before and bare.loss is None


@pytest.mark.parametrize("lrs,error,match", [
    ([], ValueError, "empty"),
    ([0.1, -0.1], ValueError, r"positive finite.*lrs\[1\] is -0\.1"),
    ([0.1, 0.0], ValueError, "positive finite"),
    ([0.1, float("nan")], ValueError, "positive finite"),
    ([float("inf")], ValueError, "positive finite"),
    ("0.1", TypeError, "sequence of learning rates"),
    ([[0.1, 0.2]], ValueError, "1-D"),
    ([True, False], TypeError, "real numbers"),
    (["a"], TypeError, "real numbers"),
])
def test_bad_grids_are_refused(lrs, error, match):
    X, y = _digits(50)
    with pytest.raises(error, match=match):
        fm.lr_sweep(_net(), X, y, lrs, epochs=1)


def test_other_bad_arguments_are_refused():
    X, y = _digits(50)
    with pytest.raises(ValueError, match="no loss"):
        fm.lr_sweep(fm.MLP([64, 10]), X, y)
    with pytest.raises(ValueError, match="no loss"):
        fm.lr_range_test(fm.MLP([64, 10]), X, y)
    for kw, match in [(dict(epochs=0), "epochs"), (dict(rule="best"), "rule must be one of"),
                      (dict(num=0), "num"), (dict(refine=-1), "refine"),
                      (dict(parallel=1), "parallel"), (dict(n_threads=0), "n_threads"),
                      (dict(validation_split=1.5), "validation_split")]:
        with pytest.raises((ValueError, TypeError), match=match):
            fm.lr_sweep(_net(), X, y, **kw)
    for kw, match in [(dict(start_lr=1.0, end_lr=0.1), "smaller than"),
                      (dict(start_lr=-1.0), "start_lr"), (dict(end_lr=float("inf")), "end_lr"),
                      (dict(num_steps=1), "num_steps"), (dict(smooth=1.0), "smooth"),
                      (dict(diverge_factor=1.0), "diverge_factor"),
                      (dict(rule="valley"), "rule must be one of")]:
        with pytest.raises(ValueError, match=match):
            fm.lr_range_test(_net(), X, y, **kw)


def test_a_batch_larger_than_the_data_is_the_whole_set():
    X, y = _digits(50)
    big = fm.lr_sweep(_net(), X, y, [0.01, 0.1], epochs=2, batch_size=1000)
    full = fm.lr_sweep(_net(), X, y, [0.01, 0.1], epochs=2, batch_size=None)
    for a, b in zip(big.loss, full.loss):
        np.testing.assert_array_equal(a, b)


def test_default_grids_suit_the_optimiser():
    sgd = default_lrs("sgd")
    np.testing.assert_allclose(sgd, 10.0 ** np.arange(-3, 0.01, 0.5))
    np.testing.assert_allclose(default_lrs(optim.SGD(momentum=0.9)), sgd * 0.1)
    np.testing.assert_allclose(default_lrs("adam", num=4), [1e-4, 1e-3, 1e-2, 1e-1])
    np.testing.assert_allclose(default_lrs(None, num=4), [1e-3, 1e-2, 1e-1, 1.0])
    assert check_lrs([0.3, 0.1, 0.3]).tolist() == [0.1, 0.3]          # sorted, no repeats
    assert check_lrs(0.5).tolist() == [0.5]


def test_refinement_bisects_around_the_best_and_extends_past_an_end():
    lrs = [1e-3, 1e-2, 1e-1, 1.0]
    np.testing.assert_allclose(refinement(lrs, 2), [10 ** -1.5, 10 ** -0.5])
    np.testing.assert_allclose(refinement(lrs, 3), [10 ** -0.5, 10.0])
    np.testing.assert_allclose(refinement(lrs, 0), [1e-4, 10 ** -2.5])
    assert refinement([0.1], 0) == []


def _history(values, diverged=False, monitor="loss", mode="min"):
    h = History()
    h.monitor, h.monitor_mode = monitor, mode
    for i, v in enumerate(values):
        h._append(i, {"loss": v, "val_score": v})
    h.diverged = diverged
    return h


def test_the_rules():
    lrs = [0.01, 0.1, 0.3, 1.0]
    hs = [_history([2.0, 1.0]), _history([1.0, 0.50]), _history([0.9, 0.54]),
          _history([0.5, 0.1], diverged=True)]
    assert LRSweepResult(lrs, hs, 2, "min_loss").lr == 0.1
    res = LRSweepResult(lrs, hs, 2)                       # largest within 10 % of 0.50
    assert res.rule == "largest_near_min" and res.lr == 0.3 and res.index == 2
    assert "largest rate within 10 %" in res.reason and "2 epochs" in res.reason
    assert LRSweepResult(lrs, hs, 2, lambda r: 0).lr == 0.01
    with pytest.raises(ValueError, match="not a rate that trained"):
        LRSweepResult(lrs, hs, 2, lambda r: 3)
    # a score (higher is better) is compared as 1 - score
    sc = [_history([0.90], monitor="val_score", mode="max"),
          _history([0.95], monitor="val_score", mode="max"),
          _history([0.946], monitor="val_score", mode="max")]
    assert LRSweepResult(lrs[:3], sc, 1, "min_loss").lr == 0.1
    assert LRSweepResult(lrs[:3], sc, 1).lr == 0.3
    assert res.picture() == (0, 2, 3)


# ---------------------------------------------------------------------------------------------
# lr="auto" in MLP.fit
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("extra", [{}, {"early_stopping": 3}, {"restarts": 2}],
                         ids=["continued", "early-stopping", "restarts"])
def test_fit_auto_equals_a_fit_with_the_chosen_rate(extra):
    X, y = _digits()
    kw = dict(optimizer=optim.SGD(lr=0.01), batch_size=32, epochs=12, validation_split=0.2,
              **extra)
    a = _net(seed=2)
    ha = a.fit(X, y, lr="auto", **kw)
    s = ha.lr_search
    assert isinstance(s, LRSweepResult) and s.epochs == auto_epochs(12, 10) == 5
    assert len(s.lrs) == AUTO_NUM + 2 * AUTO_REFINE and s.lr == a.optimizer_.base_lr
    assert s.rule == "largest_near_min" and s.monitor == "val_loss"
    b = _net(seed=2)
    kw["optimizer"] = optim.SGD(lr=0.01)
    hb = b.fit(X, y, lr=s.lr, **kw)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert ha.loss == hb.loss and ha.val_loss == hb.val_loss and ha.epoch == hb.epoch
    assert a.epochs_trained_ == b.epochs_trained_
    assert ha.params["epochs"] == hb.params["epochs"] == 12


def test_fit_auto_is_the_same_on_any_thread_count():
    X, y = _regression()
    runs = []
    for nt in (1, 2):
        net = fm.MLP([4, 16, 1], activation="tanh", loss="square", seed=3)
        h = net.fit(X, y, lr="auto", optimizer="adam", epochs=20, n_threads=nt)
        runs.append((net.theta.copy(), h))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    _curves_equal(runs[0][1].lr_search, runs[1][1].lr_search)
    assert runs[0][1].lr_search.lr <= 0.1 * 10 ** 0.5           # Adam's grid, extended
    assert runs[0][1].loss == runs[1][1].loss


def test_fit_auto_options():
    X, y = _digits(100)
    with pytest.raises(ValueError, match="'auto'"):
        _net().fit(X, y, lr="fast")
    with pytest.raises(ValueError, match="epochs >= 1"):
        _net().fit(X, y, lr="auto", epochs=0)
    net = _net()
    h = net.fit(X, y, lr="auto", epochs=3)
    assert h.lr_search.monitor == "loss" and len(h) == 3
    assert net.fit(X, y, epochs=1).lr_search is None            # a later fit keeps the rate
    assert net.optimizer_.base_lr == h.lr_search.lr


# ---------------------------------------------------------------------------------------------
# the range test
# ---------------------------------------------------------------------------------------------
def test_range_test_rates_grow_per_batch_and_losses_are_those_of_the_steps():
    X, y = _regression(n=160)
    net = fm.MLP([4, 8, 1], activation="tanh", loss="square", seed=0)
    res = fm.lr_range_test(net, X, y, start_lr=1e-4, end_lr=10.0, num_steps=30, batch_size=16,
                           shuffle=False)
    ratios = res.lrs[1:] / res.lrs[:-1]
    np.testing.assert_allclose(ratios, (1e5) ** (1 / 29))
    assert res.lrs[0] == 1e-4
    # batch 0 at the initial weights; batch 1 after one SGD step with lrs[0] on batch 0
    m = copy.deepcopy(net)
    g0 = m.backward(m.forward(X[:16]), y[:16])
    assert res.loss[0] == pytest.approx(g0.loss, rel=1e-12)
    m.fit(X[:16], y[:16], optimizer=optim.SGD(lr=res.lrs[0]), batch_size=None, epochs=1,
          shuffle=False)
    assert res.loss[1] == pytest.approx(m.backward(m.forward(X[16:32]), y[16:32]).loss,
                                        rel=1e-12)
    assert res.stopped in ("exploded", "diverged")            # 10 is far too large here
    assert len(res.lrs) < 30 and len(res.loss) == len(res.smoothed) == len(res.lrs)
    assert res.lr == pytest.approx(res.lrs[res.min_index] / 10)
    steep = fm.lr_range_test(net, X, y, start_lr=1e-4, end_lr=10.0, num_steps=30,
                             batch_size=16, shuffle=False, rule="steepest")
    assert res.lrs[0] <= steep.lr <= res.lrs[res.min_index]
    np.testing.assert_array_equal(steep.loss, res.loss)


def test_range_test_is_the_same_on_any_thread_count_and_spans_epochs():
    X, y = _digits(200)
    a = fm.lr_range_test(_net(), X, y, num_steps=40, batch_size=32, n_threads=1,
                         diverge_factor=1e9)
    b = fm.lr_range_test(_net(), X, y, num_steps=40, batch_size=32, n_threads=2,
                         diverge_factor=1e9)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.lrs, b.lrs)
    assert a.lr == b.lr
    assert len(a.lrs) == 40 or a.stopped != "end"            # 7 batches/epoch: 6 epochs
    assert "LRRangeResult" in repr(a)


# ---------------------------------------------------------------------------------------------
# the loop's hooks the searches use
# ---------------------------------------------------------------------------------------------
def test_on_batch_end_returning_true_stops_after_that_batch():
    X, y = _digits(200)

    class StopAt:
        def __init__(self, n):
            self.n, self.seen = n, 0

        def on_batch_end(self, batch, logs):
            self.seen += 1
            return self.seen == self.n

    cb = StopAt(10)
    h = _net().fit(X, y, batch_size=32, epochs=5, callbacks=[cb])
    assert cb.seen == 10 and len(h) == 2                        # 7 batches, then 3 of 7


def test_load_digits_renders_mnist_shaped_images():
    d = datasets.load_digits(n_samples=30, seed=0, size=28)
    assert d.data.shape == (30, 784) and d.images.shape == (30, 28, 28)
    assert d.data.min() >= 0 and d.data.max() <= 16
    np.testing.assert_array_equal(datasets.load_digits(40, seed=2, size=8).data,
                                  datasets.load_digits(40, seed=2).data)
    with pytest.raises(ValueError, match="size"):
        datasets.load_digits(10, size=2)


# ---------------------------------------------------------------------------------------------
# the command line and the pictures
# ---------------------------------------------------------------------------------------------
def _cli(capsys, *argv):
    from fastmlp.cli import main
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_train_lr_auto_is_mlp_fit_lr_auto(capsys, tmp_path):
    X, y = _digits(200)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    from fastmlp.cli.train import split_rows
    tr, va = split_rows(y, 0.2, seed=0, stratify=True)    # the CLI's split (--seed 0)
    for split, fit_kw in ((["--no-shuffle-split"], dict(validation_split=0.2)),
                          ([], dict(validation_data=(X[va], y[va])))):
        rc, out, err = _cli(capsys, "train", tmp_path / "d.npz", "--lr", "auto", "--epochs",
                            10, "--validation-split", 0.2, *split,
                            "--output", tmp_path / "a.npz")
        assert rc == 0, err
        net = fm.MLP([64, 64, 10], activation="relu", output="softmax", loss="cross_entropy",
                     seed=0)
        Xf, yf = (X, y) if split else (X[tr], y[tr])
        h = net.fit(Xf, yf, loss="cross_entropy", optimizer="sgd", lr="auto", batch_size=32,
                    epochs=10, **fit_kw)
        np.testing.assert_array_equal(fm.load(tmp_path / "a.npz").theta, net.theta)
        assert f"learning rate: auto -> {h.lr_search.lr:.3g} ({h.lr_search.reason})" in out
    rc, out, err = _cli(capsys, "train", tmp_path / "d.npz", "--lr", "fast")
    assert rc == 2 and "expected a positive number or 'auto', got 'fast'" in err
    assert len(err.strip().splitlines()) == 1


def test_cli_demo_shows_three_learning_rates_and_draws_them(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    rc, out, err = _cli(capsys, "demo", "--quick", "--plot", tmp_path / "demo.png")
    assert rc == 0, err
    text = out.split("== 3.")[1]
    rows = [l.split() for l in text.splitlines() if l.strip().startswith(("too", "about"))]
    assert [r[0] + " " + r[1] for r in rows] == ["too small", "about right", "too large"]
    rates = [float(r[2].split("=")[1]) for r in rows]
    assert rates[0] < rates[1] < rates[2]
    finals = [float(r[-1]) for r in rows]        # final validation losses (no divergence)
    assert finals[1] < finals[0] and finals[1] < finals[2]
    assert (tmp_path / "demo.png").stat().st_size > 0
    assert (tmp_path / "demo-lr.png").stat().st_size > 0


def test_plots_of_a_sweep_and_a_range_test():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    X, y = _regression(scale=30.0)
    net = fm.MLP([4, 8, 1], activation="relu", loss="square", seed=0)
    res = fm.lr_sweep(net, X, y, [1e-5, 1e-4, 10 ** -3.625, 1e-3], epochs=4, batch_size=20)
    try:
        ax = res.plot()
        assert len(ax.get_legend().get_texts()) == 4
        assert "diverged in epoch 2" in " ".join(t.get_text() for t in ax.get_legend().get_texts())
        curves = [l for l in ax.get_lines() if len(l.get_xdata()) > 1]
        np.testing.assert_array_equal(curves[0].get_ydata(), res.loss[0])
        ax = res.plot(kind="final", indices=[0, 1, 2])
        assert ax.get_xscale() == "log"
        with pytest.raises(ValueError, match="kind"):
            res.plot(kind="bars")
        with pytest.raises(ValueError, match="indices"):
            res.plot(indices=[7])
        rt = fm.lr_range_test(net, X, y, num_steps=30, batch_size=20)
        ax = rt.plot()
        np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), rt.smoothed)
        suggested = next(l for l in ax.get_lines()
                         if l.get_label().startswith("suggested lr="))
        assert suggested.get_xdata()[0] == rt.lr
    finally:
        plt.close("all")


def test_range_test_that_diverges_at_once_is_a_clear_error():
    X, y = _regression(scale=1e200)            # the first loss already overflows
    net = fm.MLP([4, 8, 1], activation="relu", loss="square", seed=0)
    before = _state(net)
    with pytest.raises(FloatingPointError, match="first batch .*start lower"):
        fm.lr_range_test(net, X, y, start_lr=1.0, end_lr=10.0)
    assert _state(net) == before


# ---------------------------------------------------------------------------------------------
# the second hour: grid edges, the table in print(), readable figures
# ---------------------------------------------------------------------------------------------
def test_a_rate_chosen_at_the_grid_edge_extends_the_grid_or_warns():
    X, y = _digits()
    net = _net()
    lrs = [1e-4, 1e-3, 1e-2]                     # far too small: the largest wins
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # extending far enough: no warning
        res = fm.lr_sweep(net, X, y, lrs, epochs=2, batch_size=32, extend=5)
    assert len(res.lrs) > 3 and res.beyond.sum() == len(res.lrs) - 3
    np.testing.assert_allclose(res.lrs[res.beyond], 10.0 ** np.arange(-1, -1 + res.beyond.sum()))
    assert res.at_edge is None and res.lr > 1e-2
    assert "(beyond the grid)" in res.table() and "beyond the grid's edge" in res.reason
    with pytest.warns(UserWarning, match=r"lr_sweep chose lr=0\.01, the largest rate it tried "
                                         r"\(after 0 grid steps beyond the edge\): a larger "
                                         r"rate may be better"):
        res = fm.lr_sweep(net, X, y, lrs, epochs=2, batch_size=32, extend=0)
    assert res.at_edge == "largest" and res.lrs.tolist() == lrs
    with pytest.raises(ValueError, match="extend"):
        fm.lr_sweep(net, X, y, lrs, extend=-1)


def test_print_of_table_lr_and_reason_keeps_the_rate_off_the_table(capsys):
    X, y = _digits()
    res = fm.lr_sweep(_net(), X, y, [1e-3, 1e-2, 1e-1, 1.0, 10.0], epochs=2)
    assert res.table().endswith("\n")
    print(res.table(), res.lr, res.reason)
    lines = capsys.readouterr().out.splitlines()
    rows = res.table().splitlines()
    assert lines[:len(rows)] == rows                       # every row as table() has it
    assert lines[len(rows)].split()[0] == f"{res.lr}"      # the rate on a line of its own


def _inside(fig, artist, renderer):
    box = artist.get_window_extent(renderer)
    fb = fig.bbox
    return box.x0 >= fb.x0 - 1 and box.x1 <= fb.x1 + 1 and box.y0 >= fb.y0 - 1 \
        and box.y1 <= fb.y1 + 1


def test_sweep_and_range_figures_are_readable_when_saved(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    X, y = _digits()
    net = _net()
    try:
        res = fm.lr_sweep(net, X, y, [1e-2, 1e-1, 1.0, 30.0], epochs=3)
        ax = res.plot()
        fig = ax.figure
        fig.savefig(tmp_path / "sweep.png")                 # no bbox_inches: as users do
        renderer = fig.canvas.get_renderer()
        legend = ax.get_legend()
        lo, hi = ax.get_xlim()
        shown = [t for t, x in zip(ax.get_xticklabels(), ax.get_xticks()) if lo <= x <= hi]
        texts = [ax.xaxis.label, ax.yaxis.label, legend] + shown
        assert all(_inside(fig, t, renderer) for t in texts)
        # the legend sits beside the axes, over no curve
        assert legend.get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks)   # whole epochs
        rt = fm.lr_range_test(net, X, y, num_steps=60)
        ax = rt.plot()
        fig = ax.figure
        fig.savefig(tmp_path / "range.png")
        renderer = fig.canvas.get_renderer()
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert any("a tenth of the minimum's rate" in t and f"lr={rt.lr:.3g}" in t
                   for t in labels), labels
        assert f"minimum at lr={rt.lrs[rt.min_index]:.3g}" in labels
        assert _inside(fig, ax.get_legend(), renderer)
        assert _inside(fig, ax.xaxis.label, renderer)
    finally:
        plt.close("all")
