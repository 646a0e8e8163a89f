// The dashboard's browser script (vanilla JS, no framework): the runs table with filters, an SVG
// chart of one metric for the ticked runs, and the details of a run. It polls the JSON API every
// pollMs: the runs list, and for each charted run only the points newer than the last seq it has.
// Every point is drawn as a <circle data-run data-key data-step data-value>, so tests (and users'
// scripts) can read exactly what is plotted.
export const CLIENT_JS = String.raw`"use strict";
(function () {
  var PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
  var W = 720, H = 340, M = { l: 64, r: 16, t: 14, b: 34 };
  var state = {
    pollMs: 1500,
    runs: [],
    selected: [],          // run ids, in the order they were ticked
    colors: {},            // run id -> colour
    points: {},            // run id -> key -> {step: [step, value, seq]}
    lastSeq: {},           // run id -> largest seq fetched
    metric: null,
    detailsId: null,
    filters: { status: "", q: "", tag: "" }
  };

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "class") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function getJson(url) {
    return fetch(url).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error(j && j.error ? j.error : "HTTP " + r.status);
        return j;
      });
    });
  }
  function fmt(v) {
    if (v === null || v === undefined) return "—";
    if (typeof v !== "number") return String(v);
    if (Number.isInteger(v)) return String(v);
    var a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : v.toFixed(4);
  }
  function when(t) {
    var d = new Date(t * 1000);
    function p(n) { return String(n).padStart(2, "0"); }
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
  }
  function headline(final) {
    var keys = ["test_accuracy", "test_loss", "val_loss", "val_accuracy", "loss"].filter(function (k) { return k in final; }).slice(0, 2);
    return keys.map(function (k) { return k + " " + fmt(final[k]); }).join(", ");
  }

  // ---- runs table ----
  function query() {
    var f = state.filters, q = [];
    if (f.status) q.push("status=" + encodeURIComponent(f.status));
    if (f.q) q.push("q=" + encodeURIComponent(f.q));
    if (f.tag) q.push("tag=" + encodeURIComponent(f.tag));
    return q.length ? "?" + q.join("&") : "";
  }
  function renderRuns() {
    var body = document.querySelector("#runs tbody");
    body.textContent = "";
    state.runs.forEach(function (r) {
      var cb = el("input", { type: "checkbox", class: "sel", "data-run": r.id, "aria-label": "chart run " + r.id });
      cb.checked = state.selected.indexOf(r.id) >= 0;
      cb.addEventListener("change", function () { toggle(r.id, cb.checked); });
      var link = el("a", { class: "run", "data-run": r.id, text: r.id });
      link.addEventListener("click", function () { showDetails(r.id); });
      var tr = el("tr", { "data-run": r.id, class: cb.checked ? "selected" : "" }, [
        el("td", null, [cb]),
        el("td", null, [link]),
        el("td", { text: r.name + (r.dataset ? " · " + r.dataset : "") }),
        el("td", { text: r.tags.join(", ") }),
        el("td", { class: "status-" + r.status, text: r.status }),
        el("td", { text: when(r.startedAt) }),
        el("td", { text: headline(r.final) })
      ]);
      if (cb.checked && state.colors[r.id]) tr.firstChild.style.borderLeft = "4px solid " + state.colors[r.id];
      body.appendChild(tr);
    });
  }
  function toggle(id, on) {
    var i = state.selected.indexOf(id);
    if (on && i < 0) {
      state.selected.push(id);
      var used = Object.keys(state.colors).filter(function (k) { return state.selected.indexOf(k) >= 0; }).map(function (k) { return state.colors[k]; });
      state.colors[id] = PALETTE.filter(function (c) { return used.indexOf(c) < 0; })[0] || PALETTE[state.selected.length % PALETTE.length];
    } else if (!on && i >= 0) {
      state.selected.splice(i, 1);
    }
    renderRuns();
    refreshMetricMenu();
    fetchPoints().then(drawChart);
  }

  // ---- metrics ----
  function keysOfSelected() {
    var keys = {};
    state.selected.forEach(function (id) {
      var r = state.runs.filter(function (x) { return x.id === id; })[0];
      (r ? r.keys : []).forEach(function (k) { keys[k] = true; });
      Object.keys(state.points[id] || {}).forEach(function (k) { keys[k] = true; });
    });
    return Object.keys(keys).sort();
  }
  function refreshMetricMenu() {
    var keys = keysOfSelected(), sel = $("metric");
    if (state.metric === null || keys.indexOf(state.metric) < 0) {
      state.metric = ["loss", "val_loss", "train_loss"].filter(function (k) { return keys.indexOf(k) >= 0; })[0] || keys[0] || null;
    }
    var have = Array.prototype.map.call(sel.options, function (o) { return o.value; }).join(",");
    if (have !== keys.join(",")) {
      sel.textContent = "";
      keys.forEach(function (k) { sel.appendChild(el("option", { value: k, text: k })); });
    }
    if (state.metric !== null) sel.value = state.metric;
  }
  function fetchPoints() {
    return Promise.all(state.selected.map(function (id) {
      var after = state.lastSeq[id] || 0;
      return getJson("/api/metrics?runs=" + encodeURIComponent(id) + "&after=" + after).then(function (j) {
        var series = j.points[id] || {}, fresh = false;
        var mine = state.points[id] || (state.points[id] = {});
        Object.keys(series).forEach(function (k) {
          var byStep = mine[k] || (mine[k] = {});
          series[k].forEach(function (p) { byStep[p[0]] = p; fresh = true; });
        });
        if (j.seq > after) state.lastSeq[id] = j.seq;
        return fresh;
      });
    })).then(function (fresh) { return fresh.some(Boolean); });
  }

  // ---- chart ----
  function ticks(lo, hi, n) {
    if (hi === lo) return [lo];
    var step = Math.pow(10, Math.floor(Math.log10((hi - lo) / n)));
    var err = (hi - lo) / n / step;
    if (err >= 7.5) step *= 10; else if (err >= 3.5) step *= 5; else if (err >= 1.5) step *= 2;
    var out = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
    return out;
  }
  function drawChart() {
    var chart = $("chart");
    chart.textContent = "";
    var key = state.metric, legend = $("legend");
    legend.textContent = "";
    var series = state.selected.map(function (id) {
      var byStep = (state.points[id] || {})[key] || {};
      var pts = Object.keys(byStep).map(function (s) { return byStep[s]; }).filter(function (p) { return p[1] !== null; });
      pts.sort(function (a, b) { return a[0] - b[0]; });
      return { id: id, pts: pts };
    }).filter(function (s) { return s.pts.length > 0; });
    chart.setAttribute("data-key", key || "");
    chart.setAttribute("data-series", String(series.length));
    if (!key || series.length === 0) {
      var msg = svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle" });
      msg.textContent = state.selected.length ? "no points of " + (key || "any metric") + " yet" : "tick runs in the table to chart them";
      chart.appendChild(msg);
      return;
    }
    var xs = [], ys = [];
    series.forEach(function (s) { s.pts.forEach(function (p) { xs.push(p[0]); ys.push(p[1]); }); });
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    var y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    if (x0 === x1) { x0 -= 1; x1 += 1; }
    if (y0 === y1) { var d = Math.abs(y0) * 0.1 || 1; y0 -= d; y1 += d; }
    var pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad;
    function X(v) { return M.l + (v - x0) / (x1 - x0) * (W - M.l - M.r); }
    function Y(v) { return H - M.b - (v - y0) / (y1 - y0) * (H - M.t - M.b); }
    chart.setAttribute("data-x-min", String(x0)); chart.setAttribute("data-x-max", String(x1));
    chart.setAttribute("data-y-min", String(y0)); chart.setAttribute("data-y-max", String(y1));
    ticks(y0, y1, 5).forEach(function (v) {
      chart.appendChild(svg("line", { class: "grid", x1: M.l, x2: W - M.r, y1: Y(v), y2: Y(v) }));
      var t = svg("text", { x: M.l - 6, y: Y(v) + 4, "text-anchor": "end" }); t.textContent = fmt(v); chart.appendChild(t);
    });
    ticks(x0, x1, 6).filter(function (v) { return Number.isInteger(v); }).forEach(function (v) {
      var t = svg("text", { x: X(v), y: H - M.b + 16, "text-anchor": "middle" }); t.textContent = String(v); chart.appendChild(t);
    });
    chart.appendChild(svg("line", { class: "axis", x1: M.l, x2: M.l, y1: M.t, y2: H - M.b }));
    chart.appendChild(svg("line", { class: "axis", x1: M.l, x2: W - M.r, y1: H - M.b, y2: H - M.b }));
    var xl = svg("text", { x: (M.l + W - M.r) / 2, y: H - 4, "text-anchor": "middle" }); xl.textContent = "step"; chart.appendChild(xl);
    series.forEach(function (s) {
      var c = state.colors[s.id];
      var dpath = s.pts.map(function (p, i) { return (i ? "L" : "M") + X(p[0]).toFixed(2) + "," + Y(p[1]).toFixed(2); }).join(" ");
      chart.appendChild(svg("path", { d: dpath, fill: "none", stroke: c, "stroke-width": 2, "data-run": s.id }));
      s.pts.forEach(function (p) {
        var circle = svg("circle", { cx: X(p[0]).toFixed(2), cy: Y(p[1]).toFixed(2), r: 3.5, fill: c, "data-run": s.id, "data-key": key, "data-step": String(p[0]), "data-value": String(p[1]) });
        var title = svg("title", {}); title.textContent = s.id + " " + key + " @ " + p[0] + ": " + fmt(p[1]);
        circle.appendChild(title);
        chart.appendChild(circle);
      });
      legend.appendChild(el("span", { class: "swatch", style: "background:" + c }));
      legend.appendChild(document.createTextNode(s.id + " (" + s.pts.length + ")"));
    });
  }

  // ---- details ----
  function pairs(list) {
    return el("table", { class: "pairs" }, [el("tbody", null, list.filter(function (p) { return p[1] !== null && p[1] !== undefined && p[1] !== ""; }).map(function (p) {
      return el("tr", null, [el("td", { text: p[0] }), el("td", { text: typeof p[1] === "string" ? p[1] : fmt(p[1]) })]);
    }))]);
  }
  function objectTable(rows, cols) {
    if (!rows.length) return el("p", { class: "muted", text: "none" });
    if (!cols) {
      cols = [];
      rows.forEach(function (r) { Object.keys(r).forEach(function (k) { var v = r[k]; if (cols.indexOf(k) < 0 && (v === null || typeof v !== "object")) cols.push(k); }); });
    }
    return el("table", null, [
      el("thead", null, [el("tr", null, cols.map(function (c) { return el("th", { text: c }); }))]),
      el("tbody", null, rows.map(function (r) {
        return el("tr", null, cols.map(function (c) { var v = r[c]; return el("td", { class: typeof v === "number" ? "num" : "", text: v === undefined ? "" : fmt(v) }); }));
      }))
    ]);
  }
  function valueText(v) { return v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : typeof v === "number" ? fmt(v) : String(v); }
  function dataReport(title, rep) {
    var box = el("div", { class: "data-report" }, [el("h3", { text: title })]);
    if (!rep || typeof rep !== "object") return box;
    if (rep.error) { box.appendChild(el("p", { class: "warn", text: rep.error })); return box; }
    var head = [];
    ["source", "format", "rows", "duplicateRows", "against"].forEach(function (k) { if (k in rep) head.push([k, valueText(rep[k])]); });
    box.appendChild(pairs(head));
    if (Array.isArray(rep.columns)) { box.appendChild(el("h3", { text: "columns" })); box.appendChild(objectTable(rep.columns)); }
    if (Array.isArray(rep.issues)) { box.appendChild(el("h3", { text: "issues (" + rep.issues.length + ")" })); box.appendChild(objectTable(rep.issues, ["kind", "column", "count", "type", "file"])); }
    if (Array.isArray(rep.warnings)) { box.appendChild(el("h3", { text: "warnings" })); box.appendChild(el("ul", null, rep.warnings.map(function (w) { return el("li", { class: "warn", text: String(w) }); }))); }
    if (Array.isArray(rep.classes)) { box.appendChild(el("h3", { text: "classes" })); box.appendChild(objectTable(rep.classes)); }
    if (Array.isArray(rep.drift)) { box.appendChild(el("h3", { text: "drift" })); box.appendChild(objectTable(rep.drift)); }
    return box;
  }
  function renderDetails(d) {
    var r = d.run, box = $("details");
    box.textContent = "";
    box.setAttribute("data-run", r.id);
    box.appendChild(el("h2", { text: "Run " + r.id + " · " + r.name + " (" + r.kind + "), " + r.status }));
    var took = ((r.endedAt || r.updatedAt) - r.startedAt).toFixed(1) + " s";
    box.appendChild(pairs([
      ["command", r.command], ["started", when(r.startedAt) + " on " + r.host + " (pid " + r.pid + "), " + took],
      ["git", r.gitCommit ? r.gitCommit + (r.gitBranch ? " (" + r.gitBranch + ")" : "") : null],
      ["seed", r.seed === null ? null : String(r.seed)], ["dataset", r.dataset ? r.dataset + (r.datasetChecksum ? "  " + r.datasetChecksum : "") : null],
      ["model", r.modelDir], ["tensorboard", r.logdir ? "tensorboard --logdir " + r.logdir : null],
      ["lineage", d.lineage.length ? [r.id].concat(d.lineage.map(function (p) { return p.id; })).join(" ← ") + (r.relation ? "  (" + r.relation + ")" : "") : null],
      ["children", d.children.length ? d.children.map(function (c) { return c.id + " (" + (c.relation || "derived") + ")"; }).join(", ") : null],
      ["error", r.error]
    ]));
    box.appendChild(el("h3", { text: "config" }));
    box.appendChild(pairs(Object.keys(r.config).map(function (k) { return [k, valueText(r.config[k])]; })));
    box.appendChild(el("h3", { text: "final metrics" }));
    box.appendChild(pairs(Object.keys(d.final).sort().map(function (k) { return [k, d.final[k]]; })));
    if (d.card) {
      var card = el("div", { id: "card" }, [el("h3", { text: "model card (card.json)" })]);
      var c = d.card, shown = [];
      ["framework", "recipe", "api", "dataset", "task", "params", "metrics", "evaluation", "run_id", "backend", "command"].forEach(function (k) { if (k in c) shown.push([k, valueText(c[k])]); });
      card.appendChild(pairs(shown));
      var more = el("details", null, [el("summary", { text: "all of card.json" }), el("pre", { text: JSON.stringify(c, null, 2) })]);
      card.appendChild(more);
      box.appendChild(card);
    }
    if (d.compression) {
      var comp = el("div", { id: "compression" }, [el("h3", { text: "compression" })]);
      if (d.compression.lineage.length) comp.appendChild(objectTable(d.compression.lineage.map(function (s) { return { method: s.method, parameters: JSON.stringify(s.parameters), finetune_epochs: s.finetune_epochs, source: s.source, date: s.date }; })));
      if (d.compression.report) comp.appendChild(el("pre", { class: "report-md", text: d.compression.report }));
      d.compression.reports.forEach(function (x) { comp.appendChild(el("pre", { text: x.text })); });
      box.appendChild(comp);
    }
    d.dataReports.forEach(function (x) { box.appendChild(dataReport("data report: " + x.name, x.report)); });
    d.profile.forEach(function (p) {
      var prof = el("div", { class: "profile" }, [el("h3", { text: "profile: " + p.path })]);
      if (p.summary.error) prof.appendChild(el("p", { class: "warn", text: p.summary.error }));
      else {
        var s = p.summary;
        prof.appendChild(el("p", { class: "muted", text: s.events + " events; self time " + (s.selfUs / 1000).toFixed(1) + " ms" + (s.wallUs ? " of " + (s.wallUs / 1000).toFixed(1) + " ms wall" : "") + " (open the file in ui.perfetto.dev)" }));
        prof.appendChild(objectTable(s.rows.map(function (x) { return { name: x.name, kind: x.kind, calls: x.calls, self_ms: x.selfUs / 1000, total_ms: x.totalUs / 1000, "self %": s.selfUs ? 100 * x.selfUs / s.selfUs : 0, flops: x.flops, bytes: x.bytes }; })));
      }
      box.appendChild(prof);
    });
    if (d.artifacts.length) {
      box.appendChild(el("h3", { text: "artefacts" }));
      box.appendChild(objectTable(d.artifacts, ["name", "kind", "bytes", "path"]));
    }
  }
  function showDetails(id) {
    state.detailsId = id;
    return getJson("/api/run/" + encodeURIComponent(id)).then(renderDetails, function (e) {
      $("details").textContent = e.message;
    });
  }
  function renderDataReports(list) {
    var box = $("data-reports");
    box.textContent = "";
    if (!list.length) return;
    box.appendChild(el("h2", { text: "Data reports" }));
    list.forEach(function (x) { box.appendChild(dataReport(x.name, x.report)); });
  }

  // ---- polling ----
  var lastRunsJson = "";
  function poll() {
    return getJson("/api/runs" + query()).then(function (j) {
      $("db").textContent = j.db;
      $("note").textContent = j.note || (j.runs.length ? "" : "no runs match");
      var text = JSON.stringify(j.runs);
      state.runs = j.runs;
      if (text !== lastRunsJson) { lastRunsJson = text; renderRuns(); refreshMetricMenu(); }
      return fetchPoints();
    }).then(function (fresh) {
      if (fresh) { refreshMetricMenu(); drawChart(); }
      var running = state.runs.some(function (r) { return r.id === state.detailsId && r.status === "running"; });
      if (running || (fresh && state.detailsId && state.selected.indexOf(state.detailsId) >= 0)) showDetails(state.detailsId);
      $("live").className = "live";
    }).catch(function (e) {
      $("live").className = "live stale";
      $("live").title = e.message;
    });
  }
  function schedule() { setTimeout(function () { poll().then(schedule); }, state.pollMs); }

  ["f-status", "f-q", "f-tag"].forEach(function (id) {
    $(id).addEventListener("input", function () {
      state.filters = { status: $("f-status").value, q: $("f-q").value.trim(), tag: $("f-tag").value.trim() };
      poll();
    });
  });
  $("metric").addEventListener("change", function () { state.metric = $("metric").value; drawChart(); });

  getJson("/api/config").then(function (c) {
    state.pollMs = c.pollMs;
    if (c.dataReports) getJson("/api/data-reports").then(renderDataReports);
  }).then(function () { return poll(); }).then(function () { drawChart(); schedule(); });
})();
`;
