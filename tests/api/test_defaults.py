"""Defaults a newcomer meets first: batch_size on small data, a model without a loss, the
epoch numbering, seeded randomness."""
import re
import warnings

import numpy as np
import pytest

import fastmlp as fm
from fastmlp import optim

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
XOR_Y = np.array([0, 1, 1, 0])


def _blobs(n=60, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    X = rng.normal(size=(n, 4)) + 3 * np.eye(4)[y % 4]
    return X, y


# ---- batch_size larger than the training set -------------------------------------------------
def test_batch_size_larger_than_the_data_is_the_whole_set():
    """The default batch_size=32 on XOR's 4 samples trains full-batch: the same weights as
    batch_size=None, bit for bit, with no warning."""
    a = fm.MLP([2, 4, 1], activation="tanh", loss="logistic", seed=0)
    b = fm.MLP([2, 4, 1], activation="tanh", loss="logistic", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ha = a.fit(XOR_X, XOR_Y, optimizer=optim.SGD(lr=0.5), epochs=50)   # batch_size=32
    hb = b.fit(XOR_X, XOR_Y, optimizer=optim.SGD(lr=0.5), batch_size=None, epochs=50)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert ha.loss == hb.loss
    assert ha.params["batch_size"] == hb.params["batch_size"] == 4


def test_batch_size_is_clipped_to_the_training_part_after_validation_split():
    X, y = _blobs(50)
    a = fm.MLP([4, 5, 3], loss="cross_entropy", seed=1)
    b = fm.MLP([4, 5, 3], loss="cross_entropy", seed=1)
    ha = a.fit(X, y, batch_size=1000, epochs=3, validation_split=0.2)
    b.fit(X, y, batch_size=40, epochs=3, validation_split=0.2)
    assert ha.params["batch_size"] == 40
    np.testing.assert_array_equal(a.theta, b.theta)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        a.fit(X, y, batch_size=0)


# ---- a model without a loss ------------------------------------------------------------------
def test_a_model_without_a_loss_refuses_to_guess_and_names_the_losses():
    X, y = _blobs()
    net = fm.MLP([4, 16, 3], seed=0)
    theta = net.theta.copy()
    with pytest.raises(ValueError) as exc:
        net.fit(X, y)
    msg = str(exc.value)
    assert "loss='cross_entropy'" in msg and "loss='square'" in msg
    assert "3 distinct labels" in msg                  # the hint drawn from y
    np.testing.assert_array_equal(net.theta, theta)    # nothing trained
    assert net.loss is None and net.epochs_trained_ == 0
    # string labels get the same hint; real-valued targets get none
    with pytest.raises(ValueError, match="3 distinct labels"):
        net.fit(X, np.array(["a", "b", "c"])[y])
    with pytest.raises(ValueError, match="no loss") as exc:
        fm.MLP([4, 1], seed=0).fit(X, X[:, 0] * 0.37)
    assert "distinct" not in str(exc.value)
    # the same rule for backward
    with pytest.raises(ValueError, match="loss='cross_entropy'"):
        net.backward(net.forward(X), y)
    # given to fit, the loss is kept for later calls
    net.fit(X, y, loss="cross_entropy", epochs=2)
    assert net.loss.name == "cross_entropy"
    net.fit(X, y, epochs=1)
    assert net.epochs_trained_ == 3


def test_square_loss_with_labels_for_several_outputs_points_at_cross_entropy():
    X, y = _blobs()
    with pytest.raises(ValueError, match="loss='cross_entropy'"):
        fm.MLP([4, 16, 3], loss="square", seed=0).fit(X, y)


# ---- one epoch numbering ---------------------------------------------------------------------
def test_epochs_are_numbered_from_one_everywhere(capsys):
    X, y = _blobs()
    seen = []

    class Rec:
        def on_epoch_end(self, epoch, logs):
            seen.append(epoch)

    net = fm.MLP([4, 6, 3], loss="cross_entropy", seed=0)
    h = net.fit(X, y, epochs=3, batch_size=16, verbose=2, callbacks=[Rec()])
    out = capsys.readouterr().out
    assert h.epoch == seen == [1, 2, 3]
    assert re.findall(r"^epoch (\d+)/3", out, re.M) == ["1", "2", "3"]
    assert net.epochs_trained_ == h.epoch[-1] == 3
    # a continued fit continues the numbering; best_epoch is one of those numbers
    h2 = net.fit(X, y, epochs=2, batch_size=16, validation_split=0.25, verbose=2)
    out = capsys.readouterr().out
    assert h2.epoch == [4, 5]
    assert re.findall(r"^epoch (\d+)/5", out, re.M) == ["4", "5"]
    assert h2.best_epoch == h2.epoch[h2.best_index]
    assert h2.val_loss[h2.best_index] == min(h2.val_loss)
    # the whole-run engine call numbers them the same way
    h3 = fm.MLP([4, 6, 3], loss="cross_entropy", seed=0).fit(X, y, epochs=3, batch_size=16)
    assert h3.params["single_call"] and h3.epoch == [1, 2, 3]
    assert h3.best_epoch == int(np.argmin(h3.loss)) + 1


@pytest.mark.parametrize("single_call", [True, False])
def test_the_diverged_epoch_is_the_one_the_warning_names(single_call):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)) * 100
    y = X[:, 0] * 10
    net = fm.MLP([3, 16, 1], activation="relu", loss="square", seed=0)
    cbs = None if single_call else [fm.training.EpochLogger()]
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        h = net.fit(X, y, optimizer=optim.SGD(lr=10.0), epochs=50, batch_size=8,
                    callbacks=cbs)
    assert h.params["single_call"] is single_call
    msgs = [str(w.message) for w in rec if issubclass(w.category, fm.DivergenceWarning)]
    assert len(msgs) == 1 and h.diverged
    # the epochs recorded are the completed ones; the diverged one is the next
    assert h.diverged_epoch == len(h) + 1
    assert f"diverged in epoch {h.diverged_epoch}:" in msgs[0]


# ---- seeded randomness -----------------------------------------------------------------------
def test_a_seeded_perceptron_repeats_itself():
    scores = {fm.Perceptron(2, 1, seed=s).fit(XOR_X, XOR_Y, epochs=100).score(XOR_X, XOR_Y)
              for s in [0] * 5}
    assert len(scores) == 1
    p = fm.Perceptron(2, 1, seed=0).fit(XOR_X, XOR_Y, epochs=100)
    assert not p.converged_ and p.score(XOR_X, XOR_Y) < 1
