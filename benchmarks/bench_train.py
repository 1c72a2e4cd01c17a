"""asv: training time, peak memory and final loss per workload (see workloads.py).

Each benchmark trains a fresh model for a small fixed number of epochs (``ASV_EPOCHS``) on
the full workload, samples reshuffled every epoch.  ``track_final_loss_*`` records the last
epoch's mean training loss with a fixed seed and no shuffling, so fastmlp and the reference
do the same arithmetic: a kernel that gets fast by getting wrong shows up as a jump in
loss, and as a gap between the two.
"""
from . import workloads as W

ASV_EPOCHS = {"xor": 500}       # xor: 500 full-batch steps; every other workload: 1 epoch


def _epochs(name):
    return ASV_EPOCHS.get(name, 1)


class _Base:
    params = [W.NAMES]
    param_names = ["workload"]
    timeout = 300.0

    def setup(self, name):
        self.w = W.WORKLOADS[name]
        self.data = W.get_data(name)          # cached per process, made on first use
        self.epochs = _epochs(name)

    def _fit(self, peer, **kw):
        X, y, Y = self.data
        return W.FITTERS[peer](self.w, X, y, Y, self.epochs, seed=0, **kw)


class TimeFit(_Base):
    """Seconds for one fit of ASV_EPOCHS epochs (the same work for every peer)."""
    repeat = (1, 10, 20.0)

    def time_fit_fastmlp(self, name):
        self._fit("fastmlp")

    def time_fit_engine(self, name):
        self._fit("engine")

    def time_fit_reference(self, name):
        self._fit("reference")

    def time_fit_numpy(self, name):
        self._fit("numpy")


class PeakMemFit(_Base):
    """Peak RSS of the process (asv's peakmem) around one fastmlp fit."""

    def peakmem_fit_fastmlp(self, name):
        self._fit("fastmlp")


class TrackLoss(_Base):
    """Mean training loss over the last epoch, seed 0, samples in their stored order
    (shuffle=False, so both see the same batches from the same initial weights): fastmlp
    must match its reference (float64 to ~1e-10, float32 to ~1e-4 relative)."""

    def track_final_loss_fastmlp(self, name):
        return self._fit("fastmlp", shuffle=False)

    def track_final_loss_reference(self, name):
        return self._fit("reference", shuffle=False)

    track_final_loss_fastmlp.unit = "loss"
    track_final_loss_reference.unit = "loss"


class TrackThroughput(_Base):
    """Samples per second (xor: steps per second) of one fastmlp fit, as compare.py reports
    (after one warm-up fit in setup)."""

    def setup(self, name):
        super().setup(name)
        self._fit("fastmlp")

    def track_samples_per_s_fastmlp(self, name):
        import time
        n = self.data[0].shape[0]
        steps = -(-n // self.w.batch)
        t0 = time.perf_counter()
        self._fit("fastmlp")
        dt = time.perf_counter() - t0
        return (self.epochs * (steps if name == "xor" else n)) / dt

    track_samples_per_s_fastmlp.unit = "samples/s"
