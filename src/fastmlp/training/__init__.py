"""Training: the one loop that drives the engine (:mod:`.loop`), what a run records
(:mod:`.history`), what it does between epochs (:mod:`.callbacks`), the loss and gradient
computed outside the fused step (:mod:`.objective`), and ``MLP.fit``'s options (:mod:`.fit`).
"""
from .callbacks import Callback, EarlyStopping, EpochLogger, NoImprovement, ProgressBar
from .fit import fit
from .history import DivergenceWarning, History, StopTraining
from .loop import Run, best_of_restarts, restart_workers

__all__ = ["fit", "Run", "History", "Callback", "EarlyStopping", "NoImprovement",
           "ProgressBar", "EpochLogger", "StopTraining", "DivergenceWarning",
           "best_of_restarts", "restart_workers"]
