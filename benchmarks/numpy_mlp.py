"""A careful NumPy MLP trainer: the benchmarks' `numpy` peer.

The same maths as ``fastmlp.reference.train`` (same initialisation, same permutation per
epoch, same loss and plain-SGD update), written for speed the way an experienced NumPy user
would: every buffer (z, a, delta of each layer, dW, db, the gathered batch) is allocated
once per fit, element-wise work runs as in-place ufuncs with ``out=``, and every product is
one ``np.matmul(..., out=)`` (one BLAS call). ``fastmlp.reference`` stays the readable
oracle; this is what a user would measure fastmlp against.

Supports what the workloads need: hidden sigmoid / tanh / relu, output softmax (with the
cross entropy), sigmoid or linear (with the square loss).
"""
import numpy as np


class _Layer:
    __slots__ = ("W", "b", "Z", "A", "D", "dW", "db", "act", "mask")


def _act_inplace(act, Z, A, mask):
    if act == "relu":
        np.maximum(Z, 0, out=A)
    elif act == "tanh":
        np.tanh(Z, out=A)
    elif act == "sigmoid":                 # 1/(1+exp(-z)) = (1 + tanh(z/2)) / 2: no overflow
        np.multiply(Z, 0.5, out=A)
        np.tanh(A, out=A)
        A += 1
        A *= 0.5
    elif act == "linear":
        if A is not Z:
            np.copyto(A, Z)
    elif act == "softmax":
        mx = Z.max(axis=1, keepdims=True)
        np.subtract(Z, mx, out=A)
        np.exp(A, out=A)
        A /= A.sum(axis=1, keepdims=True)
    else:
        raise ValueError(f"numpy peer: activation {act!r} not supported")


def _deriv_mul_inplace(act, A, D, tmp):
    """D *= sigma'(z), written with a = sigma(z)."""
    if act == "relu":
        np.greater(A, 0, out=tmp, casting="unsafe")
        D *= tmp
    elif act == "tanh":
        np.multiply(A, A, out=tmp)
        np.subtract(1, tmp, out=tmp)
        D *= tmp
    elif act == "sigmoid":
        np.subtract(1, A, out=tmp)
        tmp *= A
        D *= tmp
    elif act != "linear":
        raise ValueError(f"numpy peer: activation {act!r} not supported")


class NumpyMLP:
    """Preallocated training state for one network and batch size."""

    def __init__(self, sizes, acts, loss, batch, dtype, weights, biases):
        self.dtype = np.dtype(dtype)
        self.loss = loss
        self.batch = batch
        self.n_in, self.n_out = sizes[0], sizes[-1]
        self.layers = []
        for l, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            L = _Layer()
            L.W, L.b = weights[l], biases[l]
            L.Z = np.empty((batch, b), self.dtype)
            L.A = np.empty((batch, b), self.dtype)
            L.D = np.empty((batch, b), self.dtype)
            L.mask = np.empty((batch, b), self.dtype)
            L.dW = np.empty((a, b), self.dtype)
            L.db = np.empty(b, self.dtype)
            L.act = acts[l]
            self.layers.append(L)
        self.Xb = np.empty((batch, self.n_in), self.dtype)
        self.Yb = np.empty((batch, self.n_out), self.dtype)

    def step(self, X, Y, lr):
        """One SGD step on rows X, Y (n <= batch); returns the batch's mean loss."""
        n = X.shape[0]
        a = X
        for L in self.layers:                        # forward: one matmul per layer
            Z, A = L.Z[:n], L.A[:n]
            np.matmul(a, L.W, out=Z)
            Z += L.b
            _act_inplace(L.act, Z, A, L.mask[:n])
            a = A
        out = self.layers[-1]
        Z, A, D = out.Z[:n], out.A[:n], out.D[:n]
        # loss value and delta^L (grad / n), as the reference: cross entropy with softmax
        # uses the fused (P - Y) / n; the square loss 2 (a - y) / n times sigma'
        if self.loss == "cross_entropy":
            # -sum Y * log_softmax(z) = -sum Y * (z - max - log sum exp(z - max))
            mx = Z.max(axis=1, keepdims=True)
            T = out.mask[:n]
            np.subtract(Z, mx, out=T)
            lse = np.log(np.exp(T).sum(axis=1, keepdims=True))
            T -= lse
            T *= Y
            loss = float(-T.sum() / n)
            np.subtract(A, Y, out=D)
            D /= self.dtype.type(n)
        elif self.loss == "square":
            np.subtract(Y, A, out=D)
            loss = float(np.einsum("ij,ij->", D, D) / n)
            D *= self.dtype.type(-2)
            D /= self.dtype.type(n)
            _deriv_mul_inplace(out.act, A, D, out.mask[:n])
        else:
            raise ValueError(f"numpy peer: loss {self.loss!r} not supported")
        lrt = self.dtype.type(lr)
        for i in range(len(self.layers) - 1, -1, -1):   # backward, then the update
            L = self.layers[i]
            D = L.D[:n]
            aprev = X if i == 0 else self.layers[i - 1].A[:n]
            np.matmul(aprev.T, D, out=L.dW)
            np.sum(D, axis=0, out=L.db)
            if i > 0:
                P = self.layers[i - 1]
                Dp = P.D[:n]
                np.matmul(D, L.W.T, out=Dp)             # W still the pre-update weights
                _deriv_mul_inplace(P.act, P.A[:n], Dp, P.mask[:n])
            L.dW *= lrt
            L.W -= L.dW
            L.db *= lrt
            L.b -= L.db
        return loss


def train(X, Y, sizes, acts, loss, lr, epochs, batch_size, seed=0, dtype=np.float64,
          shuffle=True):
    """Same contract as ``fastmlp.reference.train`` (mini-batch SGD, the last short batch
    kept, a fresh ``rng.permutation`` per epoch); returns the epoch losses."""
    from fastmlp import reference
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(seed)
    weights, biases, _ = reference.init_params(list(sizes), list(acts), seed=rng, dtype=dtype)
    X = np.ascontiguousarray(X, dtype=dtype)
    Y = np.ascontiguousarray(Y, dtype=dtype)
    n = X.shape[0]
    B = min(batch_size, n)
    net = NumpyMLP(sizes, acts, loss, B, dtype, weights, biases)
    hist = []
    for _ in range(epochs):
        perm = rng.permutation(n) if (shuffle and B < n) else None
        total = 0.0
        for s in range(0, n, B):
            m = min(B, n - s)
            if perm is None:
                xb, yb = X[s:s + m], Y[s:s + m]
            else:
                idx = perm[s:s + m]
                xb, yb = net.Xb[:m], net.Yb[:m]
                np.take(X, idx, axis=0, out=xb)
                np.take(Y, idx, axis=0, out=yb)
            total += net.step(xb, yb, lr) * m
        hist.append(total / n)
    return hist
