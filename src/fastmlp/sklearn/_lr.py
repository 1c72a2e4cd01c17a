"""``learning_rate_init='auto'`` (fastmlp's extension to scikit-learn's parameters): before
training, a short learning-rate sweep (:func:`fastmlp.training.lr_search.sweep`, the one
``MLP.fit(lr='auto')`` runs) on copies of the first network, each candidate trained by the
estimator's own stochastic solver for a tenth of ``max_iter`` epochs (1 to 10, at least
50 steps); the
estimator then trains with the chosen rate, kept in ``learning_rate_init_``, the sweep in
``lr_search_``."""
from __future__ import annotations

import copy
import dataclasses

from ..training.lr_search import auto_epochs, auto_sweep
from ._network import batch_plan

__all__ = ["search_learning_rate"]


def search_learning_rate(est, net, split, s, n_threads, t0):
    """The Settings ``s`` with the learning rate a sweep chose for ``est`` (sets
    ``est.lr_search_`` and ``est.learning_rate_init_``)."""
    template = net.new_optimizer(dataclasses.replace(s, learning_rate_init=1.0))
    e = auto_epochs(s.max_iter, batch_plan(split[0].shape[0], s).n_batches)

    def train_one(lr, threads):
        cand = copy.deepcopy(net)
        si = dataclasses.replace(s, learning_rate_init=lr, max_iter=e)
        hist = est.train_network(cand, split, si, n_threads if threads is None else threads,
                                  False, t0, quiet=True)
        return hist, None

    # the grid in scikit-learn's units: SGD's rate is divided by the plan's gradient scale
    result, _ = auto_sweep(train_one, template, n_threads, e,
                           net.plan.gscale if s.solver == "sgd" else 1.0, f"solver={s.solver!r}")
    est.lr_search_ = result
    est.learning_rate_init_ = result.lr
    return dataclasses.replace(s, learning_rate_init=result.lr)
