/* splake dashboard: renders the pipeline-health and business-overview pages from the JSON API, or from
 * window.SPLAKE_SNAPSHOT in the self-contained static report. No external requests. */
(function () {
  "use strict";
  var SNAP = window.SPLAKE_SNAPSHOT || null;
  var PALETTE = ["#2e90fa", "#f79009", "#12b76a", "#7a5af8", "#f04438", "#06aed4", "#ee46bc", "#667085"];

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  function fmt(v, unit) {
    if (v === null || v === undefined) return "–";
    if (unit === "ratio") return (v * 100).toFixed(2) + " %";
    var digits = unit === "money" || unit === "days" ? 2 : (Math.round(v) === v ? 0 : 2);
    return Number(v).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  function currentFilters() {
    var q = new URLSearchParams(window.location.search);
    var out = {};
    ["account", "marketplace", "start", "end"].forEach(function (k) { if (q.get(k)) out[k] = q.get(k); });
    return out;
  }

  function api(path, params) {
    if (SNAP) {
      if (path === "/api/filters") return Promise.resolve(SNAP.options);
      if (path === "/api/health") return Promise.resolve(SNAP.health);
      if (path === "/api/marts") return Promise.resolve({ marts: SNAP.marts });
      var name = decodeURIComponent(path.split("/").pop());
      return Promise.resolve(SNAP.marts.filter(function (m) { return m.name === name; })[0]);
    }
    var qs = new URLSearchParams(params || {}).toString();
    return fetch(path + (qs ? "?" + qs : ""), { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) return r.json().then(function (j) { throw new Error(j.error || ("HTTP " + r.status)); });
      return r.json();
    });
  }

  // ---- business overview ------------------------------------------------------------------------
  function filterForm(root, options, filters) {
    var form = el("form", { class: "filters", id: "filters" });
    function select(name, label, values) {
      var s = el("select", { name: name, id: "filter-" + name }, [el("option", { value: "", text: "all" })]);
      values.forEach(function (v) {
        var o = el("option", { value: v, text: v });
        if (filters[name] === v) o.setAttribute("selected", "selected");
        s.appendChild(o);
      });
      return el("label", {}, [document.createTextNode(label), s]);
    }
    function dateInput(name, label) {
      var i = el("input", { type: "date", name: name, id: "filter-" + name });
      if (filters[name]) i.value = filters[name];
      return el("label", {}, [document.createTextNode(label), i]);
    }
    form.appendChild(select("account", "Account", options.accounts || []));
    form.appendChild(select("marketplace", "Marketplace", options.marketplaces || []));
    form.appendChild(dateInput("start", "From"));
    form.appendChild(dateInput("end", "To (inclusive)"));
    form.appendChild(el("button", { type: "submit", text: "Apply" }));
    if (SNAP) {
      form.querySelectorAll("select,input,button").forEach(function (c) { c.setAttribute("disabled", "disabled"); });
    }
    root.appendChild(form);
  }

  function totalsTable(m) {
    var tbody = el("tbody");
    Object.keys(m.totals || {}).forEach(function (key) {
      var parts = key.split("|");
      var meas = (m.measures || {})[parts[0]] || { label: parts[0], unit: "count" };
      var label = meas.label + (parts.length > 1 ? " (" + (parts[1] || "none") + ")" : "");
      tbody.appendChild(el("tr", {}, [
        el("th", { text: label }),
        el("td", { class: "num total", "data-mart": m.name, "data-key": key, "data-total": String(m.totals[key]), text: fmt(m.totals[key], meas.unit) }),
      ]));
    });
    Object.keys(m.ratios || {}).forEach(function (key) {
      var v = m.ratios[key];
      var meta = (m.ratio_meta || {})[key] || { label: key.replace(/_/g, " "), unit: "ratio" };
      tbody.appendChild(el("tr", {}, [
        el("th", { text: meta.label }),
        el("td", { class: "num ratio", "data-mart": m.name, "data-key": key, "data-total": String(v), text: fmt(v, meta.unit) }),
      ]));
    });
    return el("table", { class: "totals" }, [tbody]);
  }

  // With several currencies, one shared money axis would be dominated by the largest (JPY); show the
  // currency with the most data points and let the legend toggle the others.
  function primarySeries(datasets) {
    var score = {};
    datasets.forEach(function (d) {
      if (d.unit !== "money" || d.series === null) return;
      score[d.series] = (score[d.series] || 0) + d.data.filter(function (v) { return v; }).length;
    });
    var best = null;
    Object.keys(score).sort().forEach(function (k) { if (best === null || score[k] > score[best]) best = k; });
    return best;
  }

  function drawChart(canvas, m) {
    var primary = primarySeries(m.datasets);
    var datasets = m.datasets.map(function (d, i) {
      var c = PALETTE[i % PALETTE.length];
      var hidden = d.unit === "money" && d.series !== null && d.series !== primary;
      return { label: d.label, data: d.data, borderColor: c, backgroundColor: c, pointRadius: 0, borderWidth: 2, spanGaps: true,
        yAxisID: d.unit === "money" ? "y1" : "y", hidden: hidden };
    });
    if (primary !== null) canvas.setAttribute("data-primary-series", primary);
    var hasMoney = m.datasets.some(function (d) { return d.unit === "money"; });
    var hasOther = m.datasets.some(function (d) { return d.unit !== "money"; });
    var scales = { x: { ticks: { maxRotation: 0, autoSkip: true } } };
    if (hasOther) scales.y = { position: "left", beginAtZero: true };
    if (hasMoney) scales.y1 = { position: hasOther ? "right" : "left", beginAtZero: true, grid: { drawOnChartArea: !hasOther } };
    var chart = new window.Chart(canvas, {
      type: m.kind, data: { labels: m.labels, datasets: datasets },
      options: { animation: false, responsive: true, maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" } }, scales: scales },
    });
    var points = 0;
    chart.data.datasets.forEach(function (d, i) { points += chart.getDatasetMeta(i).data.length; });
    canvas.setAttribute("data-points", String(points));
    canvas.setAttribute("data-drawn", "true");
    return chart;
  }

  function martCard(grid, name, filters) {
    var card = el("section", { class: "card", id: "mart-" + name, "data-mart": name, "data-state": "loading" });
    grid.appendChild(card);
    return api("/api/marts/" + encodeURIComponent(name), filters).then(function (m) {
      card.appendChild(el("h2", { text: m.title }));
      card.appendChild(el("p", { class: "desc", text: m.description }));
      if (!m.available) {
        card.classList.add("unavailable");
        card.setAttribute("data-state", "unavailable");
        var why = m.missing_tables && m.missing_tables.length
          ? "Unavailable: waiting for table(s) " + m.missing_tables.join(", ") + " (sync the report types that feed them)."
          : "Unavailable: " + m.error;
        card.appendChild(el("p", { class: m.error ? "error" : "muted", text: why }));
        return;
      }
      card.setAttribute("data-rows", String(m.rows));
      if (!m.rows) card.appendChild(el("p", { class: "muted", text: "No rows for these filters." }));
      var canvas = el("canvas", { id: "chart-" + name });
      card.appendChild(el("div", { class: "chart-box" }, [canvas]));
      card.appendChild(totalsTable(m));
      if (!SNAP) {
        var links = el("p", { class: "downloads muted" }, [document.createTextNode("Download: ")]);
        ["csv", "parquet", "json"].forEach(function (f) {
          var q = new URLSearchParams(filters); q.set("format", f);
          links.appendChild(el("a", { href: "/api/marts/" + encodeURIComponent(name) + "/rows?" + q.toString(), text: f }));
          links.appendChild(document.createTextNode(" "));
        });
        card.appendChild(links);
      }
      if (window.Chart) drawChart(canvas, m);
      card.setAttribute("data-state", "rendered");
    }).catch(function (err) {
      card.setAttribute("data-state", "error");
      card.appendChild(el("p", { class: "error", text: "Failed to load " + name + ": " + err.message }));
    });
  }

  function renderOverviewPage(root) {
    var filters = SNAP ? (SNAP.filters || {}) : currentFilters();
    return Promise.all([api("/api/filters"), api("/api/marts")]).then(function (res) {
      root.innerHTML = "";
      filterForm(root, res[0], filters);
      var grid = el("div", { class: "grid", id: "marts" });
      root.appendChild(grid);
      var jobs = res[1].marts.map(function (m) { return martCard(grid, m.name, filters); });
      return Promise.all(jobs);
    }).then(function () {
      return "true";
    }).catch(function (err) {
      root.appendChild(el("p", { class: "error", id: "page-error", text: "Failed to load: " + err.message }));
      return "error";
    });
  }

  // ---- pipeline health --------------------------------------------------------------------------
  function cell(text, cls, attrs) {
    var a = attrs || {};
    a.text = text === null || text === undefined ? "–" : String(text);
    if (cls) a.class = cls;
    return el("td", a);
  }

  function lag(hours) {
    if (hours === null || hours === undefined) return null;
    return hours >= 48 ? (hours / 24).toFixed(1) + " d" : hours.toFixed(1) + " h";
  }

  function table(headers, rows) {
    var thead = el("thead", {}, [el("tr", {}, headers.map(function (h) { return el("th", { text: h }); }))]);
    return el("table", {}, [thead, el("tbody", {}, rows)]);
  }

  function renderHealthPage(root) {
    return api("/api/health").then(function (h) {
      root.innerHTML = "";
      if (!h.available) {
        root.appendChild(el("p", { class: "error", id: "health-unavailable", text: "Pipeline health unavailable: " + h.error }));
        return "true";
      }
      var s = h.summary || {};
      var sum = el("section", { class: "card", id: "summary" }, [el("h2", { text: "Summary" })]);
      var pills = el("p", {});
      Object.keys(s.states || {}).forEach(function (k) {
        pills.appendChild(el("span", { class: "pill state-" + k, "data-state": k, "data-count": String(s.states[k]), text: k + ": " + s.states[k] }));
      });
      sum.appendChild(pills);
      sum.appendChild(el("p", { id: "summary-line", "data-rows-landed": String(s.rows_landed), "data-throttled": String(s.throttled),
        text: "Reports: " + s.entries + " · rows landed: " + fmt(s.rows_landed) + " · throttled (429) responses: " + fmt(s.throttled) +
          " · as of " + h.generated_at }));
      root.appendChild(sum);

      // a damaged curated table fails only itself: say which, why, and the fix, before anything else
      var damaged = h.damaged_tables || [];
      if (damaged.length) {
        root.appendChild(el("section", { class: "card", id: "damaged" }, [el("h2", { text: "Damaged tables" }),
          table(["Table", "Fix", "What is wrong"], damaged.map(function (d) {
            return el("tr", { class: "failure", "data-table": d.table }, [cell(d.table), cell(d.hint), cell(d.reason, "error")]);
          }))]));
      }

      var syncRows = (h.rows || []).map(function (r) {
        return el("tr", { "data-account": r.account_id, "data-report-type": r.report_type }, [
          cell(r.account_id), cell(r.report_type), cell(r.last_sync), cell(r.last_state, "state-" + r.last_state),
          cell(Object.keys(r.states).map(function (k) { return k + " " + r.states[k]; }).join(", ")),
          cell(fmt(r.rows_landed), "num"), cell(fmt(r.throttled), "num"), cell(r.data_end),
          cell(lag(r.lag_hours), "num", { "data-lag-hours": String(r.lag_hours) }),
        ]);
      });
      root.appendChild(el("section", { class: "card", id: "syncs" }, [el("h2", { text: "Last sync per account × report type" }),
        table(["Account", "Report type", "Last sync", "Last state", "Ledger states", "Rows landed", "Throttled", "Data up to", "Lag"], syncRows)]));

      var failRows = (h.failures || []).map(function (f) {
        return el("tr", { class: "failure" }, [cell(f.account_id), cell(f.report_type), cell(f.report_id),
          cell(f.state, "state-" + f.state), cell(f.reason), cell(f.window), cell(f.at), cell(f.cooldown_until)]);
      });
      root.appendChild(el("section", { class: "card", id: "failures" }, [el("h2", { text: "FATAL / CANCELLED / HELD reports" }),
        failRows.length ? table(["Account", "Report type", "Report id", "State", "Reason", "Window", "When", "No retry before"], failRows)
          : el("p", { class: "muted", text: "None." })]));

      var tblRows = (h.tables || []).map(function (t) {
        return el("tr", { "data-table": t.table }, [cell(t.table), cell(fmt(t.rows), "num", { "data-rows": String(t.rows) }),
          cell(Object.keys(t.accounts || {}).map(function (a) { return a + " " + t.accounts[a]; }).join(", ")), cell(t.error || "", "error")]);
      });
      root.appendChild(el("section", { class: "card", id: "tables" }, [el("h2", { text: "Curated tables (rows in the lake)" }),
        table(["Table", "Rows", "Per account", ""], tblRows)]));

      var driftRows = (h.drift || []).map(function (d) {
        return el("tr", { class: "drift", "data-report-type": d.report_type, "data-kind": d.kind, "data-column": d.column }, [
          cell(d.report_type), cell(d.kind === "absent" ? "declared, absent" : "seen, undeclared"), cell(d.column),
          cell((d.marketplaces || []).join(", ")), cell(d.first_seen), cell(d.last_seen), cell(fmt(d.documents), "num")]);
      });
      root.appendChild(el("section", { class: "card", id: "drift" }, [el("h2", { text: "Layout drift (columns vs declarations)" }),
        driftRows.length ? table(["Report type", "Difference", "Column", "Marketplaces", "Since", "Last seen", "Documents"], driftRows)
          : el("p", { class: "muted", text: "None: every landed document matches its declared columns." })]));
      return "true";
    }).catch(function (err) {
      root.appendChild(el("p", { class: "error", text: "Failed to load: " + err.message }));
      return "error";
    });
  }

  function markRendered(promise) {
    return promise.then(function (state) { document.body.setAttribute("data-rendered", state); });
  }

  window.Splake = { renderOverviewPage: renderOverviewPage, renderHealthPage: renderHealthPage, markRendered: markRendered };
})();
