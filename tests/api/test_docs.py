"""The documentation's code runs and its printed claims hold.

The README's Python blocks run as one script, and so do those of the site's pages (the
chapter tour, docs/tour.md, and the front page), each in a fresh interpreter with Python's default warning filters -- what a
user sees. Nothing may be written to stderr (no warning, no error). A ``print(...)`` whose
source line ends with a comment makes a claim: the printed text must equal the comment (up to
the first ':' when the comment goes on to explain), unless the README claims something a
string cannot say, checked below. The README's shell commands run too (the demo and the
command-line example).
"""
import ast
import inspect
import io
import json
import os
import pathlib
import re
import shlex
import subprocess
import sys
import tokenize

import pytest

import fastmlp

ROOT = pathlib.Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

needs_docs = pytest.mark.skipif(not README.is_file(), reason="not run from a source tree")

_DRIVER = '''
import atexit as __atexit, io as __io, json as __json, sys as __sys
__records = []
def __say__(line, *args, **kwargs):
    buf = __io.StringIO()
    print(*args, file=buf, **{k: v for k, v in kwargs.items() if k != "file"})
    __records.append([line, buf.getvalue().rstrip("\\n")])
    __sys.stdout.write(buf.getvalue())
def __dump(path=__sys.argv[1]):
    with open(path, "w") as f:
        __json.dump(__records, f)
__atexit.register(__dump)
'''


class _Prints(ast.NodeTransformer):
    """print(...) -> __say__(line, ...), so each printed text is filed under its line."""

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "print":
            return ast.copy_location(
                ast.Call(ast.Name("__say__", ast.Load()),
                         [ast.Constant(node.lineno)] + node.args, node.keywords), node)
        return node


def python_blocks(path):
    """The ```python blocks of a Markdown file, joined into one script."""
    return "\n".join(re.findall(r"^```python\n(.*?)^```", path.read_text(), re.S | re.M))


def shell_blocks(path):
    """The lines of the ```bash blocks of a Markdown file (comments dropped)."""
    lines = []
    for block in re.findall(r"^```bash\n(.*?)^```", path.read_text(), re.S | re.M):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line:
                lines.append(line)
    return lines


def comments(code):
    """{line: comment text} of a script."""
    out = {}
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.COMMENT:
            out[tok.start[0]] = tok.string.lstrip("#").strip()
    return out


def run_script(code, tmp_path):
    """Run ``code`` in a fresh interpreter in ``tmp_path`` with every warning an error (a
    ResourceWarning, raised where Python cannot raise it, is then printed on stderr): (the
    finished process, {line: [texts printed there]})."""
    tree = ast.fix_missing_locations(_Prints().visit(ast.parse(code)))
    script = tmp_path / "docs_script.py"
    script.write_text(_DRIVER + ast.unparse(tree) + "\n")
    records = tmp_path / "records.json"
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("PYTHONWARNINGS", None)
    out = subprocess.run([sys.executable, "-W", "error", str(script), str(records)],
                         cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=900)
    printed = {}
    for line, text in json.loads(records.read_text()) if records.exists() else []:
        printed.setdefault(line, []).append(text)
    return out, printed


def check_claims(code, printed, special=None):
    """Every print line with a comment printed what the comment says (or passes its special
    check, keyed by the printed expression's source). Returns the claims checked."""
    special = special or {}
    source = code.splitlines()
    notes = comments(code)
    checked = []
    for node in ast.walk(ast.parse(code)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "print"):
            continue
        line = node.lineno
        if line not in notes:
            continue
        texts = printed.get(line)
        assert texts, f"line {line} never printed: {source[line - 1]}"
        expr = ", ".join(ast.get_source_segment(code, a) for a in node.args)
        claim = notes[line]
        for text in texts:
            if expr in special:
                assert special[expr](text), (f"{expr} printed {text!r}, which does not "
                                             f"support the claim '{claim}'")
            else:
                head = claim if text == claim else claim.split(":")[0].strip()
                assert text == head, f"{expr} printed {text!r}, the docs say '{claim}'"
        checked.append(expr)
    return checked


def _gradcheck_agrees(text):
    return text.splitlines()[-1] == "all gradients agree" and " ok" in text


def _summary_of_the_2_4_1_network(text):
    layers = [line for line in text.splitlines() if re.match(r"\s+\d\s", line)]
    return len(layers) == 2 and "total parameters: 17" in text


README_SPECIAL = {
    "fm.gradcheck(net, X, y)": _gradcheck_agrees,
    "net.summary()": _summary_of_the_2_4_1_network,
}


@needs_docs
def test_readme_python_blocks_run_as_one_script_and_print_what_they_claim(tmp_path):
    code = python_blocks(README)
    out, printed = run_script(code, tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stderr == "", out.stderr[-3000:]         # no warning
    checked = check_claims(code, printed, README_SPECIAL)
    # the claims this test was written for are all still there
    assert set(README_SPECIAL) <= set(checked)
    assert "fm.Perceptron(2, 1, seed=0).fit(X, y, epochs=100).score(X, y)" in checked
    assert len(checked) >= 7, checked
    assert (tmp_path / "digits.npz").exists()


@needs_docs
@pytest.mark.parametrize("page,n_claims", [("tour.md", 15), ("index.md", 1)])
def test_the_site_pages_run_and_print_what_they_claim(tmp_path, page, n_claims):
    code = python_blocks(ROOT / "docs" / page)
    out, printed = run_script(code, tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stderr == "", out.stderr[-3000:]
    checked = check_claims(code, printed)
    assert len(checked) >= n_claims, checked


@needs_docs
def test_the_claim_check_can_fail(tmp_path):
    code = "print(1 + 1)  # 3: arithmetic\nprint('a', 'b')  # a b\n"
    out, printed = run_script(code, tmp_path)
    assert printed == {1: ["2"], 2: ["a b"]}
    with pytest.raises(AssertionError, match="the docs say '3: arithmetic'"):
        check_claims(code, printed)
    assert check_claims(code, printed, {"1 + 1": lambda t: t == "2"}) == ["1 + 1", "'a', 'b'"]


@needs_docs
def test_readme_commands_run_without_errors_or_warnings(tmp_path):
    """The README's shell commands, but pip and pytest (which CI runs as such): the demo
    and the command-line example, from a directory holding examples/."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    commands = [c for part in (line.split("&&") for line in shell_blocks(README))
                for c in (p.strip() for p in part)
                if c.startswith(("python -m fastmlp", "mkdir -p "))]
    for c in [c for c in commands if c.startswith("mkdir -p ")]:
        for d in shlex.split(c)[2:]:
            (tmp_path / d).mkdir(parents=True, exist_ok=True)
    commands = [c for c in commands if c.startswith("python -m fastmlp")]
    assert any(" demo" in c for c in commands) and any(" train " in c for c in commands)
    env = dict(os.environ)
    env.pop("FASTMLP_DEBUG", None)
    outputs = {}
    for command in commands:
        argv = [sys.executable] + shlex.split(command)[1:]
        out = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=600)
        assert out.returncode == 0, (command, out.stderr)
        assert out.stderr == "", (command, out.stderr)
        outputs[command] = out.stdout
    demo = next(v for k, v in outputs.items() if " demo" in k)
    assert re.search(r"perceptron \(2 -> 1\):\s+accuracy\s+50\.0 %", demo)
    assert re.search(r"MLP 2-4-1 .*accuracy 100\.0 %", demo)
    train = next(v for k, v in outputs.items() if " train " in k)
    assert train.startswith("task: classify, 3 classes (guessed: the target holds text labels")
    # every file the commands write lies in build/ (ignored by git), none beside the sources
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build", "examples"]
    assert "build/" in (ROOT / ".gitignore").read_text().splitlines()
    assert {p.name for p in (tmp_path / "build" / "cli").iterdir()} >= {
        "colours.npz", "auto.npz", "predictions.csv"}
    preds = (tmp_path / "build" / "cli" / "predictions.csv").read_text().splitlines()
    assert preds[0] == "prediction" and len(preds) == 151
    truth = [line.rsplit(",", 1)[1] for line in
             (ROOT / "examples" / "colours.csv").read_text().splitlines()[1:]]
    assert sum(p == t for p, t in zip(preds[1:], truth)) >= 140


def test_mlp_fit_documents_every_parameter():
    """help(MLP.fit) is a full numpydoc parameter list: one entry per argument, in order."""
    doc = inspect.getdoc(fastmlp.MLP.fit)
    section = doc.split("Parameters\n----------\n", 1)[1].split("\n\nReturns\n", 1)[0]
    documented = re.findall(r"^(\w+) : ", section, re.M)
    params = [p for p in inspect.signature(fastmlp.MLP.fit).parameters if p != "self"]
    assert documented == params
    assert "Returns\n-------\nHistory" in doc and "Raises\n------" in doc
    # training.fit is the same call and points there instead of repeating it
    assert "fastmlp.MLP.fit" in inspect.getdoc(fastmlp.training.fit)
    assert list(inspect.signature(fastmlp.training.fit).parameters)[1:] == ["X", "y"] + \
        params[2:]


def test_readthedocs_config_builds_the_sphinx_site_with_its_extras():
    path = ROOT / ".readthedocs.yaml"
    if not path.exists():
        pytest.skip("run from an installed copy without the source tree")
    yaml = pytest.importorskip("yaml")
    tomllib = pytest.importorskip("tomllib")
    conf = yaml.safe_load(path.read_text())
    assert conf["version"] == 2
    assert (ROOT / conf["sphinx"]["configuration"]).is_file()
    assert conf["sphinx"]["fail_on_warning"] is True            # as CI's sphinx -W
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    (install,) = conf["python"]["install"]
    assert install["method"] == "pip" and install["path"] == "."
    # the docs' tools, and scikit-learn for the fastmlp.sklearn reference
    assert {"docs", "sklearn"} <= set(install["extra_requirements"]) <= set(extras)


def test_verbose_1_and_progress_differ_as_documented(capsys):
    """progress=True: the bar on stderr only; verbose=1: the same bar and, on stdout, what
    fit chose; verbose=2: epoch lines on stdout, no bar."""
    import numpy as np
    doc = inspect.getdoc(fastmlp.MLP.fit)
    assert "0 silent; 1 the progress bar of ``progress=True``" in doc
    assert "Only the progress bar, on stderr" in doc
    X = np.random.default_rng(0).normal(size=(64, 3))
    y = (X[:, 0] > 0).astype(int)

    def fit(**kw):
        fastmlp.MLP([3, 4, 2], loss="cross_entropy", seed=0).fit(X, y, epochs=3, **kw)
        return capsys.readouterr()

    done = re.compile(r"\b3(\.0+)?/3\b")          # the bar's last state (tqdm or fastmlp's)
    bar = fit(progress=True, lr="auto")
    assert bar.out == "" and done.search(bar.err)
    v1 = fit(verbose=1, lr="auto")
    assert v1.out.startswith("lr='auto': ") and done.search(v1.err)
    v2 = fit(verbose=2)
    assert v2.out.count("epoch ") == 3 and v2.err == ""
