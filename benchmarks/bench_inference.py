"""asv: inference -- fastmlp's predict_proba and onnxruntime on the exported model, the models
of inference.py (mnist 784-128-10 float32, wide 784-1024-1024-10 float32, digits 64-64-10
float64) at batch 1, 64 and 4,096 on 1 and 2 threads (onnxruntime with idle threads that block,
and with its default spinning ones); how far onnxruntime's probabilities are from fastmlp's (a
wrong export shows up as a jump); that no row's bits depend on its batch; the packed weights'
size.

asv runs every benchmark in its own process, so the two runtimes are never interleaved.
The one-table comparison with PyTorch and NumPy as well is ``python benchmarks/inference.py``.
"""
import numpy as np

from . import inference as I


class _Base:
    params = [list(I.MODELS), list(I.BATCHES), list(I.THREADS)]
    param_names = ["model", "batch", "threads"]
    timeout = 300.0

    def _setup(self, peer, name, batch, threads):
        try:
            self.f, self.net = I.predictor(peer, name, threads)
        except ImportError as exc:         # onnxruntime not installed: skipped
            raise NotImplementedError(str(exc)) from None
        self.x = np.ascontiguousarray(I.rows(name)[:batch])
        self.f(self.x)


class TimeFastmlp(_Base):
    """Seconds for one ``MLP.predict_proba`` call on ``batch`` rows."""

    def setup(self, name, batch, threads):
        self._setup("fastmlp", name, batch, threads)

    def time_predict_proba(self, name, batch, threads):
        self.f(self.x)


class TimeOnnxruntime(_Base):
    """Seconds for one ``InferenceSession.run`` of the exported model on ``batch`` rows."""

    def setup(self, name, batch, threads):
        self._setup("onnxruntime", name, batch, threads)

    def time_predict_proba(self, name, batch, threads):
        self.f(self.x)


class TimeOnnxruntimeSpinning(_Base):
    """The same with onnxruntime's default thread pool, whose idle workers spin (the peer
    above sets ``session.intra_op.allow_spinning=0``)."""

    def setup(self, name, batch, threads):
        self._setup("ort-spin", name, batch, threads)

    def time_predict_proba(self, name, batch, threads):
        self.f(self.x)


class TrackBatchInvariance(_Base):
    """Rows of a 4,096-row prediction that differ (in any bit) from the same rows predicted
    one at a time and in batches of 64 (always 0: fastmlp's batch invariance)."""
    params = [list(I.MODELS)]
    param_names = ["model"]

    def setup(self, name):
        self._setup("fastmlp", name, 4096, 1)

    def track_rows_that_differ(self, name):
        full = self.f(self.x)
        ones = np.vstack([self.f(self.x[i:i + 1]) for i in range(0, 4096, 64)])
        b64 = np.vstack([self.f(self.x[i:i + 64]) for i in range(0, 4096, 64)])
        return int(np.sum(np.any(ones != full[::64], axis=1)) +
                   np.sum(np.any(b64 != full, axis=1)))

    track_rows_that_differ.unit = "rows"


class TrackPackedWeights(_Base):
    """Bytes of the inference weights a model packs once (reused by every prediction)."""
    params = [list(I.MODELS)]
    param_names = ["model"]

    def setup(self, name):
        self._setup("fastmlp", name, 64, 1)

    def track_packed_bytes(self, name):
        return int(self.net.engine.packed_nbytes)

    track_packed_bytes.unit = "bytes"


class TrackExport(_Base):
    """max |onnxruntime - fastmlp| / max |fastmlp| of the probabilities (float64 ~1e-16,
    float32 ~1e-7)."""
    params = [list(I.MODELS)]
    param_names = ["model"]

    def setup(self, name):
        self._setup("onnxruntime", name, 4096, 1)

    def track_onnx_relative_error(self, name):
        expect = self.net.predict_proba(self.x)
        return float(np.max(np.abs(self.f(self.x) - expect)) / np.max(np.abs(expect)))

    track_onnx_relative_error.unit = "relative error"
