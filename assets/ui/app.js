// pgrt's status page: reads the node's JSON endpoints and draws them. No library, no build
// step; every figure shown is the API's, formatted. An error in this script is written into
// #js-errors (data-count) so that tests and operators can see it.
"use strict";
(function () {
  const params = new URLSearchParams(location.search);
  const refreshMs = Math.max(1000, Number(params.get("refresh") || 5) * 1000);
  const historyEvery = 10000;     // the ring keeps a sample every 10 s
  const statementsEvery = 30000;  // pg_stat_statements changes slowly; each read is a query
  let lastHistory = 0;
  let lastStatements = 0;
  let clusterAvailable = true;    // /cluster answers 404 without PGRT_HA: stop asking

  const errors = document.getElementById("js-errors");
  function recordError(text) {
    const n = Number(errors.getAttribute("data-count") || 0) + 1;
    errors.setAttribute("data-count", String(n));
    const line = document.createElement("p");
    line.textContent = text;
    errors.appendChild(line);
    errors.hidden = false;
  }
  window.addEventListener("error", function (e) { recordError("error: " + e.message); });
  window.addEventListener("unhandledrejection", function (e) {
    recordError("unhandled rejection: " + (e.reason && e.reason.message ? e.reason.message : e.reason));
  });

  const $ = function (id) { return document.getElementById(id); };
  function setText(id, text) { $(id).textContent = text; }

  function bytes(n) {
    if (n === null || n === undefined || !isFinite(n)) return "–";
    const units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let i = 0;
    let v = Number(n);
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i === 0 ? String(Math.round(v)) : v.toFixed(v < 10 ? 1 : 0)) + " " + units[i];
  }
  function duration(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
    let s = Math.floor(seconds);
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    if (d > 0) return d + "d " + h + "h " + m + "m";
    if (h > 0) return h + "h " + m + "m " + s + "s";
    if (m > 0) return m + "m " + s + "s";
    return s + "s";
  }
  function number(n, digits) {
    if (n === null || n === undefined || !isFinite(n)) return "–";
    return Number(n).toFixed(digits === undefined ? 0 : digits);
  }
  function millis(ms) {
    if (ms === null || ms === undefined || !isFinite(ms)) return "–";
    if (ms >= 1000) return (ms / 1000).toFixed(2) + " s";
    return Number(ms).toFixed(ms < 10 ? 2 : 1) + " ms";
  }
  function when(iso) {
    if (!iso) return "–";
    const t = new Date(iso);
    if (isNaN(t.getTime())) return iso;
    return t.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z").replace(/Z$/, " UTC");
  }
  function cell(row, text, cls, value) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    if (value !== undefined && value !== null) td.setAttribute("data-value", String(value));
    row.appendChild(td);
    return td;
  }
  function fillBody(table, items, render) {
    const body = $(table).querySelector("tbody");
    body.textContent = "";
    items.forEach(function (item) {
      const row = document.createElement("tr");
      render(row, item);
      body.appendChild(row);
    });
  }
  function setBar(id, fraction) {
    const f = Math.max(0, Math.min(1, Number(fraction) || 0));
    $(id).firstElementChild.style.width = (f * 100).toFixed(1) + "%";
  }

  // Fails with an error marked `fetch`: the node did not answer (a page bug is not one).
  async function getJson(path) {
    let r;
    try {
      r = await fetch(path, { cache: "no-store" });
    } catch (err) {
      const e = new Error(path + ": " + err.message);
      e.fetch = true;
      throw e;
    }
    if (!r.ok) {
      const e = new Error(path + ": HTTP " + r.status);
      e.status = r.status;
      e.fetch = true;
      throw e;
    }
    return r.json();
  }

  function volume(id, v) {
    if (!v || !v.mounted) { setText(id, v ? v.path + ": not mounted" : "–"); return; }
    setText(id, v.used + " of " + v.size + " used (" + v.usePercent + "), " + v.available +
                " free · " + v.path);
  }

  function renderStatus(s) {
    const rep = s.replication || {};
    const role = rep.role || rep.mode || "unknown";
    const roleEl = $("role");
    roleEl.textContent = role;
    roleEl.className = "badge " + (s.ready ? role : "down");
    setText("phase", s.phase);
    setText("version", s.version + (s.serverVersion ? " (" + s.serverVersion + ")" : ""));
    $("version").setAttribute("data-value", s.version);
    setText("uptime", duration(s.uptime));
    setText("postgres-uptime", duration(s.postgresUptime));
    setText("conn-current", String(s.connections.current));
    setText("conn-max", String(s.connections.max));
    setBar("conn-bar", s.connections.max ? s.connections.current / s.connections.max : 0);
    volume("disk-data", s.volumes && s.volumes.data);
    volume("disk-backups", s.volumes && s.volumes.backups);
    setText("restarts", String(s.restarts));
    setText("message", s.message || (s.error || ""));
    renderProgress(s.progress);
    renderReplication(rep);
    renderBackups(s.backup || {}, s.dump || {});
    renderTransitions(s.transitions || []);
  }

  function renderProgress(p) {
    const box = $("progress");
    if (!p) { box.hidden = true; return; }
    box.hidden = false;
    setText("progress-operation", p.operation);
    const total = p.bytesTotal;
    let text = bytes(p.bytesDone) + (total ? " of " + bytes(total) : "");
    if (p.percent !== null && p.percent !== undefined) text += " (" + number(p.percent, 1) + " %)";
    if (p.detail) text += " · " + p.detail;
    setText("progress-text", text);
    setBar("progress-bar", p.percent !== null && p.percent !== undefined ? p.percent / 100 : 0);
  }

  function renderReplication(rep) {
    const standbys = rep.standbys || [];
    if (rep.role === "primary") {
      setText("replication-summary", standbys.length + " standby(s) connected; WAL at " +
                                     (rep.currentLsn || "–"));
    } else if (rep.role === "replica") {
      setText("replication-summary", "following " + rep.primaryHost + ":" + rep.primaryPort);
    } else {
      setText("replication-summary", rep.enabled ? "waiting for postgres" : "standalone: no replication");
    }
    $("standbys").hidden = rep.role !== "primary" || standbys.length === 0;
    fillBody("standbys", standbys, function (row, sb) {
      row.setAttribute("data-name", sb.applicationName || "");
      cell(row, sb.applicationName || "–", "name");
      cell(row, (sb.clientAddr || "local") + (sb.clientPort ? ":" + sb.clientPort : ""));
      cell(row, sb.state || "–", "state");
      cell(row, sb.syncState || "–");
      cell(row, bytes(sb.lagBytes), "num lag-bytes", sb.lagBytes);
      cell(row, number(sb.replayLagSeconds, 3), "num lag-seconds", sb.replayLagSeconds);
    });
    const up = $("upstream");
    up.hidden = rep.role !== "replica";
    if (rep.role === "replica") {
      setText("upstream-host", rep.primaryHost + ":" + rep.primaryPort +
                               (rep.slotName ? " (slot " + rep.slotName + ")" : ""));
      setText("upstream-receiver", rep.walReceiverStatus || "–");
      setText("replica-lag-bytes", bytes(rep.lagBytes));
      $("replica-lag-bytes").setAttribute("data-value", String(rep.lagBytes));
      setText("replica-lag-seconds", number(rep.lagSeconds, 3) + " s");
      $("replica-lag-seconds").setAttribute("data-value", String(rep.lagSeconds));
      setText("replica-paused", rep.paused ? "yes" : "no");
    }
  }

  function renderBackups(b, d) {
    function row(id, v) {
      const tr = $(id);
      const last = v.last || null;
      const put = function (cls, text) { tr.querySelector("." + cls).textContent = text; };
      if (!v.enabled) {
        put("last", "not configured");
        ["result", "size", "running", "next"].forEach(function (c) { put(c, "–"); });
        return;
      }
      put("last", last ? when(last.time) + " (" + last.type + ", " + last.trigger + ")" : "none yet");
      const result = tr.querySelector(".result");
      result.textContent = last ? last.result + (last.error ? ": " + last.error : "") : "–";
      result.className = "result " + (last ? (last.result === "ok" ? "ok" : "bad") : "");
      put("size", last ? bytes(last.sizeBytes) : "–");
      put("running", v.running ? v.running.type + " since " + when(v.running.startedAt) : "no");
      put("next", v.next ? when(v.next) : "not scheduled");
    }
    row("backup-row", b);
    row("dump-row", d);
    const a = b.archive;
    setText("archive", a ? "WAL archiving (" + a.mode + "): " + a.archivedCount + " archived, " +
                           a.failedCount + " failed" + (a.lastFailedWal ? " (last failure " +
                           a.lastFailedWal + " at " + when(a.lastFailedTime) + ")" : "") : "");
  }

  function renderTransitions(moves) {
    const recent = moves.slice().reverse();
    const render = function (row, m) {
      cell(row, when(m.at));
      cell(row, m.from + " → " + m.to, "move");
      cell(row, m.why);
    };
    fillBody("transitions", recent, render);
    const sleep = /^(hibernat|wak)/;
    fillBody("wake-history", recent.filter(function (m) {
      return sleep.test(m.from) || sleep.test(m.to);
    }), render);
  }

  function renderCluster(c) {
    $("cluster-section").hidden = false;
    setText("cluster-summary", "cluster " + c.scope + ", leader " + (c.leader || "none") +
                               (c.sync_standby ? ", synchronous standby " + c.sync_standby : ""));
    fillBody("members", c.members || [], function (row, m) {
      row.setAttribute("data-name", m.name);
      cell(row, m.name, "name");
      cell(row, m.role, "role");
      cell(row, m.state || "–");
      cell(row, m.host + ":" + m.port);
      cell(row, m.lag === undefined ? "–" : bytes(m.lag), "num", m.lag);
      cell(row, String(m.timeline), "num");
    });
  }

  // A line chart of `values` (null: no value, the line breaks) over the ring's hour.
  function chart(id, samples, pick, format, nowId) {
    const svg = $(id);
    const ns = "http://www.w3.org/2000/svg";
    svg.textContent = "";
    const values = samples.map(pick);
    const known = values.filter(function (v) { return v !== null && v !== undefined && v >= 0; });
    const max = known.length ? Math.max.apply(null, known) : 0;
    const top = max > 0 ? max * 1.1 : 1;
    const end = samples.length ? Date.parse(samples[samples.length - 1].at) : Date.now();
    const span = 3600 * 1000;
    let points = [];
    const flush = function () {
      if (points.length === 1) {  // a lone value: a dot, as a line of one point is not drawn
        const dot = document.createElementNS(ns, "circle");
        const xy = points[0].split(",");
        dot.setAttribute("cx", xy[0]);
        dot.setAttribute("cy", xy[1]);
        dot.setAttribute("r", "1.5");
        svg.appendChild(dot);
      } else if (points.length > 1) {
        const line = document.createElementNS(ns, "polyline");
        line.setAttribute("points", points.join(" "));
        svg.appendChild(line);
      }
      points = [];
    };
    samples.forEach(function (s, i) {
      const v = values[i];
      if (v === null || v === undefined || v < 0) { flush(); return; }
      const x = 360 - (end - Date.parse(s.at)) / span * 360;
      const y = 100 - (v / top) * 96;
      points.push(x.toFixed(1) + "," + y.toFixed(1));
    });
    flush();
    const last = known.length ? values[values.length - 1] : null;
    setText(nowId, (last === null || last === undefined || last < 0 ? "–" : format(last)) +
                   " · max " + format(max));
  }

  function renderHistory(h) {
    const samples = h.samples || [];
    setText("sample-interval", String(h.intervalSeconds));
    setText("sample-count", String(samples.length));
    chart("chart-tps", samples, function (s) { return s.tps; }, function (v) { return number(v, 1); }, "now-tps");
    chart("chart-connections", samples, function (s) { return s.connections; }, function (v) { return number(v); }, "now-connections");
    chart("chart-lag", samples, function (s) { return s.lagBytes; }, bytes, "now-lag");
    chart("chart-wal", samples, function (s) { return s.walBytesPerSecond; }, function (v) { return bytes(v) + "/s"; }, "now-wal");
  }

  function renderStatements(st) {
    if (!st.available) {
      setText("statements-note", st.reason || "pg_stat_statements is not available");
      fillBody("statements", [], function () {});
      return;
    }
    setText("statements-note", "Normalized text (constants are $1, $2, …) of plannable statements; " +
                               "utility statements are counted but not shown.");
    fillBody("statements", st.statements || [], function (row, s) {
      cell(row, s.query, "sql");
      cell(row, String(s.calls), "num calls", s.calls);
      cell(row, millis(s.totalTimeMs), "num", s.totalTimeMs);
      cell(row, millis(s.meanTimeMs), "num", s.meanTimeMs);
      cell(row, String(s.rows), "num", s.rows);
      cell(row, s.database || "–");
    });
  }

  async function refresh() {
    const problems = [];
    const now = Date.now();
    const wanted = [getJson("/__opr/status").then(renderStatus)];
    if (now - lastHistory >= historyEvery) {
      lastHistory = now;
      wanted.push(getJson("/__opr/history/samples").then(renderHistory));
    }
    if (now - lastStatements >= statementsEvery) {
      lastStatements = now;
      wanted.push(getJson("/__opr/statements").then(renderStatements));
    }
    if (clusterAvailable) {
      wanted.push(getJson("/cluster").then(renderCluster, function (e) {
        if (e.status === 404) { clusterAvailable = false; return; }
        throw e;
      }));
    }
    const results = await Promise.allSettled(wanted);
    results.forEach(function (r) {
      if (r.status !== "rejected") return;
      if (r.reason && r.reason.fetch) problems.push(r.reason.message);
      else recordError("render: " + (r.reason && r.reason.stack ? r.reason.stack : r.reason));
    });
    setText("fetch-error", problems.join("; "));
    setText("updated", new Date().toLocaleTimeString());
    document.body.setAttribute("data-loaded", String(Number(document.body.getAttribute("data-loaded")) + 1));
  }

  fetch("/__opr/timings", { cache: "no-store" })
    .then(function (r) { return r.ok ? r.text() : ""; })
    .then(function (t) { setText("timings", t); }, function () {});

  refresh();
  setInterval(refresh, refreshMs);
})();
