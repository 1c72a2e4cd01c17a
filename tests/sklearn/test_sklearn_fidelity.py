"""fastmlp.sklearn as a drop-in: signatures, fitted attributes, errors, warnings (text and
the line they point at), partial_fit, L-BFGS, the Poisson loss, divergence and the HTML
documentation link, each compared with scikit-learn's own estimator."""
import inspect
import io
import os
import subprocess
import sys
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest

pytest.importorskip("sklearn")
import sklearn  # noqa: E402
from sklearn import linear_model as sklm  # noqa: E402
from sklearn import neural_network as sknn  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

import fastmlp  # noqa: E402
from fastmlp import DivergenceWarning  # noqa: E402
from fastmlp.sklearn import MLPClassifier, MLPRegressor, Perceptron  # noqa: E402
from fastmlp.sklearn._compat import SKLEARN_VERSION  # noqa: E402
from sklearn_messages import norm_message  # noqa: E402

PAIRS = [(MLPClassifier, sknn.MLPClassifier), (MLPRegressor, sknn.MLPRegressor),
         (Perceptron, sklm.Perceptron)]
IDS = ["MLPClassifier", "MLPRegressor", "Perceptron"]
# scikit-learn 1.7 added sample_weight to the MLPs (partial_fit: before ``classes``) and
# loss="poisson"; fastmlp follows the newest order and options on every release it supports
SK17 = SKLEARN_VERSION >= (1, 7)
needs_sk17 = pytest.mark.skipif(not SK17, reason="the scikit-learn estimator compared with "
                                "has no sample_weight / poisson before 1.7")


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def _same_weights(ours, theirs, rtol=1e-9):
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * max(1.0, np.abs(b).max()))


# ---------------------------------------------------------------------------------------
# the same API
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("ours,theirs", PAIRS, ids=IDS)
def test_constructor_is_sklearns_followed_by_fastmlps_own(ours, theirs):
    if ours is MLPRegressor and not SK17:
        pytest.skip("scikit-learn's MLPRegressor has its loss parameter since 1.7")
    mine = list(inspect.signature(ours.__init__).parameters.values())[1:]
    sk = list(inspect.signature(theirs.__init__).parameters.values())[1:]
    assert [(p.name, p.default, p.kind) for p in mine[:len(sk)]] == \
        [(p.name, p.default, p.kind) for p in sk]
    extras = {p.name for p in mine[len(sk):]}
    assert extras <= {"loss", "restarts", "n_threads", "dtype", "activation", "batch_size",
                      "report", "on_divergence"}


@needs_sk17
@pytest.mark.parametrize("ours,theirs", PAIRS, ids=IDS)
def test_every_public_method_with_sklearns_arguments_in_order(ours, theirs):
    est, sk = ours(), theirs()
    for name in dir(sk):
        if name.startswith("_") or not callable(getattr(sk, name)):
            continue
        assert hasattr(est, name), name
        mine = list(inspect.signature(getattr(est, name)).parameters)
        want = list(inspect.signature(getattr(sk, name)).parameters)
        assert mine[:len(want)] == want, name


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("ours,theirs", PAIRS[:2], ids=IDS[:2])
def test_fitted_attributes_are_sklearns(iris, solver, ours, theirs):
    X, y = iris
    params = dict(hidden_layer_sizes=(5,), solver=solver, max_iter=15, random_state=0,
                  early_stopping=solver == "adam")
    a, b = _quiet(ours(**params).fit, X, y), _quiet(theirs(**params).fit, X, y)
    public = {k for k in vars(b) if k.endswith("_") and not k.startswith("_")}
    for k in public:
        assert hasattr(a, k), k
        va, vb = getattr(a, k), getattr(b, k)
        assert type(va) is type(vb) or (np.isscalar(va) and np.isscalar(vb)), (k, va, vb)
    assert a.t_ == b.t_ and a.n_iter_ == b.n_iter_
    assert a.out_activation_ == b.out_activation_ and a.n_layers_ == b.n_layers_


def test_perceptron_fitted_attributes_are_sklearns(iris):
    X, y = iris
    a, b = Perceptron().fit(X, y), sklm.Perceptron().fit(X, y)
    for k in ("classes_", "coef_", "intercept_", "n_features_in_", "n_iter_", "t_"):
        assert type(getattr(a, k)) is type(getattr(b, k)), k


# ---------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------
BAD_MLP = [dict(solver="rmsprop"), dict(alpha=-1.0), dict(batch_size=0),
           dict(batch_size="big"), dict(learning_rate="cyclic"), dict(learning_rate_init=0.0),
           dict(power_t=-0.5), dict(max_iter=0), dict(max_iter=2.5), dict(tol=-1e-3),
           dict(momentum=1.5), dict(validation_fraction=1.0), dict(beta_1=1.0),
           dict(beta_2=-0.1), dict(epsilon=0.0), dict(n_iter_no_change=0), dict(max_fun=0),
           dict(shuffle="yes"), dict(hidden_layer_sizes="10"), dict(early_stopping=1.5)]


@pytest.mark.parametrize("bad", BAD_MLP, ids=lambda d: str(d))
@pytest.mark.parametrize("ours,theirs", PAIRS[:2], ids=IDS[:2])
def test_invalid_parameters_raise_sklearns_error(iris, ours, theirs, bad):
    X, y = iris
    with pytest.raises((ValueError, TypeError)) as sk_err:
        theirs(**bad).fit(X, y)
    with pytest.raises(type(sk_err.value)) as our_err:
        ours(**bad).fit(X, y)
    assert norm_message(our_err.value) == norm_message(sk_err.value)


def test_fastmlp_parameters_are_checked(iris):
    X, y = iris
    for bad in (dict(activation="swish"), dict(activation="softmax"), dict(loss="huber"),
                dict(restarts=0), dict(n_threads=0), dict(dtype="int8")):
        with pytest.raises(ValueError):
            MLPClassifier(**bad).fit(X, y)
    assert MLPClassifier(activation="ReLU", max_iter=2).fit(X, y).n_iter_ == 2
    with pytest.raises(ValueError, match="y >= 0"):
        MLPRegressor(loss="poisson").fit(X, X[:, 0])


def test_partial_fit_classes_rules_match_sklearn(iris):
    X, y = iris
    calls = [lambda E: E().partial_fit(X, y),                         # no classes
             lambda E: E().partial_fit(X, y, classes=[0, 1]),         # y outside classes
             lambda E: E(solver="sgd").partial_fit(X[:40], y[:40], classes=[0, 1, 2])
             .partial_fit(X, y, classes=[0, 1])]                      # classes changed
    for call in calls:
        with pytest.raises(ValueError) as sk_err:
            _quiet(call, sknn.MLPClassifier)
        with pytest.raises(ValueError) as our_err:
            call(MLPClassifier)
        assert str(our_err.value) == str(sk_err.value)
    with pytest.raises(ValueError, match="early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="third argument of partial_fit is sample_weight"):
        MLPClassifier().partial_fit(X, y, [0, 1, 2])         # the order before 1.7


@needs_sk17
def test_partial_fit_positional_order_is_sklearns(iris):
    """scikit-learn >= 1.7: partial_fit(X, y, sample_weight, classes)."""
    X, y = iris
    sw = np.random.RandomState(0).uniform(0.5, 2, len(y))
    params = dict(hidden_layer_sizes=(6,), solver="sgd", random_state=0, shuffle=False,
                  momentum=0.5, learning_rate_init=0.05)
    a, b = MLPClassifier(**params), sknn.MLPClassifier(**params)
    for est in (a, b):
        est.partial_fit(X[:75], y[:75], sw[:75], [0, 1, 2])
        est.partial_fit(X[75:], y[75:], sw[75:])
    _same_weights(a, b)
    r1, r2 = MLPRegressor(**params), sknn.MLPRegressor(**params)
    for est in (r1, r2):
        est.partial_fit(X, y * 1.0, sw)
    _same_weights(r1, r2)


# ---------------------------------------------------------------------------------------
# warnings: sklearn's text, pointing at the caller's line
# ---------------------------------------------------------------------------------------
def _one_warning(fn, category):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fn()
    got = [w for w in rec if w.category is category]
    assert len(got) == 1, [str(w.message) for w in rec]
    return got[0]


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_convergence_warning_text_and_line(iris, solver):
    X, y = iris
    params = dict(hidden_layer_sizes=(5,), solver=solver, max_iter=3, random_state=0)
    mine = _one_warning(lambda: MLPClassifier(**params).fit(X, y), ConvergenceWarning)
    theirs = _one_warning(lambda: sknn.MLPClassifier(**params).fit(X, y), ConvergenceWarning)
    if solver != "lbfgs" or SK17:      # scikit-learn 1.7 reworded the L-BFGS message
        assert str(mine.message) == str(theirs.message)
    assert mine.filename == __file__            # the caller's line, not fastmlp's
    assert "sklearn" in theirs.filename         # scikit-learn points into its own code
    p = _one_warning(lambda: Perceptron(max_iter=2).fit(X, y), ConvergenceWarning)
    q = _one_warning(lambda: sklm.Perceptron(max_iter=2).fit(X, y), ConvergenceWarning)
    assert str(p.message) == str(q.message) and p.filename == __file__


def test_batch_size_clipping_warns_like_sklearn(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(3,), batch_size=1000, max_iter=1)
    mine = _one_warning(lambda: MLPClassifier(**params).fit(X, y), UserWarning)
    theirs = _one_warning(lambda: sknn.MLPClassifier(**params).fit(X, y), UserWarning)
    assert str(mine.message) == str(theirs.message) and mine.filename == __file__


def test_grid_search_prints_as_many_warnings_as_sklearn(iris):
    """One ConvergenceWarning per fit, as scikit-learn's estimator (12 folds x configs + the
    refit), each attributed to the line in scikit-learn that called fit."""
    X, y = iris
    grid = {"alpha": [1e-4, 1e-2], "learning_rate_init": [1e-3, 1e-2]}
    counts, files = [], []
    for est in (MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0),
                sknn.MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0)):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            GridSearchCV(est, grid, cv=3, n_jobs=1).fit(X, y)
        conv = [w for w in rec if issubclass(w.category, ConvergenceWarning)]
        counts.append(len(conv))
        files.append({os.path.basename(w.filename) for w in conv})
    assert counts[0] == counts[1] == 13
    assert files[0] <= {"_validation.py", "_search.py"}      # where fit was called


def test_grid_search_n_jobs_2_prints_like_sklearn(tmp_path):
    """The README's grid-search snippet with n_jobs=2 (warnings printed by the workers):
    as many ConvergenceWarning lines on stderr as with scikit-learn's estimator, none of
    them pointing into fastmlp."""
    script = tmp_path / "gs.py"
    script.write_text(
        "import sys\n"
        "from sklearn.datasets import load_iris\n"
        "from sklearn.model_selection import GridSearchCV\n"
        "X, y = load_iris(return_X_y=True)\n"
        "if sys.argv[1] == 'fastmlp':\n"
        "    from fastmlp.sklearn import MLPClassifier\n"
        "else:\n"
        "    from sklearn.neural_network import MLPClassifier\n"
        "GridSearchCV(MLPClassifier(hidden_layer_sizes=(4,), max_iter=2),\n"
        "             {'activation': ['relu', 'tanh']}, cv=3, n_jobs=2).fit(X, y)\n")
    lines = {}
    for which in ("fastmlp", "sklearn"):
        out = subprocess.run([sys.executable, str(script), which], capture_output=True,
                             text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        lines[which] = [ln for ln in out.stderr.splitlines() if "ConvergenceWarning" in ln]
    assert len(lines["fastmlp"]) == len(lines["sklearn"]) == 7
    assert not any(os.sep + "fastmlp" + os.sep in ln for ln in lines["fastmlp"])


def test_verbose_output_is_sklearns(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(5,), solver="sgd", alpha=0.0, shuffle=False,
                  random_state=0, max_iter=50, tol=1e-2, n_iter_no_change=2, verbose=True,
                  learning_rate_init=0.01)
    outs = []
    for cls in (MLPClassifier, sknn.MLPClassifier):
        buf = io.StringIO()
        with redirect_stdout(buf):
            _quiet(cls(**params).fit, X, y)
        outs.append(buf.getvalue().splitlines())
    assert outs[0][-1].endswith("consecutive epochs. Stopping.")
    assert outs[0] == outs[1]


# ---------------------------------------------------------------------------------------
# solvers and losses
# ---------------------------------------------------------------------------------------
def test_lbfgs_leaves_t_at_zero_and_matches_sklearn(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=30, random_state=0,
                  alpha=1e-3)
    a, b = _quiet(MLPClassifier(**params).fit, X, y), _quiet(sknn.MLPClassifier(**params).fit,
                                                             X, y)
    assert a.t_ == b.t_ == 0 and a.n_iter_ == b.n_iter_
    assert a.loss_ == pytest.approx(b.loss_, rel=1e-6)
    _same_weights(a, b, rtol=1e-6)


@needs_sk17
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_poisson_regressor_matches_sklearn(solver):
    rs = np.random.RandomState(0)
    X = rs.randn(150, 4)
    y = rs.poisson(np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1])).astype(float)
    sw = rs.uniform(0.2, 2.0, len(y))
    params = dict(loss="poisson", hidden_layer_sizes=(7,), solver=solver, shuffle=False,
                  random_state=0, max_iter=6, learning_rate_init=0.01, batch_size=32,
                  alpha=1e-3)
    for fit_kw in ({}, {"sample_weight": sw}):
        a = _quiet(MLPRegressor(**params).fit, X, y, **fit_kw)
        b = _quiet(sknn.MLPRegressor(**params).fit, X, y, **fit_kw)
        assert a.out_activation_ == b.out_activation_ == "exp"
        _same_weights(a, b)
        np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-9)
        assert np.all(a.predict(X) > 0)


@needs_sk17
def test_divergence_with_early_stopping_keeps_sklearns_best_weights(iris):
    """scikit-learn trains on with NaN weights and restores the best validation epoch; the
    one policy stops at the failing step with a DivergenceWarning and restores the same
    epoch: the same final weights, the same scores up to the divergence."""
    X, y = iris
    params = dict(hidden_layer_sizes=(50,), solver="sgd", learning_rate_init=1.0,
                  momentum=0.99, early_stopping=True, random_state=0, max_iter=60,
                  n_iter_no_change=60, shuffle=False)
    theirs = _quiet(sknn.MLPClassifier(**params).fit, X * 1e3, y)
    assert not np.isfinite(theirs.loss_curve_).all()           # it did diverge
    with pytest.warns(DivergenceWarning, match="diverged") as rec:
        ours = MLPClassifier(**params).fit(X * 1e3, y)
    assert rec[0].filename == __file__
    assert ours.n_iter_ < theirs.n_iter_
    assert ours.validation_scores_ == theirs.validation_scores_[:ours.n_iter_]
    assert ours.best_validation_score_ == theirs.best_validation_score_
    _same_weights(ours, theirs)


def test_log_loss_is_the_default_and_means_none(iris):
    X, y = iris
    assert MLPClassifier().loss == sknn.MLPClassifier().loss == "log_loss"
    a = MLPClassifier(max_iter=3, random_state=0).fit(X, y)
    b = MLPClassifier(max_iter=3, random_state=0, loss=None).fit(X, y)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])


# ---------------------------------------------------------------------------------------
# shuffle=True: scikit-learn's epoch order from the same random_state
# ---------------------------------------------------------------------------------------
def _cancer():
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split as split
    from sklearn.preprocessing import StandardScaler
    X, y = load_breast_cancer(return_X_y=True)
    Xtr, _, ytr, _ = split(StandardScaler().fit_transform(X), y, random_state=0)
    assert Xtr.shape[0] == 426          # several batches of every size used below
    return Xtr, ytr


def _max_diff(a, b):
    return max(float(np.abs(u - v).max())
               for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_))


@pytest.mark.parametrize("params", [
    dict(),                                                        # adam, batch 200
    dict(solver="sgd", batch_size=32, momentum=0.5),
    dict(solver="sgd", batch_size=50, learning_rate="invscaling", nesterovs_momentum=False),
    dict(early_stopping=True, batch_size=64),                      # the split draws first
    dict(batch_size=1000),                                         # one batch, still shuffled
], ids=["adam", "sgd-momentum", "sgd-invscaling", "early-stopping", "one-batch"])
def test_shuffled_classifier_weights_are_sklearns(params):
    X, y = _cancer()
    p = dict(hidden_layer_sizes=(10,), random_state=0, max_iter=6, shuffle=True, **params)
    a = _quiet(sknn.MLPClassifier(**p).fit, X, y)
    b = _quiet(MLPClassifier(**p).fit, X, y)
    assert a.n_iter_ == b.n_iter_ == 6
    assert _max_diff(a, b) < 1e-10
    # a differently seeded fit really is differently shuffled (the test has teeth)
    c = _quiet(MLPClassifier(**dict(p, random_state=1)).fit, X, y)
    assert _max_diff(a, c) > 1e-3


def test_shuffled_partial_fit_and_warm_start_are_sklearns():
    X, y = _cancer()
    p = dict(hidden_layer_sizes=(8,), random_state=3, batch_size=40)
    a, b = sknn.MLPClassifier(**p), MLPClassifier(**p)
    for _ in range(3):                  # each call starts a fresh stream, as scikit-learn's
        a.partial_fit(X, y, classes=[0, 1])
        b.partial_fit(X, y, classes=[0, 1])
    assert _max_diff(a, b) < 1e-10
    p = dict(p, warm_start=True, max_iter=3)
    a, b = sknn.MLPClassifier(**p), MLPClassifier(**p)
    for _ in range(2):
        _quiet(a.fit, X, y)
        _quiet(b.fit, X, y)
    assert _max_diff(a, b) < 1e-10


def test_shuffled_regressor_weights_are_sklearns():
    from sklearn.datasets import load_diabetes
    X, y = load_diabetes(return_X_y=True)
    rs = np.random.RandomState(7)           # a RandomState instance is drawn from in turn
    p = dict(hidden_layer_sizes=(8,), max_iter=5, batch_size=50, solver="sgd",
             learning_rate_init=1e-3)
    a = _quiet(sknn.MLPRegressor(random_state=np.random.RandomState(7), **p).fit, X, y)
    b = _quiet(MLPRegressor(random_state=rs, **p).fit, X, y)
    assert _max_diff(a, b) < 1e-10


def test_restarts_after_the_first_shuffle_differently_and_reproducibly():
    X, y = _cancer()
    p = dict(hidden_layer_sizes=(6,), random_state=0, max_iter=3, batch_size=50)
    one = _quiet(MLPClassifier(**p).fit, X, y)
    a = _quiet(MLPClassifier(restarts=3, **p).fit, X, y)
    b = _quiet(MLPClassifier(restarts=3, **p).fit, X, y)
    assert _max_diff(a, b) == 0.0
    assert a.n_iter_ == one.n_iter_ == 3


# ---------------------------------------------------------------------------------------
# documentation link, import without scikit-learn
# ---------------------------------------------------------------------------------------
@pytest.mark.skipif(SKLEARN_VERSION < (1, 4), reason="documentation links: scikit-learn 1.4")
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor, Perceptron])
def test_html_repr_links_to_fastmlp_docs(cls):
    from sklearn.utils import estimator_html_repr
    from fastmlp.sklearn._base import doc_version
    url = (f"https://fastmlp.readthedocs.io/en/{doc_version()}/api.html"
           f"#fastmlp.sklearn.{cls.__name__}")
    assert cls()._get_doc_link() == url
    assert url in estimator_html_repr(cls())
    assert doc_version("0.1.0") == "0.1.0"
    assert doc_version("0.2.0.dev3+g1234") == "latest"
    assert fastmlp.__version__ in url or doc_version() == "latest"


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor, Perceptron])
def test_html_repr_link_target_is_a_page_the_docs_build(cls):
    """The link's page is built from docs/ (api.rst -> api.html) and documents the
    estimator under the link's anchor (automodule fastmlp.sklearn, the class a member);
    a site built in docs/_build/html has that id."""
    import re
    from urllib.parse import urlparse
    from fastmlp.sklearn._base import DOC_URL
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    docs = os.path.join(root, "docs")
    if not os.path.isdir(docs):
        pytest.skip("run from an installed copy without the docs")
    link = urlparse(DOC_URL.format(version="latest", estimator_name=cls.__name__))
    page = link.path.split("/en/latest/", 1)[1]
    assert page.endswith(".html")
    stem = page[:-len(".html")]
    sources = [f for f in (stem + ".rst", stem + ".md") if os.path.exists(os.path.join(docs, f))]
    assert sources, f"{page}: no docs/{stem}.rst or .md builds it"
    text = open(os.path.join(docs, sources[0]), encoding="utf-8").read()
    module, _, name = link.fragment.rpartition(".")
    assert module == "fastmlp.sklearn" and name == cls.__name__
    block = re.search(r"^\.\. automodule:: fastmlp\.sklearn\n((?:   .*\n)*)", text, re.M)
    assert block and re.search(rf":members:.*\b{name}\b", block.group(1)), sources[0]
    built = os.path.join(docs, "_build", "html", page)
    if os.path.exists(built):
        assert f'id="{link.fragment}"' in open(built, encoding="utf-8").read()


def _import_sklearn_without(blocked):
    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            f"        for b in {blocked!r}:\n"
            "            if name == b or name.startswith(b + '.'):\n"
            "                raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
            "sys.meta_path.insert(0, Block())\n"
            "import fastmlp\n"
            "try:\n"
            "    import fastmlp.sklearn\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.parametrize("blocked", [["sklearn"], ["sklearn", "scipy"]])
def test_import_without_sklearn_says_how_to_install(blocked):
    msg = _import_sklearn_without(blocked)
    assert "needs scikit-learn, which is not installed" in msg
    assert "pip install scikit-learn (or, from a fastmlp checkout, " in msg
    assert 'pip install ".[sklearn]"' in msg and "rebuilds the C extension" in msg
    assert "scipy" not in msg and "fastmlp[" not in msg


def test_import_with_sklearn_but_without_scipy_names_scipy():
    msg = _import_sklearn_without(["scipy"])
    assert "scipy is missing" in msg and "pip install scikit-learn scipy" in msg


def test_no_hint_installs_fastmlp_from_an_index():
    """fastmlp is on no package index: no message or document says pip install fastmlp[..]."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if not os.path.exists(os.path.join(root, "pyproject.toml")):
        pytest.skip("run from an installed copy without the source tree")
    hits = []
    for top in ("src", "docs", "README.md"):
        path = os.path.join(root, top)
        files = [path] if os.path.isfile(path) else [
            os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs
            if f.endswith((".py", ".pyx", ".pxi", ".md", ".rst"))]
        for f in files:
            for line in open(f, encoding="utf-8"):
                # the one place each that says why such a hint cannot work is fine
                if "fastmlp[" in line and "package index" not in line:
                    hits.append((os.path.relpath(f, root), line.strip()))
    assert hits == []


def test_sklearn_floor_is_enforced_and_declared():
    from fastmlp.sklearn._compat import SKLEARN_FLOOR
    floor = ".".join(map(str, SKLEARN_FLOOR))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    pyproject = os.path.join(root, "pyproject.toml")
    if not os.path.exists(pyproject):
        pytest.skip("run from an installed copy without the source tree")
    text = open(pyproject).read()
    assert f'"scikit-learn>={floor}' in text
    assert SKLEARN_VERSION >= SKLEARN_FLOOR
    assert sklearn.__version__
