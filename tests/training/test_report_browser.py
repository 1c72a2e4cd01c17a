"""Training reports opened in a real headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by selenium): no JavaScript errors, every section drawn, the
numbers shown are the History's, and no network request.

Without Chromium, chromedriver or selenium these tests skip, saying what is missing --
except in CI (``CI=true``), where they fail: CI installs Chromium itself (.ci/run).
"""
import json
import math
import os
import shutil

import numpy as np
import pytest

import fastmlp as fm


def _missing():
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium, or the test extra)"
    if not any(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")):
        return "no Chromium (Debian: apt-get install chromium chromium-driver)"
    if not shutil.which("chromedriver"):
        return "no chromedriver (Debian: apt-get install chromium-driver)"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(f"CI must run the browser tests, but: {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    for b in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(b):
            opts.binary_location = shutil.which(b)
            break
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,2000"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    drv = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    drv.set_page_load_timeout(60)
    yield drv
    drv.quit()


def open_page(drv, path):
    """Load ``path``; return (the page's data-rendered flag, severe console entries, URLs
    of every request that left the page)."""
    drv.get_log("browser")
    drv.get_log("performance")                 # drop what earlier pages left
    drv.get("file://" + os.path.abspath(path))
    rendered = drv.execute_script("return document.body.getAttribute('data-rendered')")
    errors = [e for e in drv.get_log("browser") if e["level"] == "SEVERE"]
    sent, blocked = {}, set()
    for entry in drv.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            sent[msg["params"]["requestId"]] = msg["params"]["request"]["url"]
        elif (msg["method"] == "Network.loadingFailed"
              and msg["params"].get("blockedReason") == "csp"):
            blocked.add(msg["params"]["requestId"])
    # the requests that left the page (Chrome announces a request before its
    # Content-Security-Policy check, and then reports it blocked)
    return rendered, errors, [url for rid, url in sent.items() if rid not in blocked]


def js(drv, code):
    return drv.execute_script(code)


def sections(drv):
    return js(drv, "return [...document.querySelectorAll('section')].map(s => s.dataset.section)")


def near(text, value):
    """A number the page shows (6 significant digits) is the History's value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return text == "\u2013"
    return float(text) == pytest.approx(value, rel=1e-5, abs=1e-300)


def check_epoch_table(drv, h):
    keys = js(drv, "return [...document.querySelectorAll('#epoch-table thead th')]"
                   ".slice(1).map(t => t.dataset.key)")
    rows = js(drv, "return [...document.querySelectorAll('#epoch-table tbody tr')]"
                   ".map(r => [...r.cells].map(c => c.textContent))")
    assert len(rows) == len(h)
    assert "loss" in keys and "lr" in keys and "time" in keys
    for i, row in enumerate(rows):
        assert int(row[0]) == h.epoch[i]
        for k, cell in zip(keys, row[1:]):
            assert near(cell, getattr(h, k)[i]), (i, k, cell, getattr(h, k)[i])


def test_xor_report_renders_its_sections_and_numbers(browser, tmp_path):
    X, y = fm.datasets.xor()
    net = fm.MLP([2, 4, 1], activation="tanh", loss="logistic", seed=0)
    path = tmp_path / "xor.html"
    h = net.fit(X, y, optimizer="sgd", lr=0.5, batch_size=None, epochs=600, report=str(path))
    rendered, errors, _ = open_page(browser, path)
    assert errors == [] and rendered == "1"
    assert sections(browser) == ["summary", "config", "confusion", "curves", "regions",
                                 "layers"]
    check_epoch_table(browser, h)
    summary = dict(js(browser, "return [...document.querySelectorAll('.summary div')]"
                               ".map(d => [d.dataset.key, d.querySelector('dd').textContent])"))
    assert int(summary["epochs"]) == 600 and near(summary["loss"], h.loss[-1])
    # the loss curve has a vertex per epoch; the per-layer charts one per sampled epoch
    pts = js(browser, "return document.querySelector('[data-chart=loss] polyline')"
                      ".getAttribute('points').trim().split(' ').length")
    assert pts == 600
    data = json.loads(js(browser, "return document.getElementById('report-data').textContent"))
    n_samples = len(data["samples"])
    assert js(browser, "return document.querySelectorAll('[data-chart=gnorm] polyline')"
                       ".length") == 2
    assert js(browser, "return document.querySelectorAll('.layer').length") == 2
    assert js(browser, "return document.querySelectorAll('.layer .hist').length") == 8
    assert js(browser, "return document.querySelectorAll('.layer rect.bar').length") > 20
    # the layer slider: epoch 0 shows the initial weights' gradient norm
    js(browser, "const s = document.querySelector('#sec-layers input[type=range]');"
                "s.value = 0; s.dispatchEvent(new Event('input'));")
    head = js(browser, "return document.querySelector('.layer h3').textContent")
    assert f"= {float(data['samples'][0]['layers'][0]['gnorm']):.6g}"[:8] in head
    assert n_samples >= 2
    # decision regions: the big canvas and one thumbnail per frame, both painted in two
    # region colours plus the points
    assert js(browser, "return document.querySelectorAll('canvas.thumb').length") == \
        len(data["regions"]["frames"])
    colours = js(browser, """
        const c = document.getElementById('regions-main');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const seen = new Set();
        for (let i = 0; i < d.length; i += 4 * 97) seen.add(d[i] + ',' + d[i+1] + ',' + d[i+2]);
        return seen.size;""")
    assert colours >= 3
    cells = js(browser, "return [...document.querySelectorAll('#confusion-table td')]"
                        ".map(c => +c.textContent)")
    assert cells == [2, 0, 0, 2]


def test_digits_report_with_sweep_validation_and_stopping(browser, tmp_path):
    d = fm.datasets.load_digits(n_samples=300, seed=0)
    X, y = d.data / 16.0, d.target
    net = fm.MLP([64, 16, 10], loss="cross_entropy", seed=0)
    path = tmp_path / "digits.html"
    h = net.fit(X, y, optimizer="sgd", lr="auto", epochs=40, validation_split=0.25,
                early_stopping=3, report=str(path))
    rendered, errors, _ = open_page(browser, path)
    assert errors == [] and rendered == "1"
    assert sections(browser) == ["summary", "config", "confusion", "curves", "lr_search",
                                 "layers"]
    check_epoch_table(browser, h)
    # one curve per candidate rate, a cross on each that diverged
    assert js(browser, "return document.querySelectorAll('[data-chart=sweep] .legend span')"
                       ".length") == len(h.lr_search.lrs)
    assert js(browser, "return document.querySelectorAll('[data-chart=sweep] path.mark')"
                       ".length") == int(h.lr_search.diverged.sum())
    events = js(browser, "return [...document.querySelectorAll('[data-event]')]"
                         ".map(e => e.dataset.event)")
    assert ("stopped_early" in events) == h.stopped_early
    assert js(browser, "return document.querySelectorAll('[data-chart=val_metric] polyline')"
                       ".length") == 1
    cfg = dict(js(browser, "return [...document.querySelectorAll('#sec-config tr')]"
                           ".map(r => [r.cells[0].textContent, r.cells[1].textContent])"))
    assert cfg["ISA (cpu_features)"] == fm.show_config(print_=False)["cpu_features"]
    cells = js(browser, "return [...document.querySelectorAll('#confusion-table td')]"
                        ".map(c => +c.textContent)")
    pred = net.predict(X[225:])
    assert sum(cells) == 75 and sum(cells[i * 11] for i in range(10)) == \
        int(np.sum(pred == y[225:]))


def test_regression_report(browser, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X @ [1.0, -2.0, 0.5]
    net = fm.MLP([3, 8, 1], activation="relu", loss="square", seed=0)
    path = tmp_path / "reg.html"
    h = net.fit(X, y, optimizer="adam", lr=0.01, epochs=25, report=str(path))
    rendered, errors, _ = open_page(browser, path)
    assert errors == [] and rendered == "1"
    assert sections(browser) == ["summary", "config", "residuals", "curves", "layers"]
    check_epoch_table(browser, h)
    label = js(browser, "return document.querySelector('#sec-layers .slider span').textContent")
    assert label == f"epoch {h.epoch[-1]} (the weights the model keeps)"
    assert js(browser, "return document.querySelectorAll('#residual-scatter circle.pt')"
                       ".length") == 200
    assert js(browser, "return document.querySelectorAll('[data-chart=inactive] polyline')"
                       ".length") == 1


def test_report_makes_no_network_request(browser, tmp_path):
    X, y = fm.datasets.xor()
    net = fm.MLP([2, 3, 1], activation="relu", loss="logistic", seed=0)
    path = tmp_path / "offline.html"
    net.fit(X, y, optimizer="sgd", lr=0.3, batch_size=None, epochs=50, report=str(path))
    rendered, errors, requests = open_page(browser, path)
    assert rendered == "1" and errors == []
    assert requests == ["file://" + os.path.abspath(path)]     # the page itself, nothing else
    assert js(browser, "return performance.getEntriesByType('resource').length") == 0
    # the check sees requests: the same page with an external image, without its
    # Content-Security-Policy, asks for it; with the policy, the browser refuses to
    text = open(path, encoding="utf-8").read()
    img = '<img src="http://127.0.0.1:9/probe.png" alt="">'
    loose = tmp_path / "loose.html"
    loose.write_text(text.replace("<meta http-equiv=\"Content-Security-Policy\"", "<meta "
                                  "name=\"x\"").replace("<main", img + "<main"))
    _, _, requests = open_page(browser, loose)
    assert "http://127.0.0.1:9/probe.png" in requests
    strict = tmp_path / "strict.html"
    strict.write_text(text.replace("<main", img + "<main"))
    _, errors, requests = open_page(browser, strict)
    assert "http://127.0.0.1:9/probe.png" not in requests
    assert any("Content Security Policy" in e["message"] for e in errors)
