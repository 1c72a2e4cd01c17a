"""The asv dashboard helpers in benchmarks/: the published-JSON check and the offline pages."""
import json

import pytest
from benchmark_modules import load_benchmark



check = load_benchmark("check_dashboard")
offline = load_benchmark("offline_dashboard")

HEAD = "78a5c273ea1882cab2ed73eb91d972ddc955439a"
OLD = "0b90a59000000000000000000000000000000000"


def _dashboard(tmp_path, points):
    """A published dashboard with one machine; ``points``: {benchmark: graph entries}."""
    html = tmp_path / "html"
    graphs = html / "graphs" / "arch-x86_64" / "branch-HEAD" / "machine-vm"
    graphs.mkdir(parents=True)
    (html / "graphs" / "summary").mkdir()
    index = {"revision_to_hash": {"121": OLD, "122": HEAD},
             "benchmarks": {name: {} for name in points}}
    (html / "index.json").write_text(json.dumps(index))
    for name, entries in points.items():
        (graphs / f"{name}.json").write_text(json.dumps(entries))
        # summary graphs always hold a point: they must not count
        (html / "graphs" / "summary" / f"{name}.json").write_text(json.dumps([[122, 1.0]]))
    return html


def test_check_dashboard_counts_finite_results_of_the_commit(tmp_path, capsys):
    html = _dashboard(tmp_path, {
        "bench_train.TimeFit.time_fit_fastmlp": [[121, [1.0, 2.0]], [122, [0.5, None, 0.7]]],
        "bench_train.TimeFit.time_fit_engine": [[121, [1.0]], [122, [None, None]]],
        "bench_gemm.GemmSmall.time_gemm_numpy": [[122, 3.0e-6]],
    })
    counts = check.results_per_benchmark(html, HEAD)
    assert counts == {"bench_train.TimeFit.time_fit_fastmlp": 2,
                      "bench_train.TimeFit.time_fit_engine": 0,
                      "bench_gemm.GemmSmall.time_gemm_numpy": 1}
    assert check.results_per_benchmark(html, OLD[:8])["bench_train.TimeFit.time_fit_engine"] == 1
    args = ["--html", str(html), "--commit", HEAD]
    assert check.main(args + ["bench_train.TimeFit.time_fit_fastmlp"]) == 0
    assert check.main(args + ["bench_train.TimeFit.time_fit_engine"]) == 1
    assert check.main(args + ["bench_nope.Nope.time_nope"]) == 1
    assert check.main(args) == 0                  # every benchmark that has results
    out = capsys.readouterr().out
    assert "time_fit_fastmlp: 2 results for 78a5c273ea18" in out
    assert "not on the dashboard" in out
    with pytest.raises(SystemExit, match="not on the dashboard"):
        check.results_per_benchmark(html, "f" * 40)


def test_an_empty_dashboard_fails_the_check(tmp_path):
    html = _dashboard(tmp_path, {"bench_train.TimeFit.time_fit_fastmlp": [[121, [1.0]]]})
    assert check.main(["--html", str(html), "--commit", HEAD]) == 1


ASV_HEAD = """<head>
<script src="https://code.jquery.com/jquery-3.3.1.min.js" integrity="sha256-x" crossorigin="anonymous" onerror="js_load_failure()"></script>
<script src="https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.min.js" integrity="sha512-y" crossorigin="anonymous" referrerpolicy="no-referrer" onerror="js_load_failure()"></script>
<script src="https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.time.min.js" onerror="js_load_failure()"></script>
<script language="javascript" type="text/javascript" src="jquery.flot.axislabels.js"></script>
<script src="https://cdn.jsdelivr.net/npm/flot-orderbars@1.0.0/js/jquery.flot.orderBars.js" onerror="js_load_failure()"></script>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/css/bootstrap.min.css" integrity="sha256-z" crossorigin="anonymous">
<script src="https://example.invalid/other.js"></script>
</head>"""


def test_offline_pages_load_local_copies():
    page = offline.localise(ASV_HEAD)
    assert '<script src="vendor/jquery-3.3.1.min.js" onerror="js_load_failure()"></script>' \
        in page
    assert '<script src="vendor/jquery.flot.min.js" onerror="js_load_failure()"></script>' \
        in page
    assert '<link rel="stylesheet" href="vendor/bootstrap.min.css">' in page
    assert "flot.time" not in page and "orderBars" not in page      # in the Flot bundle
    assert "integrity" not in page and "cdnjs" not in page
    assert 'src="jquery.flot.axislabels.js"' in page                 # asv's own file: kept
    assert "https://example.invalid/other.js" in page                # unknown: left alone


def test_offline_dashboard_copies_the_libraries(tmp_path):
    js = tmp_path / "js"
    for rel in offline._LOCAL.values():
        (js / rel).parent.mkdir(parents=True, exist_ok=True)
        (js / rel).write_text(f"/* {rel} */")
    html = tmp_path / "html"
    html.mkdir()
    (html / "index.html").write_text(ASV_HEAD)
    assert offline.main(["--html", str(html), "--js", str(js)]) == 0
    assert sorted(p.name for p in (html / "vendor").iterdir()) == sorted(offline._LOCAL)
    assert (html / "vendor" / "md5.min.js").read_text() == "/* blueimp-md5/md5.min.js */"
    assert "vendor/jquery-3.3.1.min.js" in (html / "index.html").read_text()
    (js / "bootstrap" / "js" / "bootstrap.min.js").unlink()
    assert offline.main(["--html", str(html), "--js", str(js)]) == 1
