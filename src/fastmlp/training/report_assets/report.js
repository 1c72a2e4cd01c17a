"use strict";
/* fastmlp training report: draws every section from the JSON in #report-data.
   No library, no network: SVG for charts and histograms, canvas for decision regions. */
(function () {
  const D = JSON.parse(document.getElementById("report-data").textContent);
  const SVGNS = "http://www.w3.org/2000/svg";
  const COLORS = ["#2f6fd6", "#e07b24", "#2e9d57", "#c62828", "#8e5cc4", "#8c6d4f",
                  "#d45fa8", "#6b7280", "#a8a32a", "#1fa5b8"];
  const SUP = {"0": "\u2070", "1": "\u00b9", "2": "\u00b2", "3": "\u00b3", "4": "\u2074",
               "5": "\u2075", "6": "\u2076", "7": "\u2077", "8": "\u2078", "9": "\u2079"};
  const root = document.getElementById("report");
  root.textContent = "";

  function sup(n) { return String(n).split("").map(c => SUP[c] || c).join(""); }
  function el(tag, attrs, parent, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function sv(tag, attrs, parent, text) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function fmt(v) {
    if (v === null || v === undefined) return "\u2013";
    if (v === 0) return "0";
    return Number(Number(v).toPrecision(6)).toString();
  }
  function short(v) {
    if (v === 0) return "0";
    const a = Math.abs(v);
    if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
    return Number(v.toPrecision(3)).toString();
  }
  function section(id, title, note, wide) {
    const s = el("section", {"class": "section" + (wide ? " wide" : ""), "id": "sec-" + id,
                             "data-section": id}, root);
    el("h2", {}, s, title);
    if (note) el("p", {"class": "note"}, s, note);
    return s;
  }
  function finite(v) { return v !== null && v !== undefined && isFinite(v); }

  /* nice linear ticks */
  function ticks(lo, hi, n) {
    const span = hi - lo, raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map(m => m * mag).find(s => span / s <= n) || 10 * mag;
    const out = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
      out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    return out;
  }
  function logTicks(lo, hi) {
    const out = [];
    for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) if (e >= lo - 1e-9 && e <= hi + 1e-9) out.push(e);
    if (out.length < 2) return ticks(lo, hi, 4);
    const stride = Math.ceil(out.length / 6);
    return out.filter((e, i) => i % stride === 0);
  }
  function scale(lo, hi, a, b) {
    if (!(hi > lo)) { lo -= 0.5; hi += 0.5; }
    return v => a + (v - lo) / (hi - lo) * (b - a);
  }

  /* a line chart: opts.series [{name, x, y, color, width, marks:[{x, y}]}],
     xlabel, ylabel, logx, logy, vlines [{x, label, color}] */
  function lineChart(parent, opts) {
    const W = opts.width || 520, H = opts.height || 240, m = {l: 62, r: 12, t: 10, b: 38};
    const fig = el("div", {"class": "fig chart", "data-chart": opts.id || ""}, parent);
    const svg = sv("svg", {width: W, height: H, viewBox: `0 0 ${W} ${H}`}, fig);
    const tx = v => opts.logx ? Math.log10(v) : v, ty = v => opts.logy ? Math.log10(v) : v;
    const ok = (x, y) => finite(x) && finite(y) && (!opts.logx || x > 0) && (!opts.logy || y > 0);
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const s of opts.series) s.x.forEach((x, i) => {
      const y = s.y[i];
      if (!ok(x, y)) return;
      x0 = Math.min(x0, tx(x)); x1 = Math.max(x1, tx(x));
      y0 = Math.min(y0, ty(y)); y1 = Math.max(y1, ty(y));
    });
    if (!isFinite(x0)) { x0 = 0; x1 = 1; y0 = 0; y1 = 1; }
    if (opts.yrange) { y0 = opts.yrange[0]; y1 = opts.yrange[1]; }
    if (!(y1 > y0)) { const d = y0 !== 0 && !opts.logy ? Math.abs(y0) * 0.5 : 0.5; y0 -= d; y1 += d; }
    if (!(x1 > x0)) { x0 -= 0.5; x1 += 0.5; }
    const pad = opts.yrange ? 0 : (y1 - y0) * 0.04; y0 -= pad; y1 += pad;
    const X = scale(x0, x1, m.l, W - m.r), Y = scale(y0, y1, H - m.b, m.t);
    const xt = opts.logx ? logTicks(x0, x1) : ticks(x0, x1, 6);
    const yt = opts.logy ? logTicks(y0, y1) : ticks(y0, y1, 5);
    for (const t of yt) {
      sv("line", {"class": "grid", x1: m.l, x2: W - m.r, y1: Y(t), y2: Y(t)}, svg);
      sv("text", {x: m.l - 5, y: Y(t) + 4, "text-anchor": "end"}, svg,
         opts.logy ? short(Math.pow(10, t)) : short(t));
    }
    for (const t of xt) {
      sv("line", {"class": "axis", x1: X(t), x2: X(t), y1: H - m.b, y2: H - m.b + 4}, svg);
      sv("text", {x: X(t), y: H - m.b + 16, "text-anchor": "middle"}, svg,
         opts.logx ? short(Math.pow(10, t)) : short(t));
    }
    sv("line", {"class": "axis", x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b}, svg);
    sv("line", {"class": "axis", x1: m.l, x2: m.l, y1: m.t, y2: H - m.b}, svg);
    sv("text", {x: (m.l + W - m.r) / 2, y: H - 4, "text-anchor": "middle"}, svg, opts.xlabel || "");
    sv("text", {x: 12, y: (m.t + H - m.b) / 2, "text-anchor": "middle",
                transform: `rotate(-90 12 ${(m.t + H - m.b) / 2})`}, svg, opts.ylabel || "");
    (opts.vlines || []).forEach((v, iv) => {
      if (!finite(v.x) || (opts.logx && v.x <= 0)) return;
      const xv = X(tx(v.x));
      sv("line", {x1: xv, x2: xv, y1: m.t, y2: H - m.b, stroke: v.color, "stroke-dasharray": "4 3",
                  "class": "vline"}, svg);
      const right = xv > (m.l + W - m.r) / 2;
      sv("text", {x: right ? xv - 3 : xv + 3, y: m.t + 10 + 12 * iv, style: `fill:${v.color}`,
                  "text-anchor": right ? "end" : "start"}, svg, v.label);
    });
    const legend = el("div", {"class": "legend"}, fig);
    opts.series.forEach((s, k) => {
      const c = s.color || COLORS[k % COLORS.length];
      let pts = [], n = 0;
      const flush = () => {
        if (pts.length > 1)
          sv("polyline", {"class": "series", points: pts.join(" "), stroke: c,
                          "stroke-width": s.width || 1.6, "data-series": s.name}, svg);
        else if (pts.length === 1) {
          const [px, py] = pts[0].split(",");
          sv("circle", {cx: px, cy: py, r: 2.5, fill: c, "data-series": s.name}, svg);
        }
        pts = [];
      };
      s.x.forEach((x, i) => {
        if (ok(x, s.y[i])) { pts.push(X(tx(x)).toFixed(1) + "," + Y(ty(s.y[i])).toFixed(1)); n++; }
        else flush();
      });
      flush();
      for (const mk of s.marks || []) {
        if (!ok(mk.x, mk.y)) continue;
        const px = X(tx(mk.x)), py = Y(ty(mk.y)), r = 5;
        sv("path", {d: `M${px - r},${py - r}L${px + r},${py + r}M${px - r},${py + r}L${px + r},${py - r}`,
                    stroke: c, "stroke-width": 2.2, "class": "mark"}, svg);
      }
      const item = el("span", {style: `--c:${c}`}, legend, s.name);
      item.dataset.points = n;
    });
    if (opts.readout) {
      const ro = el("div", {"class": "readout"}, fig);
      svg.addEventListener("mousemove", ev => {
        const r = svg.getBoundingClientRect(), px = (ev.clientX - r.left) * W / r.width;
        const s0 = opts.series[0];
        let best = -1, bd = Infinity;
        s0.x.forEach((x, i) => { const d = Math.abs(X(tx(x)) - px); if (d < bd) { bd = d; best = i; } });
        if (best >= 0) ro.textContent = opts.readout(best);
      });
    }
    return fig;
  }

  function histChart(parent, h, label, color) {
    const W = 170, H = 92, m = {l: 4, r: 4, t: 4, b: 28};
    const fig = el("div", {"class": "fig hist"}, parent);
    const svg = sv("svg", {width: W, height: H, viewBox: `0 0 ${W} ${H}`}, fig);
    if (!h || !h.counts.length) {
      sv("text", {x: W / 2, y: H / 2, "text-anchor": "middle"}, svg, "no finite values");
    } else {
      const k = h.counts.length, top = Math.max(1, ...h.counts), bw = (W - m.l - m.r) / k;
      h.counts.forEach((c, i) => {
        const bh = (H - m.t - m.b) * c / top;
        const r = sv("rect", {"class": "bar", x: m.l + i * bw, y: H - m.b - bh,
                              width: Math.max(bw - 0.6, 0.6), height: bh}, svg);
        if (color) r.setAttribute("style", `fill:${color}`);
        sv("title", {}, r, `${fmt(h.lo + i * (h.hi - h.lo) / k)} .. ${fmt(h.lo + (i + 1) * (h.hi - h.lo) / k)}: ${c}`);
      });
      sv("line", {"class": "axis", x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b}, svg);
      sv("text", {x: m.l, y: H - m.b + 12}, svg, short(h.lo));
      sv("text", {x: W - m.r, y: H - m.b + 12, "text-anchor": "end"}, svg, short(h.hi));
    }
    el("div", {"class": "cap"}, fig, label + (h && h.nonfinite ? ` (${h.nonfinite} not finite)` : ""));
    return fig;
  }

  function slider(parent, n, label, onchange, start) {
    const box = el("div", {"class": "slider"}, parent);
    const inp = el("input", {type: "range", min: 0, max: Math.max(0, n - 1), step: 1,
                             value: start === undefined ? n - 1 : start}, box);
    const lab = el("span", {}, box);
    const upd = () => { lab.textContent = label(+inp.value); onchange(+inp.value); };
    inp.addEventListener("input", upd);
    upd();
    return inp;
  }

  /* ---- configuration and summary ---- */
  const H = D.history;
  const sum = section("summary", "Run", null, true);
  const dl = el("dl", {"class": "summary"}, sum);
  const last = H.epoch.length - 1;
  const item = (k, label, v) => {
    const d = el("div", {"data-key": k}, dl);
    el("dt", {}, d, label); el("dd", {}, d, v);
  };
  item("epochs", "epochs", String(H.epoch.length ? H.epoch[last] : 0));
  if (last >= 0) {
    item("loss", "final loss", fmt(H.loss[last]));
    if (H.val_loss) item("val_loss", "final validation loss", fmt(H.val_loss[last]));
    const sc = H.val_score || H.val_metric;
    if (sc) item(H.val_score ? "val_score" : "val_metric", "final validation score", fmt(sc[last]));
    if (H.best_epoch !== null) item("best_epoch", `best epoch (${H.monitor})`, String(H.best_epoch));
    item("time", "training time (s)", fmt(H.time.reduce((a, b) => a + (b || 0), 0)));
  }
  for (const e of D.events) el("div", {"class": "event " + e.kind, "data-event": e.kind}, sum, e.text);

  const cfg = section("config", "Configuration");
  const ct = el("table", {"class": "kv"}, cfg);
  for (const [k, v] of D.config) { const tr = el("tr", {}, ct); el("td", {}, tr, k); el("td", {}, tr, v); }

  /* ---- confusion matrix / residuals ---- */
  const C = D.confusion;
  if (C) {
    const sec = section("confusion", "Confusion matrix",
                        `on the ${C.on} with the final weights: row = true class, column = predicted; accuracy ${(100 * C.accuracy).toFixed(2)} %`);
    const t = el("table", {"class": "confusion", id: "confusion-table"}, sec);
    const hr = el("tr", {}, t);
    el("th", {}, hr, "true \\ predicted");
    for (const c of C.labels) el("th", {"class": "num"}, hr, c);
    C.matrix.forEach((row, i) => {
      const tr = el("tr", {}, t);
      el("th", {}, tr, C.labels[i]);
      const tot = row.reduce((a, b) => a + b, 0) || 1;
      row.forEach((v, j) => {
        const a = v / tot, col = i === j ? "46,125,50" : "198,40,40";
        el("td", {style: `background: rgba(${col},${(0.85 * a).toFixed(3)})` + (a > 0.5 ? ";color:#fff" : "")}, tr, String(v));
      });
    });
  }
  const RS = D.residuals;
  if (RS) {
    const sec = section("residuals", "Residuals",
                        `on the ${RS.on} with the final weights: RMSE ${fmt(RS.rmse)}, R\u00b2 (first output) ${fmt(RS.r2)}`);
    const figs = el("div", {"class": "figures"}, sec);
    const lo = Math.min(...RS.true.filter(finite), ...RS.pred.filter(finite));
    const hi = Math.max(...RS.true.filter(finite), ...RS.pred.filter(finite));
    const W = 300, Hh = 300, m = 34;
    const fig = el("div", {"class": "fig", id: "residual-scatter"}, figs);
    const svg = sv("svg", {width: W, height: Hh}, fig);
    const s = scale(lo, hi, m, W - 8), t = scale(lo, hi, Hh - m, 8);
    sv("line", {"class": "axis", x1: s(lo), y1: t(lo), x2: s(hi), y2: t(hi), "stroke-dasharray": "4 3"}, svg);
    sv("line", {"class": "axis", x1: m, x2: W - 8, y1: Hh - m, y2: Hh - m}, svg);
    sv("line", {"class": "axis", x1: m, x2: m, y1: 8, y2: Hh - m}, svg);
    sv("text", {x: W / 2, y: Hh - 8, "text-anchor": "middle"}, svg, "target y");
    sv("text", {x: m, y: Hh - m + 12}, svg, short(lo));
    sv("text", {x: W - 8, y: Hh - m + 12, "text-anchor": "end"}, svg, short(hi));
    sv("text", {x: m - 3, y: Hh - m, "text-anchor": "end"}, svg, short(lo));
    sv("text", {x: m - 3, y: 16, "text-anchor": "end"}, svg, short(hi));
    sv("text", {x: 10, y: Hh / 2, transform: `rotate(-90 10 ${Hh / 2})`, "text-anchor": "middle"}, svg, "prediction a\u1d38");
    RS.true.forEach((y, i) => {
      if (finite(y) && finite(RS.pred[i]))
        sv("circle", {cx: s(y), cy: t(RS.pred[i]), r: 2.2, fill: "rgba(47,111,214,0.55)", "class": "pt"}, svg);
    });
    el("div", {"class": "cap"}, fig, "prediction against target");
    histChart(figs, RS.hist, "residual y \u2212 a\u1d38");
  }
  /* ---- per-epoch curves ---- */
  if (H.epoch.length) {
    const cur = section("curves", "Training curves",
                        "per epoch: the mean training loss C over the epoch's batches, the validation loss and score, the learning rate \u03b7 and the time", true);
    const figs = el("div", {"class": "figures"}, cur);
    const ev = D.events.filter(e => e.epoch !== null && e.kind !== "restarts").map(e => ({
      x: e.epoch, color: e.kind === "diverged" ? "#c62828" : "#2e7d32",
      label: e.kind.replace("_", " ")}));
    const loss = [{name: "training loss", x: H.epoch, y: H.loss}];
    if (H.val_loss) loss.push({name: "validation loss", x: H.epoch, y: H.val_loss});
    const pos = H.loss.concat(H.val_loss || []).filter(finite);
    lineChart(figs, {id: "loss", series: loss, xlabel: "epoch", ylabel: "loss", vlines: ev,
                     logy: pos.length > 0 && pos.every(v => v > 0) && Math.max(...pos) / Math.min(...pos) > 20,
                     readout: i => `epoch ${H.epoch[i]}: loss ${fmt(H.loss[i])}` +
                       (H.val_loss ? `, validation loss ${fmt(H.val_loss[i])}` : "")});
    for (const k of ["val_score", "val_metric"]) if (H[k])
      lineChart(figs, {id: k, series: [{name: k === "val_score" ? "validation score" : "validation accuracy / R\u00b2",
                                        x: H.epoch, y: H[k], color: COLORS[2]}],
                       xlabel: "epoch", ylabel: "score", vlines: ev});
    lineChart(figs, {id: "lr", series: [{name: "learning rate \u03b7", x: H.epoch, y: H.lr, color: COLORS[4]}],
                     xlabel: "epoch", ylabel: "\u03b7",
                     logy: H.lr.every(v => v > 0) && Math.max(...H.lr) > 10 * Math.min(...H.lr), width: 320, height: 200});
    lineChart(figs, {id: "time", series: [{name: "seconds per epoch", x: H.epoch, y: H.time, color: COLORS[7]}],
                     xlabel: "epoch", ylabel: "s", width: 320, height: 200});
    const det = el("details", {}, cur);
    el("summary", {}, det, `every epoch (${H.epoch.length})`);
    const keys = ["loss", "val_loss", "val_metric", "val_score", "lr", "time"].filter(k => H[k]);
    const t = el("table", {id: "epoch-table"}, det);
    const hr = el("tr", {}, el("thead", {}, t));
    el("th", {"class": "num"}, hr, "epoch");
    for (const k of keys) el("th", {"class": "num", "data-key": k}, hr, k);
    const tb = el("tbody", {}, t);
    H.epoch.forEach((e, i) => {
      const tr = el("tr", {}, tb);
      el("td", {"class": "num"}, tr, String(e));
      for (const k of keys) el("td", {"class": "num", "data-key": k}, tr, fmt(H[k][i]));
    });
  }

  /* ---- decision regions ---- */
  const R = D.regions;
  if (R && R.frames.length) {
    const sec = section("regions", "Decision regions",
                        "the class the network predicts over the input plane (x\u2081, x\u2082), with the training points, over the epochs", true);
    const pal = ["#3b6fd8", "#d8573b", "#2e9d57", "#8e5cc4", "#d4a017", "#1fa5b8", "#d45fa8", "#8c6d4f", "#6b7280", "#a8a32a"];
    const rgb = c => [1, 3, 5].map(i => parseInt(c.slice(i, i + 2), 16));
    const draw = (cv, fr, size, dots) => {
      const ctx = cv.getContext("2d"), n = R.res;
      const img = ctx.createImageData(n, n);
      for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
        const k = fr.labels.charCodeAt(r * n + c) - 48, [R0, G0, B0] = rgb(pal[k % pal.length]);
        const o = ((n - 1 - r) * n + c) * 4;
        img.data[o] = 255 - (255 - R0) * 0.45; img.data[o + 1] = 255 - (255 - G0) * 0.45;
        img.data[o + 2] = 255 - (255 - B0) * 0.45; img.data[o + 3] = 255;
      }
      const off = document.createElement("canvas"); off.width = n; off.height = n;
      off.getContext("2d").putImageData(img, 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(off, 0, 0, size, size);
      const sx = size / (R.hi[0] - R.lo[0]), sy = size / (R.hi[1] - R.lo[1]);
      const rad = dots || (R.points.length > 200 ? 2.5 : 6);
      for (const [x, y, k] of R.points) {
        ctx.beginPath();
        ctx.arc((x - R.lo[0]) * sx, size - (y - R.lo[1]) * sy, rad, 0, 2 * Math.PI);
        ctx.fillStyle = pal[k % pal.length]; ctx.fill();
        ctx.lineWidth = 1; ctx.strokeStyle = "#111"; ctx.stroke();
      }
    };
    const big = el("canvas", {width: 340, height: 340, id: "regions-main"}, sec);
    const thumbs = el("div", {"class": "thumbs"}, sec);
    const inp = slider(sec, R.frames.length, i => `epoch ${R.frames[i].epoch}`, i => draw(big, R.frames[i], 340));
    sec.insertBefore(inp.parentNode, big);
    R.frames.forEach((fr, i) => {
      const f = el("div", {"class": "fig"}, thumbs);
      const cv = el("canvas", {width: 96, height: 96, "class": "thumb"}, f);
      draw(cv, fr, 96, R.points.length > 200 ? 1 : 2.5);
      el("div", {"class": "cap"}, f, `epoch ${fr.epoch}`);
      f.addEventListener("click", () => { inp.value = i; inp.dispatchEvent(new Event("input")); });
    });
  }

  /* ---- the learning-rate sweep ---- */
  const S = D.lr_search;
  if (S) {
    const sec = section("lr_search", "Learning-rate sweep",
                        `${S.what} of each candidate rate, one copy of the network each from the same weights; \u00d7 marks a rate that diverged. ${S.reason}`, true);
    const figs = el("div", {"class": "figures"}, sec);
    const series = S.curves.map((c, i) => ({
      name: S.labels[i], x: c.map((_, j) => j + 1), y: c, width: i === S.chosen ? 3 : 1.4,
      marks: S.diverged[i] && c.length ? [{x: c.length, y: c.filter(finite).slice(-1)[0]}] : []}));
    series.forEach(s => { if (s.marks.length) s.marks[0].x = s.y.map(finite).lastIndexOf(true) + 1; });
    lineChart(figs, {id: "sweep", series: series, xlabel: "epoch", ylabel: S.what, logy: true});
    const okf = S.final.map((v, i) => (S.diverged[i] || !finite(v)) ? null : v);
    const top = Math.max(...okf.filter(finite), 1e-300);
    lineChart(figs, {id: "sweep-final", xlabel: "learning rate", ylabel: "final " + S.what, logx: true, logy: true,
                     series: [{name: "final " + S.what, x: S.lrs, y: okf},
                              {name: "diverged", x: [], y: [], color: COLORS[3],
                               marks: S.lrs.map((lr, i) => S.diverged[i] ? {x: lr, y: top} : null).filter(v => v)}],
                     vlines: S.chosen === null ? [] : [{x: S.lrs[S.chosen], color: "#2e7d32", label: "chosen"}]});
  }

  /* ---- per-layer statistics ---- */
  const SM = D.samples;
  if (SM.length && SM[0].layers.length) {
    const L = SM[0].layers.length;
    const sec = section("layers", "Layers, in the chapter's notation",
                        "at sampled epochs (epoch 0: the initial weights): histograms of the weights W\u02e1 and biases b\u02e1, and of the activations a\u02e1 and errors \u03b4\u02e1 on a fixed probe batch of training rows; the norm of \u2202C/\u2202W\u02e1 on that batch; the fraction of dead ReLU units (z \u2264 0 on every probe row) or saturated sigmoid/tanh units (flat on \u2265 90 % of the rows)", true);
    const ep = SM.map(s => s.epoch);
    const figs = el("div", {"class": "figures"}, sec);
    const names = Array.from({length: L}, (_, l) => `\u2016\u2202C/\u2202W${sup(l + 1)}\u2016`);
    lineChart(figs, {id: "gnorm", xlabel: "epoch", ylabel: "norm", logy: true,
                     series: names.map((n, l) => ({name: n, x: ep, y: SM.map(s => s.layers[l].gnorm)}))});
    const inact = [];
    for (let l = 0; l < L; l++) if (SM[0].layers[l].inactive !== null)
      inact.push({name: `layer ${l + 1} (${D.activations[l] || ""})`, x: ep, y: SM.map(s => s.layers[l].inactive)});
    if (inact.length) lineChart(figs, {id: "inactive", series: inact, xlabel: "epoch", ylabel: "fraction of units",
                                       yrange: [0, 1]});
    const box = el("div", {}, sec);
    const hold = el("div", {}, sec);
    const fin = SM.findIndex(s => s.epoch === D.final_epoch);
    slider(box, SM.length, i => `epoch ${SM[i].epoch}` + (i === fin ? " (the weights the model keeps)" : ""), i => {
      hold.textContent = "";
      SM[i].layers.forEach((ly, l) => {
        const row = el("div", {"class": "layer", "data-layer": l + 1}, hold);
        el("h3", {}, row, `layer ${l + 1}` + (D.activations[l] ? ` (${D.activations[l]})` : "") +
           ` \u2014 \u2016\u2202C/\u2202W${sup(l + 1)}\u2016 = ${fmt(ly.gnorm)}` +
           (ly.inactive !== null ? `, inactive units ${(100 * ly.inactive).toFixed(1)} %` : ""));
        const f = el("div", {"class": "figures"}, row);
        histChart(f, ly.W, `W${sup(l + 1)}`, "#6c93d8");
        histChart(f, ly.b, `b${sup(l + 1)}`, "#8fb38a");
        histChart(f, ly.a, `a${sup(l + 1)}`, "#e0a468");
        histChart(f, ly.d, `\u03b4${sup(l + 1)}`, "#c98bb9");
      });
    }, fin >= 0 ? fin : SM.length - 1);
  }

  document.body.setAttribute("data-rendered", "1");
})();
