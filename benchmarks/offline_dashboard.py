"""Make a published asv dashboard work without internet access.

    python benchmarks/offline_dashboard.py [--html .asv/html] [--js /usr/share/javascript]

asv's pages load jQuery, Flot, Bootstrap, stupidtable and blueimp-md5 from CDNs. On a machine
that cannot reach them (a cluster node, a CI runner) the page only says that "external
(JavaScript) dependencies failed to load". This copies local copies of those libraries into
``<html>/vendor/`` and points the pages at them. The copies come from the distribution's
packages (Debian/Ubuntu: ``apt-get install libjs-jquery libjs-jquery-flot libjs-bootstrap
libjs-jquery-stupidtable node-blueimp-md5``, which install under /usr/share/javascript).
Debian's Flot is version 4, one file holding the core and the time, selection and categories
plugins that asv uses; the orderBars plugin has no package and is left out (it only orders
side-by-side bars). Run it after every ``asv publish`` (which rewrites the pages).
"""
import argparse
import pathlib
import re
import shutil
import sys

# CDN file name (as asv's pages reference it) -> file under the local JavaScript root
_LOCAL = {
    "jquery-3.3.1.min.js": "jquery/jquery.min.js",
    "jquery.flot.min.js": "jquery-flot/jquery.flot.min.js",
    "stupidtable.min.js": "jquery-stupidtable/stupidtable.min.js",
    "md5.min.js": "blueimp-md5/md5.min.js",
    "bootstrap.min.js": "bootstrap/js/bootstrap.min.js",
    "bootstrap.min.css": "bootstrap/css/bootstrap.min.css",
}
_BUNDLED = ("jquery.flot.time.min.js", "jquery.flot.selection.min.js",
            "jquery.flot.categories.min.js", "jquery.flot.orderBars.js")
_TAG = re.compile(r'<(script|link)\b[^>]*?(?:src|href)="(https?://[^"]+)"[^>]*>(?:</script>)?')


def localise(page, vendor_prefix="vendor/"):
    """The page's HTML with CDN tags pointing at ``vendor/`` (or dropped when bundled)."""
    def swap(m):
        name = m.group(2).rsplit("/", 1)[-1]
        if name in _BUNDLED:
            return ""
        if name not in _LOCAL:
            return m.group(0)
        tag = m.group(0).replace(m.group(2), vendor_prefix + name)
        return re.sub(r'\s(integrity|crossorigin|referrerpolicy)="[^"]*"', "", tag)
    return _TAG.sub(swap, page)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--html", default=".asv/html", help="the published dashboard")
    p.add_argument("--js", default="/usr/share/javascript",
                   help="where the distribution installs JavaScript libraries")
    args = p.parse_args(argv)
    html, js = pathlib.Path(args.html), pathlib.Path(args.js)
    missing = [str(js / f) for f in _LOCAL.values() if not (js / f).is_file()]
    if missing:
        print("offline_dashboard: missing " + ", ".join(missing) + " -- install libjs-jquery "
              "libjs-jquery-flot libjs-bootstrap libjs-jquery-stupidtable node-blueimp-md5",
              file=sys.stderr)
        return 1
    vendor = html / "vendor"
    vendor.mkdir(exist_ok=True)
    for name, rel in _LOCAL.items():
        shutil.copyfile(js / rel, vendor / name)
    for page in html.glob("*.html"):
        page.write_text(localise(page.read_text()))
    print(f"offline_dashboard: {html} now loads its libraries from {vendor}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
