// The drill-down of the signal explorer: clicking a value in the tables shows the stored tiles
// and raw events it is made of, from GET /v1/users/{user}/explain (docs/explain.md). Reads the
// page's state (app.js: state.user, state.asOf, describeEntry) and touches only its own card.
"use strict";

const EXPLAIN_MAX_EVENTS = 200;  // raw events listed per window; the rest are counted
let explainToken = 0;            // drops the answer of a superseded click

// What a clicked cell asks for: the name, the window (of a windowed signal), and the key of a
// grouped result the cell shows, from its data-path ([name, window?, key?, ...]).
function explainTarget(path) {
  const [name, ...rest] = path;
  const entry = describeEntry(name);
  const isSignal = state.describe && state.describe.signals.some((s) => s.name === name);
  const windows = isSignal && entry && entry.windows ? entry.windows : [];
  const window = windows.includes(rest[0]) ? rest.shift() : null;
  const key = isSignal && typeof rest[0] === "string" ? rest[0] : null;
  return { name, window, key };
}

// A part's value as the card shows it: the number of `key` when one was clicked, else the value.
function partText(value, key) {
  if (key !== null && isPlainObject(value)) return key in value ? formatValue(value[key]) : "–";
  if (typeof value === "number") return formatValue(value);
  return JSON.stringify(value);
}

function explainCell(text, className) {
  return node("td", className || "", text);
}

function featuresText(features) {
  return Object.entries(features || {})
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.map((x) => (typeof x === "number" ? formatValue(x) : x)).join(", ") : v}`)
    .join("; ");
}

function renderExplainWindow(box, w, key) {
  const head = w.window === null ? "all history" : `window ${w.window}`;
  const span = w.from === null ? `through ${isoTime(w.to)}` : `${isoTime(w.from)} – ${isoTime(w.to)}`;
  box.appendChild(node("h4", "", `${head}: ${partText(w.value, key)}`));
  box.appendChild(node("div", "desc", `${span}; ${w.tiles.length} tiles, ${w.events_total} raw events`));
  const tiles = table(["tile", "from", "to", "value"], [3]);
  for (const t of w.tiles) {
    const tr = node("tr", t.decides ? "explain-tile decides" : "explain-tile");
    tr.dataset.value = JSON.stringify(t.value);
    tr.appendChild(explainCell(t.kind, "key"));
    tr.appendChild(explainCell(t.from === null ? "beginning" : isoTime(t.from)));
    tr.appendChild(explainCell(isoTime(t.to)));
    tr.appendChild(explainCell(partText(t.value, key), "num"));
    tiles.body.appendChild(tr);
  }
  if (w.tiles.length > 0) box.appendChild(tiles.t);
  const events = table(["ts", "event", "action", "item", "features", "weight", "value"], [5, 6]);
  for (const e of w.events) {
    const tr = node("tr", e.decides ? "explain-event decides" : "explain-event");
    tr.dataset.value = JSON.stringify(e.value);
    tr.dataset.eventId = e.event_id;
    tr.appendChild(explainCell(isoTime(e.ts)));
    tr.appendChild(explainCell(e.event_id, "key"));
    tr.appendChild(explainCell(e.action));
    tr.appendChild(explainCell(e.item_id || e.query || ""));
    tr.appendChild(explainCell(featuresText(e.features), "small"));
    tr.appendChild(explainCell(formatValue(e.weight), "num"));
    tr.appendChild(explainCell(partText(e.value, key), "num"));
    events.body.appendChild(tr);
  }
  if (w.events.length > 0) box.appendChild(events.t);
  if (w.truncated > 0) box.appendChild(node("p", "muted small explain-truncated", `${w.truncated} more raw events not listed`));
}

function renderExplain(x, key) {
  const card = $("explain-card");
  const what = x.kind === "view" ? `view ${x.name} (${x.transform} of ${x.signal})` : x.name + (x.window ? ` ${x.window}` : "");
  $("explain-title").textContent = `Where ${what}${key !== null ? ` [${key}]` : ""} comes from`;
  const value = key !== null && isPlainObject(x.value) ? x.value[key] : x.value;
  $("explain-summary").textContent =
    `${x.aggregator}: ${x.combine_rule}${x.kind === "view" ? `, then the view's ${x.transform}` : ""}. ` +
    `Value ${typeof value === "number" ? formatValue(value) : JSON.stringify(value)} as of ${isoTime(x.as_of)}.`;
  const box = $("explain-windows");
  box.textContent = "";
  for (const w of x.windows) {
    const part = node("div", "explain-window");
    part.dataset.window = w.window === null ? "" : w.window;
    renderExplainWindow(part, w, key);
    box.appendChild(part);
  }
  card.dataset.ready = "true";
}

async function showExplain(path) {
  const { name, window, key } = explainTarget(path);
  const token = ++explainToken;
  const card = $("explain-card");
  card.hidden = false;
  card.dataset.ready = "false";
  card.dataset.name = name;
  card.dataset.window = window || "";
  card.dataset.key = key === null ? "" : key;
  $("explain-title").textContent = `Where ${name}${window ? ` ${window}` : ""} comes from`;
  $("explain-summary").textContent = "loading…";
  $("explain-windows").textContent = "";
  const query = new URLSearchParams({ signal: name, as_of: String(state.asOf), max_events: String(EXPLAIN_MAX_EVENTS) });
  if (window) query.set("window", window);
  try {
    const x = await getJson(`v1/users/${encodeURIComponent(state.user)}/explain?${query}`);
    if (token !== explainToken) return;
    renderExplain(x, key);
  } catch (error) {
    if (token !== explainToken) return;
    $("explain-summary").textContent = error.message;
    $("explain-summary").className = "error";
  }
  card.scrollIntoView({ block: "nearest" });
}

// Hides the drill-down (another user or as_of is shown).
function closeExplain() {
  explainToken++;
  const card = $("explain-card");
  if (card) card.hidden = true;
}

document.addEventListener("DOMContentLoaded", () => {
  $("signal-tables").addEventListener("click", (ev) => {
    const cell = ev.target.closest("[data-path]");
    if (!cell || !state.user) return;
    $("explain-summary").className = "small";
    showExplain(JSON.parse(cell.dataset.path));
  });
  $("explain-close").addEventListener("click", closeExplain);
});
