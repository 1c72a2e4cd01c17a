"""The names of the activations, losses and optimisers: one table per kind.

Each kind has canonical names (in the order of the C enums) and, for each canonical name,
its aliases. Every module resolves a user's name through these tables -- the models, the
losses, the optimisers, gradcheck, the command line and the NumPy reference -- so a name
means the same thing everywhere. Names are folded before the look-up: case is ignored and
'-' and ' ' count as '_'.

This module is pure Python (the NumPy reference imports it without the compiled engine).
The engine's numeric code of each canonical name comes from the C enums, as
``fastmlp._core.ACTIVATION_CODES``, ``LOSS_CODES`` and ``OPT_CODES``; activations.py,
losses.py and optim.py read them there.
"""

__all__ = ["NameTable", "ACTIVATION_NAMES", "LOSS_NAMES", "OPTIMIZER_NAMES", "LEAKY_ALPHA",
           "PRELU_INIT", "LOSS_OUTPUTS", "fused_output", "output_mismatch"]

LEAKY_ALPHA = 0.01
"""The default fixed slope of ``leaky_relu`` for z < 0 (the C engine's is ``FM_LEAKY_ALPHA``)."""

PRELU_INIT = 0.25
"""The default initial value of every learned PReLU slope."""

# loss -> (default output activation, allowed output activations): the one table of which
# outputs each loss takes. None: any output; "score": an output whose sign can be the class
# (one that can be negative: activations.py resolves it). A loss that allows exactly one
# output is fused with it (delta^L = (a - Y)/n), in C and in the reference alike.
LOSS_OUTPUTS = {
    "square": ("linear", None),
    "hinge": ("linear", "score"),
    "logistic": ("linear", "score"),
    "cross_entropy": ("softmax", ("softmax",)),
    "margin": ("linear", None),
    "poisson": ("exp", ("exp",)),
}


def fused_output(loss):
    """The one output activation the canonical ``loss`` requires (None: no such rule)."""
    allowed = LOSS_OUTPUTS[loss][1]
    return allowed[0] if isinstance(allowed, tuple) and len(allowed) == 1 else None


def output_mismatch(loss, output):
    """The message when the canonical ``loss`` cannot train the canonical ``output``
    activation under the fused rule (None when it can)."""
    need = fused_output(loss)
    if need is None or output == need:
        return None
    article = "an" if need[0] in "aeiou" else "a"
    return f"the {loss} loss needs {article} {need} output, got {output!r}"


def _fold(name):
    return name.strip().lower().replace("-", "_").replace(" ", "_")


class NameTable:
    """Canonical names of one kind, their aliases, and names refused as ambiguous.

    ``aliases``: {canonical name: tuple of aliases}, in canonical order.
    ``ambiguous``: {name: why it is refused and what to choose instead}.
    """

    def __init__(self, what, aliases, ambiguous=None):
        self.what = what
        self.names = tuple(aliases)
        self._aliases_of = {name: tuple(al) for name, al in aliases.items()}
        self.aliases = {a: name for name, al in self._aliases_of.items() for a in al}
        self.ambiguous = dict(ambiguous or {})
        self._resolved = {}         # names resolve() has accepted -> canonical (bounded)

    def aliases_of(self, name):
        """The aliases of the canonical ``name``."""
        return self._aliases_of[name]

    def get(self, name, default=None):
        """The canonical name for ``name`` (a name or an alias), or ``default``."""
        if not isinstance(name, str):
            return default
        key = _fold(name)
        key = self.aliases.get(key, key)
        return key if key in self._aliases_of else default

    def resolve(self, name, argname):
        """The canonical name for ``name``; a TypeError or ValueError naming the argument
        ``argname`` otherwise (the ValueError lists the valid names and aliases)."""
        if type(name) is str:
            hit = self._resolved.get(name)
            if hit is not None:
                return hit
        if not isinstance(name, str):
            article = "an" if self.what[0] in "aeiou" else "a"
            raise TypeError(f"{argname} must be {article} {self.what} name (str), got "
                            f"{type(name).__name__} {name!r}"[:200])
        key = _fold(name)
        if key in self.ambiguous:
            raise ValueError(f"{argname}: {name!r} is ambiguous: {self.ambiguous[key]}")
        canonical = self.get(key)
        if canonical is None:
            listed = ", ".join(f"{a}->{c}" for a, c in self.aliases.items())
            raise ValueError(f"{argname}: unknown {self.what} {name!r}; valid names are "
                             f"{', '.join(self.names)}" + (f" (aliases: {listed})" if listed
                                                             else ""))
        if type(name) is str and len(self._resolved) < 256:
            self._resolved[name] = canonical
        return canonical


ACTIVATION_NAMES = NameTable("activation", {
    "step": ("heaviside", "unit_step", "threshold"),
    "sign": ("signum",),
    "linear": ("identity", "none"),
    "piecewise_linear": ("piecewise", "hard_linear", "saturated_linear", "satlin"),
    "sigmoid": ("logistic", "logistic_sigmoid"),
    "tanh": ("hyperbolic_tangent",),
    "relu": ("rectifier",),
    "leaky_relu": ("leaky", "leakyrelu", "lrelu"),
    "prelu": ("parametric_relu",),
    "softmax": ("softargmax",),
    "exp": ("exponential",),
})

_LOG_LOSS = ("it means the logistic loss for one output and the softmax cross-entropy for "
             "several classes (as in scikit-learn's MLPClassifier); choose 'logistic' (one "
             "logistic output per class/label) or 'cross_entropy' (softmax over the classes)")

LOSS_NAMES = NameTable("loss", {
    "square": ("squared", "squared_error", "mse", "l2", "quadratic"),
    "hinge": ("svm",),
    "logistic": ("binary_crossentropy", "bce"),
    "cross_entropy": ("ce", "crossentropy", "categorical_crossentropy", "softmax", "nll"),
    "margin": ("large_margin", "multiclass_hinge", "multi_margin", "weston_watkins"),
    "poisson": ("poisson_deviance", "half_poisson_deviance"),
}, ambiguous={"log_loss": _LOG_LOSS, "logloss": _LOG_LOSS, "log": _LOG_LOSS})

OPTIMIZER_NAMES = NameTable("optimizer", {
    "sgd": (),
    "adam": (),
})
