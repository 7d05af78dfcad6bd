// The Signalbox signal explorer: pick a user, see every signal and view as tables, the mix of a
// grouped signal over time, recent items with their sessions; and the service's live rates.
// Talks only to the server that served it (docs/web.md, docs/http-api.md).
"use strict";

const REFRESH_MS = 2000;     // how often the Service tab reads /metrics
const HISTORY = 90;          // samples kept per Service chart
const MIX_POINTS = 25;       // as_of points of the mix chart
const MIX_CONCURRENCY = 4;   // mix queries in flight at once
const STALE_MS = 3600000;    // stream time this far behind the clock: default to as of stream time
const USER_LIST_SIZE = 200;  // users offered in the list

const state = {
  describe: null,            // GET /v1/signals
  streamTimeMs: null,        // from /metrics; null before the first event
  user: null,                // the user shown, as a decimal string
  asOf: null,                // the as_of of the tables, ms
  answer: null,              // GET /v1/users/{user}/signals?as_of=asOf
  mixToken: 0,               // drops answers of a superseded mix chart
  mix: null,                 // the mix chart's answers: {name, span, end, earliest, points, results}
  mixKeepSignal: false,      // the user picked the mix signal: keep it across users
  asOfChosen: false,         // the user picked "as of": no more automatic choice
};

const $ = (id) => document.getElementById(id);

// --- Fetching --------------------------------------------------------------------------------

// GETs `path` and parses its JSON; throws an Error carrying the API's message on a non-2xx.
async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: answered ${response.status} with a body that is not JSON`);
  }
  if (!response.ok) {
    const error = new Error(body && body.error ? body.error : `${path}: HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

// Prometheus text format into [{name, labels, value}] (comments skipped).
function parseMetrics(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let l;
      while ((l = re.exec(m[3]))) labels[l[1]] = l[2].replace(/\\n/g, "\n").replace(/\\(.)/g, "$1");
    }
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return samples;
}

function metricSum(samples, name, filter) {
  let total = 0;
  for (const s of samples) if (s.name === name && (!filter || filter(s.labels))) total += s.value;
  return total;
}

async function readMetrics() {
  const response = await fetch("metrics");
  if (!response.ok) throw new Error(`/metrics: HTTP ${response.status}`);
  const samples = parseMetrics(await response.text());
  const seconds = metricSum(samples, "signalbox_stream_time_seconds");
  state.streamTimeMs = seconds > 0 ? Math.round(seconds * 1000) : null;
  $("stream-time").textContent = state.streamTimeMs === null ? "no events yet"
    : `stream time ${isoTime(state.streamTimeMs)}`;
  return samples;
}

// --- Formatting ------------------------------------------------------------------------------

function isoTime(ms) {
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

function ago(ms, now) {
  const s = Math.round((now - ms) / 1000);
  if (s < 0) return `in ${-s}s`;
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  if (s < 172800) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

// Integers exactly, other numbers to 4 significant digits.
function formatValue(v) {
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

// "30m" → 1800000; the duration syntax of the config (docs/config.md). null if not one.
function parseDuration(text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(String(text || "").trim());
  if (!m) return null;
  const unit = { ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 }[m[2]];
  return Number(m[1]) * unit;
}

function node(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

// A table cell showing one number of the answer; `path` locates it in answer.signals.
function numberCell(v, path) {
  const td = node("td", "num", formatValue(v));
  td.dataset.path = JSON.stringify(path);
  td.dataset.kind = "number";
  return td;
}

function textCell(v, path, className) {
  const td = node("td", className || "key", String(v));
  if (path) {
    td.dataset.path = JSON.stringify(path);
    td.dataset.kind = "text";
  }
  return td;
}

function table(headers, numericColumns) {
  const t = node("table");
  const tr = node("tr");
  headers.forEach((h, i) => tr.appendChild(node("th", numericColumns && numericColumns.includes(i) ? "num" : "", h)));
  const thead = node("thead");
  thead.appendChild(tr);
  t.appendChild(thead);
  const body = node("tbody");
  t.appendChild(body);
  return { t, body };
}

// --- Result shapes ---------------------------------------------------------------------------

const isNumber = (v) => typeof v === "number";
const isPlainObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

// What a result is, to render it generically (docs/signals.md lists the aggregators' results).
function shapeOf(v) {
  if (v === null) return "null";
  if (isNumber(v)) return "number";
  if (typeof v === "string" || typeof v === "boolean") return "text";
  if (Array.isArray(v)) {
    if (v.length > 0 && v.every(isNumber)) return "vector";
    if (v.length > 0 && v.every((e) => isPlainObject(e) && "key" in e && isNumber(e.value))) return "ranked";
    if (v.length > 0 && v.every((e) => isPlainObject(e) && "value" in e && isNumber(e.ts))) return "items";
    if (v.length > 0 && v.every(isPlainObject)) return "records";
    return v.length === 0 ? "empty-list" : "list";
  }
  if (Object.values(v).every(isNumber)) return "map";
  return "object";
}

function describeEntry(name) {
  const d = state.describe || { signals: [], views: [] };
  return d.signals.find((s) => s.name === name) || d.views.find((v) => v.name === name) || null;
}

function windowsOf(name) {
  const entry = describeEntry(name);
  return entry && Array.isArray(entry.windows) && entry.windows.length > 0 ? entry.windows : null;
}

function summary(entry) {
  if (!entry) return "";
  if (entry.aggregator) {
    const parts = [entry.aggregator];
    if (entry.group_by) parts.push(`by ${entry.group_by}`);
    if (entry.value) parts.push(`of ${entry.value}`);
    if (entry.actions) parts.push(`actions ${Object.entries(entry.actions).map(([a, w]) => `${a}×${w}`).join(", ")}`);
    if (entry.params) parts.push(Object.entries(entry.params).map(([k, v]) => `${k} ${v}`).join(", "));
    return parts.join(" · ");
  }
  const parts = [`view: ${entry.transform} of ${entry.signal}`];
  if (entry.window) parts.push(`window ${entry.window}`);
  if (entry.params) parts.push(Object.entries(entry.params).map(([k, v]) => `${k} ${v}`).join(", "));
  return parts.join(" · ");
}

// Renders any result into `box`; `path` is its location in answer.signals.
function renderResult(box, value, path) {
  const shape = shapeOf(value);
  switch (shape) {
    case "null":
      box.appendChild(node("div", "scalar muted", "null"));
      return;
    case "number": {
      const d = node("div", "scalar", formatValue(value));
      d.dataset.path = JSON.stringify(path);
      d.dataset.kind = "number";
      box.appendChild(d);
      return;
    }
    case "text":
      box.appendChild(node("div", "scalar", String(value)));
      return;
    case "empty-list":
      box.appendChild(node("div", "muted", "empty"));
      return;
    case "map":
      renderMap(box, value, path);
      return;
    case "ranked": {
      const { t, body } = table(["#", "key", "value", ""], [0, 2]);
      const max = Math.max(...value.map((e) => Math.abs(e.value)), 1e-12);
      value.forEach((e, i) => {
        const tr = node("tr");
        tr.appendChild(node("td", "num", String(i + 1)));
        tr.appendChild(textCell(e.key, [...path, i, "key"]));
        tr.appendChild(numberCell(e.value, [...path, i, "value"]));
        tr.appendChild(barCell(e.value / max));
        body.appendChild(tr);
      });
      box.appendChild(t);
      return;
    }
    case "items": {
      const now = state.asOf;
      const { t, body } = table(["#", "value", "ts", ""], [0]);
      value.forEach((e, i) => {
        const tr = node("tr");
        tr.appendChild(node("td", "num", String(i + 1)));
        tr.appendChild(textCell(e.value, [...path, i, "value"]));
        tr.appendChild(textCell(isoTime(e.ts), null, "small"));
        tr.appendChild(node("td", "muted small", ago(e.ts, now)));
        body.appendChild(tr);
      });
      box.appendChild(t);
      return;
    }
    case "vector":
      renderVectors(box, [["", value]], path, false);
      return;
    case "records":
      renderRecords(box, value, path);
      return;
    default:
      if (isPlainObject(value)) {
        for (const [k, v] of Object.entries(value)) {
          box.appendChild(node("div", "desc", k));
          renderResult(box, v, [...path, k]);
        }
      } else {
        const pre = node("pre", "small", JSON.stringify(value, null, 1));
        box.appendChild(pre);
      }
  }
}

// One field of a record (a sequence entry): times as UTC, vectors by their dimension and
// first elements, lists joined.
function fieldText(key, v) {
  if (v === null || v === undefined) return "–";
  if (key === "ts" && isNumber(v)) return isoTime(v);
  if (Array.isArray(v)) {
    if (v.length > 0 && v.every(isNumber)) {
      const head = v.slice(0, 3).map(formatValue).join(", ");
      return `[${v.length}] ${head}${v.length > 3 ? ", …" : ""}`;
    }
    return v.map(String).join(", ");
  }
  if (isNumber(v)) return formatValue(v);
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

// A list of objects (a sequence): one row per entry, one column per field.
function renderRecords(box, records, path) {
  const fields = [];
  for (const r of records) for (const k of Object.keys(r)) if (!fields.includes(k)) fields.push(k);
  const { t, body } = table(["#", ...fields], [0]);
  records.forEach((r, i) => {
    const tr = node("tr");
    tr.appendChild(node("td", "num", String(i + 1)));
    for (const k of fields) {
      const v = r[k];
      if (isNumber(v) && k !== "ts") tr.appendChild(numberCell(v, [...path, i, k]));
      else tr.appendChild(textCell(fieldText(k, v), null, v === null || v === undefined ? "muted" : "small"));
    }
    body.appendChild(tr);
  });
  box.appendChild(t);
}

// Quantiles ({"0.5": x, "0.9": y}, null over no events) per window: one row per quantile in
// the order asked, one column per window, and a small bar chart of the longest window's
// distribution (each quantile's value against the largest one), so its skew shows at a glance.
function renderQuantiles(box, value, windows, path) {
  const columns = windows ? windows.filter((w) => w in value) : [""];
  const parts = columns.map((w) => (windows ? value[w] : value));
  const quantiles = [];
  for (const part of parts) if (isPlainObject(part)) for (const q of Object.keys(part)) if (!quantiles.includes(q)) quantiles.push(q);
  const charted = parts.length > 0 && isPlainObject(parts[parts.length - 1]) ? parts[parts.length - 1] : {};
  const chartedValues = quantiles.map((q) => charted[q]).filter(isNumber);
  const max = Math.max(0, ...chartedValues.map(Math.abs));
  const chartHeader = windows ? `${columns[columns.length - 1]} chart` : "chart";
  const { t, body } = table(["quantile", ...(windows ? columns : ["value"]), chartHeader], columns.map((_, i) => i + 1));
  t.classList.add("quantile-table");
  for (const q of quantiles) {
    const tr = node("tr");
    tr.appendChild(textCell(q));
    columns.forEach((w, i) => {
      const x = isPlainObject(parts[i]) ? parts[i][q] : null;
      tr.appendChild(isNumber(x) ? numberCell(x, windows ? [...path, w, q] : [...path, q]) : node("td", "num muted", "–"));
    });
    const x = charted[q];
    const bar = barCell(isNumber(x) && max > 0 ? Math.abs(x) / max : 0);
    bar.classList.add("quantile-bar");
    bar.dataset.quantile = q;
    bar.dataset.value = isNumber(x) ? String(x) : "";
    tr.appendChild(bar);
    body.appendChild(tr);
  }
  box.appendChild(t);
}

function barCell(fraction) {
  const td = node("td", "bar");
  const fill = node("div", "bar-fill");
  fill.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
  td.appendChild(fill);
  return td;
}

function renderMap(box, map, path) {
  const entries = Object.entries(map).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (entries.length === 0) {
    box.appendChild(node("div", "muted", "empty"));
    return;
  }
  const max = Math.max(...entries.map(([, v]) => Math.abs(v)), 1e-12);
  const { t, body } = table(["key", "value", ""], [1]);
  for (const [k, v] of entries) {
    const tr = node("tr");
    tr.appendChild(textCell(k));
    tr.appendChild(numberCell(v, [...path, k]));
    tr.appendChild(barCell(Math.abs(v) / max));
    body.appendChild(tr);
  }
  box.appendChild(t);
}

// Vectors (mean embeddings) as rows: dimensions, L2 norm, then the first elements.
function renderVectors(box, rows, path, windowed) {
  const shown = 8;
  const width = Math.max(...rows.map(([, v]) => (Array.isArray(v) ? v.length : 0)));
  const headers = [windowed ? "window" : "", "dims", "norm"];
  for (let i = 0; i < Math.min(shown, width); i++) headers.push(`[${i}]`);
  const { t, body } = table(headers, headers.map((_, i) => i).filter((i) => i > 0));
  for (const [window, v] of rows) {
    const tr = node("tr");
    tr.appendChild(node("td", "key", window));
    if (!Array.isArray(v)) {
      tr.appendChild(node("td", "num muted", "null"));
      body.appendChild(tr);
      continue;
    }
    tr.appendChild(node("td", "num", String(v.length)));
    tr.appendChild(node("td", "num", formatValue(Math.hypot(...v))));
    v.slice(0, shown).forEach((x, i) => tr.appendChild(numberCell(x, windowed ? [...path, window, i] : [...path, i])));
    body.appendChild(tr);
  }
  box.appendChild(t);
  if (width > shown) box.appendChild(node("div", "desc", `first ${shown} of ${width} elements`));
}

// A windowed result ({window: result}) as one table when its per-window results allow it.
function renderWindowed(box, value, windows, path) {
  const present = windows.filter((w) => w in value);
  const shapes = new Set(present.map((w) => shapeOf(value[w])));
  if (shapes.size === 1 && shapes.has("number")) {
    const { t, body } = table(["window", "value"], [1]);
    for (const w of present) {
      const tr = node("tr");
      tr.appendChild(node("td", "key", w));
      tr.appendChild(numberCell(value[w], [...path, w]));
      body.appendChild(tr);
    }
    box.appendChild(t);
    return;
  }
  if ([...shapes].every((s) => s === "map")) {
    // A matrix: one row per key, one column per window, keys by the longest window's value.
    const longest = present[present.length - 1];
    const keys = new Set();
    for (const w of present) for (const k of Object.keys(value[w])) keys.add(k);
    const sorted = [...keys].sort((a, b) => (value[longest][b] || 0) - (value[longest][a] || 0) || (a < b ? -1 : 1));
    if (sorted.length === 0) {
      box.appendChild(node("div", "muted", `empty in every window (${present.join(", ")})`));
      return;
    }
    const { t, body } = table(["key", ...present], present.map((_, i) => i + 1));
    for (const k of sorted) {
      const tr = node("tr");
      tr.appendChild(textCell(k));
      for (const w of present) {
        tr.appendChild(k in value[w] ? numberCell(value[w][k], [...path, w, k]) : node("td", "num muted", "–"));
      }
      body.appendChild(tr);
    }
    box.appendChild(t);
    return;
  }
  if ([...shapes].every((s) => s === "vector" || s === "null")) {
    renderVectors(box, present.map((w) => [w, value[w]]), path, true);
    return;
  }
  for (const w of present) {
    box.appendChild(node("div", "desc", `window ${w}`));
    renderResult(box, value[w], [...path, w]);
  }
}

function renderTables() {
  if (typeof closeExplain === "function") closeExplain();  // explain.js: the drill-down
  const container = $("signal-tables");
  container.textContent = "";
  for (const [name, value] of Object.entries(state.answer.signals)) {
    const box = node("div", "signal");
    box.dataset.name = name;
    box.appendChild(node("h4", "", name));
    box.appendChild(node("div", "desc", summary(describeEntry(name))));
    const windows = windowsOf(name);
    const entry = describeEntry(name);
    if (entry && entry.aggregator === "quantile" && isPlainObject(value)) renderQuantiles(box, value, windows, [name]);
    else if (windows && isPlainObject(value)) renderWindowed(box, value, windows, [name]);
    else renderResult(box, value, [name]);
    container.appendChild(box);
  }
}

// --- Category mix over time ------------------------------------------------------------------

// Signals whose answer (per window) maps keys to numbers: grouped counts, sums, affinities.
function mixCandidates() {
  const out = [];
  for (const [name, value] of Object.entries(state.answer.signals)) {
    if (!state.describe.signals.some((s) => s.name === name)) continue;  // views are derived
    // Quantiles, means and spreads are keyed numbers too, but not a mix to stack.
    if (["quantile", "min", "max", "avg", "stddev"].includes(describeEntry(name).aggregator)) continue;
    const windows = windowsOf(name);
    if (windows && isPlainObject(value) && windows.every((w) => w in value && shapeOf(value[w]) === "map")) {
      out.push({ name, windows });
    } else if (!windows && shapeOf(value) === "map") {
      out.push({ name, windows: null });
    }
  }
  return out;
}

function signalAt(name, t) {
  return getJson(`v1/users/${encodeURIComponent(state.user)}/signals?names=${encodeURIComponent(name)}&as_of=${t}`);
}

// The earliest as_of in [end - span, end] at which signal `name` can be answered, to within a
// minute or span/200; null when not even `end` can. The server works it out from its query
// plans (GET /v1/users/{user_id}/reach), so the page never asks for an as_of it would refuse;
// every window of the signal counts, since a query evaluates all of them.
async function earliestAnswerable(name, end, span) {
  const from = Math.max(0, end - span);
  const reach = await getJson(`v1/users/${encodeURIComponent(state.user)}/reach` +
    `?names=${encodeURIComponent(name)}&from=${from}&to=${end}`);
  return reach.earliest;
}

function spanText(ms) {
  if (ms >= 2 * 8.64e7) return `${Math.round(ms / 8.64e7)} days`;
  if (ms >= 2 * 3.6e6) return `${Math.round(ms / 3.6e6)} hours`;
  return `${Math.max(0, Math.round(ms / 6e4))} minutes`;
}

// Lists the grouped signals, each with how far back it can be charted, and charts the one
// that reaches furthest (on ties the first in config order).
async function setupMix() {
  const token = ++state.mixToken;
  const candidates = mixCandidates();
  $("mix-card").hidden = candidates.length === 0;
  if (candidates.length === 0) return;
  $("mix-chart").dataset.ready = "false";
  $("mix-note").textContent = "finding the points the online state can answer…";
  const end = state.asOf;
  const span = Number($("mix-span").value);
  const reach = await Promise.all(candidates.map((c) => earliestAnswerable(c.name, end, span).catch(() => null)));
  if (token !== state.mixToken) return;
  const select = $("mix-signal");
  const previous = select.value;
  select.textContent = "";
  let best = 0;
  candidates.forEach((c, i) => {
    const label = reach[i] === null ? `${c.name} (not answerable)` : `${c.name} (${spanText(end - reach[i])})`;
    select.appendChild(new Option(label, c.name));
    const range = (r) => (r === null ? -1 : end - r);
    if (range(reach[i]) > range(reach[best])) best = i;
  });
  select.value = candidates.some((c) => c.name === previous) && state.mixKeepSignal ? previous : candidates[best].name;
  fillMixWindows();
  await drawMix();
}

function fillMixWindows() {
  const name = $("mix-signal").value;
  const windows = windowsOf(name);
  const select = $("mix-window");
  const previous = select.value;
  select.textContent = "";
  select.disabled = !windows;
  if (!windows) {
    select.appendChild(new Option("(all history)", ""));
    return;
  }
  for (const w of windows) select.appendChild(new Option(w, w));
  if (windows.includes(previous)) {
    select.value = previous;
  } else {
    // A day shows daily swings; fall back to the shortest window.
    const day = windows.find((w) => parseDuration(w) >= 8.64e7);
    select.value = day || windows[0];
  }
}

// Runs `tasks` (functions returning promises) with at most `limit` in flight.
async function runLimited(tasks, limit) {
  const results = new Array(tasks.length);
  let next = 0;
  async function worker() {
    while (next < tasks.length) {
      const i = next++;
      try {
        results[i] = { ok: true, value: await tasks[i]() };
      } catch (error) {
        results[i] = { ok: false, error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

// Queries the chosen signal at up to MIX_POINTS as_of points, from as far back as the online
// state can answer it (within the chosen span) to the tables' as_of, keeps the answers in
// state.mix and draws them (renderMix).
async function drawMix() {
  const token = ++state.mixToken;
  const name = $("mix-signal").value;
  const span = Number($("mix-span").value);
  const end = state.asOf;
  state.mix = null;
  $("mix-chart").dataset.ready = "false";
  $("mix-note").textContent = "loading…";
  let earliest;
  try {
    earliest = await earliestAnswerable(name, end, span);
  } catch (error) {
    if (token !== state.mixToken) return;
    state.mix = null;
    $("mix-note").textContent = error.message;
    $("mix-chart").dataset.ready = "true";
    return;
  }
  if (token !== state.mixToken) return;
  const points = [];
  if (earliest !== null) {
    const range = end - earliest;
    const count = Math.max(2, Math.min(MIX_POINTS, Math.floor(range / 60000) + 1));
    for (let i = 0; i < count; i++) points.push(Math.round(earliest + (range * i) / (count - 1)));
  }
  const results = await runLimited(points.map((t) => () => signalAt(name, t)), MIX_CONCURRENCY);
  if (token !== state.mixToken) return;
  state.mix = { name, span, end, earliest, points, results };
  renderMix();
}

// Draws the answers drawMix kept, for the chosen window and mode, one series per key that any
// point answers. Asks the server nothing: a new window, mode or page size redraws the same
// answers, so that a redraw never meets a stream time that moved on since the reach was asked.
function renderMix() {
  const mix = state.mix;
  if (!mix || mix.name !== $("mix-signal").value) return;
  const { name, span, end, earliest, points, results } = mix;
  const window = $("mix-window").value;
  const mode = $("mix-mode").value;
  const chartBox = $("mix-chart");
  const xs = [];
  const maps = [];
  const refused = [];
  results.forEach((r, i) => {
    if (r.ok) {
      const value = r.value.signals[name];
      xs.push(points[i]);
      maps.push(window ? value[window] || {} : value || {});
    } else {
      refused.push({ t: points[i], error: r.error });
    }
  });
  const totals = new Map();
  for (const m of maps) for (const [k, v] of Object.entries(m)) totals.set(k, (totals.get(k) || 0) + Math.abs(v));
  const keys = [...totals.keys()].sort((a, b) => totals.get(b) - totals.get(a) || (a < b ? -1 : 1));
  let series = keys.map((k) => ({ name: k, values: maps.map((m) => (k in m ? m[k] : 0)) }));
  if (mode === "share") {
    const sums = maps.map((m) => Object.values(m).reduce((a, b) => a + b, 0));
    series = series.map((s) => ({ name: s.name, values: s.values.map((v, i) => (sums[i] ? v / sums[i] : 0)) }));
  }
  Charts.timeSeries(chartBox, xs, series, {
    stacked: mode !== "lines",
    yMax: mode === "share" ? 1 : undefined,
    formatY: mode === "share" ? (v) => `${Math.round(v * 100)}%` : undefined,
    yLabel: mode === "share" ? "share" : `${name}${window ? " " + window : ""}`,
    emptyText: earliest === null ? "the online state cannot answer this signal at this as_of" : "no events in this range",
  });
  Charts.legend($("mix-legend"), keys);
  chartBox.dataset.signal = name;
  chartBox.dataset.window = window;
  chartBox.dataset.points = JSON.stringify(xs);
  chartBox.dataset.seriesCount = String(series.length);
  let note = `${name}${window ? ` window ${window}` : ""} at ${xs.length} points from ` +
    `${xs.length ? isoTime(xs[0]) : "–"} to ${isoTime(end)}; ${keys.length} keys.`;
  if (earliest !== null && earliest > end - span) {
    note += ` The online state answers this signal only from ${isoTime(earliest)} on: every window of a` +
      " query needs the raw events at its edges, which are kept for the retention only (signalbox backfill computes older points).";
  }
  if (refused.length) note += ` ${refused.length} point${refused.length > 1 ? "s" : ""} failed: ${refused[0].error.message}`;
  $("mix-note").textContent = note;
  chartBox.dataset.ready = "true";
}

// --- Recent items and sessions ---------------------------------------------------------------

function recentCandidates() {
  return Object.entries(state.answer.signals)
    .filter(([name, v]) => state.describe.signals.some((s) => s.name === name) && !windowsOf(name) &&
      (shapeOf(v) === "items" || (Array.isArray(v) && v.length === 0 && describeEntry(name).aggregator === "last_k")))
    .map(([name]) => name);
}

function setupRecent() {
  const candidates = recentCandidates();
  $("recent-card").hidden = candidates.length === 0;
  if (candidates.length === 0) return;
  const select = $("recent-signal");
  const previous = select.value;
  select.textContent = "";
  for (const c of candidates) select.appendChild(new Option(c, c));
  if (candidates.includes(previous)) select.value = previous;
  drawRecent();
}

// Splits newest-first items into sessions: a new one starts where two neighbours are more
// than `gap` apart (the rule of the last_session view). Returns the session number of each.
function sessions(items, gap) {
  const out = [];
  let session = 0;
  items.forEach((item, i) => {
    if (i > 0 && items[i - 1].ts - item.ts > gap) session++;
    out.push(session);
  });
  return out;
}

function drawRecent() {
  const name = $("recent-signal").value;
  const items = state.answer.signals[name] || [];
  const view = state.describe.views.find((v) => v.signal === name && v.transform === "last_session");
  const gap = view && view.params ? parseDuration(view.params.gap) : null;
  const groups = gap !== null ? sessions(items, gap) : items.map(() => 0);
  Charts.timeline($("recent-timeline"), items.map((item, i) => ({ ts: item.ts, label: String(item.value), group: groups[i] })));
  let note = `${items.length} most recent distinct values of ${name}, newest first.`;
  if (view && gap !== null) {
    const inLast = groups.filter((g) => g === 0).length;
    const count = new Set(groups).size;
    note += ` ${count} session${count === 1 ? "" : "s"} with gaps over ${view.params.gap}; ` +
      `the newest (highlighted) is what the view ${view.name} answers` +
      (view.name in state.answer.signals ? ` (${state.answer.signals[view.name].length} items, ${inLast} here).` : ".");
  }
  $("recent-note").textContent = note;
  const { t, body } = table(["#", "value", "ts", "", "session"], [0, 4]);
  const now = state.asOf;
  items.forEach((item, i) => {
    const tr = node("tr", view && groups[i] === 0 ? "in-session" : "");
    tr.appendChild(node("td", "num", String(i + 1)));
    tr.appendChild(textCell(item.value, [name, i, "value"]));
    tr.appendChild(textCell(isoTime(item.ts), null, "small"));
    tr.appendChild(node("td", "muted small", ago(item.ts, now)));
    const sessionCell = node("td", "num");
    const swatch = node("span", "swatch");
    swatch.style.background = Charts.colour(groups[i]);
    sessionCell.appendChild(swatch);
    sessionCell.appendChild(document.createTextNode(String(groups[i] + 1)));
    tr.appendChild(sessionCell);
    body.appendChild(tr);
  });
  const box = $("recent-table");
  box.textContent = "";
  box.appendChild(t);
}

// --- Users -----------------------------------------------------------------------------------

// The users to offer: those this server ingested most recently (GET /v1/users?recent=N, kept
// in memory by the serving process, newest first); when it has ingested none since it
// started, a sample of the stored users instead.
async function fetchUserList() {
  const { users: recent } = await getJson(`v1/users?recent=${USER_LIST_SIZE}`);
  if (recent.length) return { users: recent, kind: "recent" };
  const { users: stored } = await getJson(`v1/users?limit=${USER_LIST_SIZE}`);
  return { users: stored, kind: "stored" };
}

async function loadUsers() {
  try {
    const { users, kind } = await fetchUserList();
    const list = $("users");
    const options = $("user-options");
    list.textContent = "";
    options.textContent = "";
    list.dataset.kind = kind;
    for (const id of users) {
      const li = node("li");
      const button = node("button", "", id);
      button.type = "button";
      button.dataset.user = id;
      button.addEventListener("click", () => showUser(id));
      li.appendChild(button);
      list.appendChild(li);
      options.appendChild(new Option(id, id));
    }
    $("users-note").textContent = !users.length ? "(none stored yet)"
      : kind === "recent" ? `(${users.length} most recently active)`
      : `(${users.length} stored; none ingested since this server started)`;
    markCurrentUser();
  } catch (error) {
    $("users-note").textContent = `(${error.message})`;
  }
}

function markCurrentUser() {
  for (const b of document.querySelectorAll("#users button")) {
    b.setAttribute("aria-current", String(b.dataset.user === state.user));
  }
}

async function showUser(id) {
  id = String(id).trim();
  const status = $("status");
  if (!/^\d+$/.test(id)) {
    status.textContent = `"${id}" is not a user id (an unsigned integer)`;
    status.className = "error";
    return;
  }
  state.user = id;
  $("user-input").value = id;
  if (location.hash !== `#user=${id}`) history.replaceState(null, "", `#user=${id}`);
  markCurrentUser();
  status.className = "muted";
  status.textContent = `loading user ${id}…`;
  try {
    if (!state.describe) state.describe = await getJson("v1/signals");
    await readMetrics();
    // Data that ended long ago (a replayed log) answers zeros "now": start at its end instead.
    if (!state.asOfChosen && state.streamTimeMs !== null && Date.now() - state.streamTimeMs > STALE_MS) {
      $("as-of-select").value = "stream";
    }
    const useStream = $("as-of-select").value === "stream" && state.streamTimeMs !== null;
    state.asOf = useStream ? state.streamTimeMs : Date.now();
    state.answer = await getJson(`v1/users/${encodeURIComponent(id)}/signals?as_of=${state.asOf}`);
    if (state.user !== id) return;  // another user was picked meanwhile
    status.textContent = "";
    const content = $("user-content");
    content.hidden = false;
    content.dataset.user = id;
    content.dataset.asOf = String(state.asOf);
    $("user-title").textContent = `User ${id} · as of ${isoTime(state.asOf)} (${useStream ? "stream time" : "now"})`;
    showSeen(state.answer.seen);
    renderTables();
    setupRecent();
    setupMix();
  } catch (error) {
    status.className = "error";
    status.textContent = error.message;
  }
}

// Says whether the store has ever seen the user (the answer's `seen`): a user never seen
// answers zeros like an inactive one, so the page says which it is.
function showSeen(seen) {
  const box = $("user-seen");
  box.dataset.seen = String(seen);
  box.hidden = seen !== false;
  box.textContent = seen === false
    ? "Never seen: the store holds no event or state of this user (a wrong id, or data long expired); every signal answers zeros."
    : "";
}

// --- Service tab -----------------------------------------------------------------------------

const service = { timer: null, previous: null, history: [] };

// Quantile `q` of the histogram whose cumulative buckets are `buckets` ([{le, count}]).
function histogramQuantile(q, buckets) {
  const sorted = buckets.slice().sort((a, b) => a.le - b.le);
  const total = sorted.length ? sorted[sorted.length - 1].count : 0;
  if (!(total > 0)) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return lowerBound;
      const inBucket = b.count - lowerCount;
      return lowerBound + (inBucket > 0 ? ((rank - lowerCount) / inBucket) * (b.le - lowerBound) : 0);
    }
    lowerBound = b.le;
    lowerCount = b.count;
  }
  return lowerBound;
}

function queryBuckets(samples) {
  const byLe = new Map();
  for (const s of samples) {
    if (s.name !== "signalbox_query_duration_seconds_bucket") continue;
    const le = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) || 0) + s.value);
  }
  return [...byLe.entries()].map(([le, count]) => ({ le, count }));
}

function formatSeconds(s) {
  if (s === null || s === undefined) return "–";
  if (s < 1e-3) return `${(s * 1e6).toFixed(0)} µs`;
  if (s < 1) return `${(s * 1e3).toPrecision(3)} ms`;
  return `${s.toPrecision(3)} s`;
}

function formatBytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toPrecision(3)} ${units[i]}`;
}

async function pollService() {
  let samples;
  try {
    samples = await readMetrics();
  } catch (error) {
    $("service-stats").textContent = error.message;
    return;
  }
  const now = performance.now();
  const current = {
    at: now,
    events: metricSum(samples, "signalbox_events_accepted_total"),
    queries: metricSum(samples, "signalbox_queries_total"),
    buckets: queryBuckets(samples),
    requests: samples.filter((s) => s.name === "signalbox_http_requests_total"),
  };
  const previous = service.previous;
  service.previous = current;
  let point = null;
  if (previous) {
    const dt = (now - previous.at) / 1000;
    const delta = current.buckets.map((b) => ({
      le: b.le, count: b.count - ((previous.buckets.find((p) => p.le === b.le) || { count: 0 }).count),
    }));
    point = {
      t: Date.now(),
      events: (current.events - previous.events) / dt,
      queries: (current.queries - previous.queries) / dt,
      p50: histogramQuantile(0.5, delta),
      p99: histogramQuantile(0.99, delta),
    };
    service.history.push(point);
    if (service.history.length > HISTORY) service.history.shift();
  }

  const stats = [
    ["events/s", point ? point.events.toFixed(1) : "…"],
    ["queries/s", point ? point.queries.toFixed(1) : "…"],
    ["query p50 / p99", point ? `${formatSeconds(point.p50)} / ${formatSeconds(point.p99)}` : "…"],
    ["events accepted", String(current.events)],
    ["rejected (invalid / late)", `${metricSum(samples, "signalbox_events_rejected_total", (l) => l.reason === "invalid")} / ${metricSum(samples, "signalbox_events_rejected_total", (l) => l.reason === "late")}`],
    ["duplicates", String(metricSum(samples, "signalbox_events_duplicate_total"))],
    ["stream time", state.streamTimeMs === null ? "–" : isoTime(state.streamTimeMs).replace("T", " ").replace(/\.\d+Z$/, "Z")],
    ["stored events", String(metricSum(samples, "signalbox_store_events"))],
    ["state tiles", String(metricSum(samples, "signalbox_store_tiles"))],
    ["disk", formatBytes(metricSum(samples, "signalbox_store_disk_bytes"))],
    ["open connections", String(metricSum(samples, "signalbox_http_connections"))],
  ];
  const box = $("service-stats");
  box.textContent = "";
  for (const [label, value] of stats) {
    const card = node("div", "stat");
    card.appendChild(node("div", "label", label));
    const v = node("div", "value", value);
    v.dataset.stat = label;
    card.appendChild(v);
    box.appendChild(card);
  }

  const h = service.history;
  const xs = h.map((p) => p.t);
  Charts.timeSeries($("chart-events"), xs, [{ name: "events/s", values: h.map((p) => p.events) }], { height: 180, emptyText: "waiting for a second sample" });
  Charts.timeSeries($("chart-queries"), xs, [{ name: "queries/s", values: h.map((p) => p.queries) }], { height: 180, emptyText: "waiting for a second sample" });
  Charts.timeSeries($("chart-latency"), xs, [
    { name: "p50", values: h.map((p) => p.p50) },
    { name: "p99", values: h.map((p) => p.p99) },
  ], { height: 180, formatY: formatSeconds, emptyText: "waiting for a second sample" });
  Charts.legend($("latency-legend"), ["p50", "p99"]);

  const { t, body } = table(["route", "code", "requests", "per s"], [2, 3]);
  const rows = current.requests.filter((s) => s.value > 0).sort((a, b) => b.value - a.value);
  for (const s of rows) {
    const before = previous && previous.requests.find((p) => p.labels.route === s.labels.route && p.labels.code === s.labels.code);
    const rate = previous ? (s.value - (before ? before.value : 0)) / ((now - previous.at) / 1000) : null;
    const tr = node("tr");
    tr.appendChild(node("td", "key", s.labels.route));
    tr.appendChild(node("td", "", s.labels.code));
    tr.appendChild(node("td", "num", String(s.value)));
    tr.appendChild(node("td", "num", rate === null ? "…" : rate.toFixed(1)));
    body.appendChild(tr);
  }
  const routeBox = $("route-table");
  routeBox.textContent = "";
  routeBox.appendChild(t);
}

function showPanel(panel) {
  for (const tab of document.querySelectorAll(".tab")) tab.setAttribute("aria-selected", String(tab.dataset.panel === panel));
  $("explorer").hidden = panel !== "explorer";
  $("service").hidden = panel !== "service";
  clearInterval(service.timer);
  service.timer = null;
  if (panel === "service") {
    pollService();
    service.timer = setInterval(pollService, REFRESH_MS);
  } else {
    loadUsers();  // users may have been active meanwhile
  }
}

// --- Start -----------------------------------------------------------------------------------

function start() {
  $("refresh-seconds").textContent = String(REFRESH_MS / 1000);
  for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => showPanel(tab.dataset.panel));
  $("user-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    showUser($("user-input").value);
  });
  $("as-of-select").addEventListener("change", () => {
    state.asOfChosen = true;
    if (state.user) showUser(state.user);
  });
  $("mix-signal").addEventListener("change", () => {
    state.mixKeepSignal = true;
    fillMixWindows();
    drawMix();
  });
  for (const id of ["mix-window", "mix-mode"]) $(id).addEventListener("change", renderMix);
  $("mix-span").addEventListener("change", () => setupMix());
  $("recent-signal").addEventListener("change", drawRecent);
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => state.answer && (renderMix(), drawRecent()), 250);
  });
  getJson("v1/signals").then((d) => (state.describe = d)).catch((e) => {
    $("status").className = "error";
    $("status").textContent = e.message;
  });
  readMetrics().catch(() => {});
  loadUsers();
  const m = /^#user=(\d+)$/.exec(location.hash);
  if (m) showUser(m[1]);
}

document.addEventListener("DOMContentLoaded", start);
