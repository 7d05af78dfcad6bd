// Browser test of the signal explorer page (docs/web.md): starts the real `signalbox serve` on
// freshly generated demo data, drives the system's Chromium through playwright-core, and checks
// the page against the JSON API it is built on: every number in the tables, the series of the
// mix chart, the recent items and their last session, and the live rates of the Service tab.
// Leaves screenshots in the work folder. Fails (never skips) when Chromium or playwright-core is
// missing: scripts/install-deps.sh installs both.
//
// node explorer_test.mjs --signalbox BIN --demo-data BIN --source-dir DIR --work-dir DIR
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import process from "node:process";

const TIMEOUT_MS = 120000;

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exitCode = 1;
  throw new Error(message);
}

function check(condition, message) {
  if (!condition) fail(message);
}

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith("--") || argv[i + 1] === undefined) {
      console.error(`usage: node explorer_test.mjs --signalbox BIN --demo-data BIN --source-dir DIR --work-dir DIR (bad: ${argv[i]})`);
      process.exit(2);
    }
    args[argv[i].slice(2)] = argv[i + 1];
  }
  for (const required of ["signalbox", "demo-data", "source-dir", "work-dir"]) {
    if (!args[required]) {
      console.error(`missing --${required}`);
      process.exit(2);
    }
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const chromiumPath = process.env.SIGNALBOX_CHROMIUM || "/usr/bin/chromium";
const work = path.resolve(args["work-dir"]);

let server = null;
let browser = null;
let page = null;
const watchdog = setTimeout(() => {
  console.error(`FAIL: timed out after ${TIMEOUT_MS / 1000} s`);
  if (server) server.kill("SIGKILL");
  process.exit(1);
}, TIMEOUT_MS);

function run(binary, argv) {
  const r = spawnSync(binary, argv, { encoding: "utf8" });
  if (r.error) fail(`${binary}: ${r.error.message}`);
  if (r.status !== 0) fail(`${path.basename(binary)} ${argv.join(" ")} exited ${r.status}:\n${r.stderr}`);
  return r.stdout + r.stderr;
}

// A loopback port nobody listens on right now (bound once with port 0, then released).
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// Starts `signalbox serve`; resolves with its base URL once it listens.
function startServer(config) {
  return new Promise((resolve, reject) => {
    server = spawn(args.signalbox, ["serve", "--config", config], { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    const onData = (chunk) => {
      log += chunk;
      const m = /listening on (http:\/\/[0-9.]+:\d+)/.exec(log);
      if (m) resolve(m[1]);
    };
    server.stdout.on("data", onData);
    server.stderr.on("data", onData);
    server.on("exit", (code) => reject(new Error(`signalbox serve exited ${code} before listening:\n${log}`)));
    server.on("error", reject);
  });
}

async function stopServer() {
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((resolve) => server.once("exit", resolve));
  server.kill("SIGTERM");
  const code = await exited;
  server = null;
  check(code === 0, `signalbox serve exited ${code} after SIGTERM`);
}

async function api(base, route) {
  const response = await fetch(`${base}${route}`);
  const body = await response.json();
  check(response.ok, `GET ${route}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

// The value at `p` (an array of keys and indexes) inside `root`.
function at(root, p) {
  return p.reduce((v, k) => (v === undefined || v === null ? undefined : v[k]), root);
}

async function main() {
  // Fail loudly on a machine without the browser or the driver.
  check(existsSync(chromiumPath), `no Chromium at ${chromiumPath}: run scripts/install-deps.sh (apt package chromium) or set SIGNALBOX_CHROMIUM`);
  let chromium;
  try {
    ({ chromium } = await import("playwright-core"));
  } catch (e) {
    fail(`playwright-core is not installed (${e.message}): run scripts/install-deps.sh, or npm ci in tests/web`);
  }

  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const data = path.join(work, "data");

  // A small demo world ending now, so that both "now" and stream time are answerable.
  const generated = run(args["demo-data"], ["--out", data, "--users", "30", "--pins", "300",
    "--events", "3000", "--days", "10", "--seed", "7"]);
  const heaviest = /heaviest users: (\d+)/.exec(generated);
  check(heaviest, `signalbox-demo-data printed no heaviest users:\n${generated}`);
  const user = heaviest[1];
  const demo = readFileSync(path.join(args["source-dir"], "examples", "demo.yaml"), "utf8");
  const config = path.join(work, "demo.yaml");
  // The demo's signals plus a sequence and a quantile signal, whose tables have shapes of their own.
  const extraSignals = [
    "  - { name: recent_actions, aggregator: sequence, k: 20, fields: [ts, action, item_id, pin.categories] }",
    "  - { name: price_quantiles, aggregator: quantile, value: attrs.price, actions: { purchase: 1 }, quantiles: [0.5, 0.9, 0.99], windows: [7d, 90d] }",
  ].join("\n");
  check(/\nviews:/.test(demo), "examples/demo.yaml has no views: section to add signals before");
  writeFileSync(config, demo.replace(/http:\s*[0-9.]+:\d+/, `http: 127.0.0.1:${await freePort()}`)
    .replace(/\n\nviews:/, `\n${extraSignals}\n\nviews:`));
  run(args.signalbox, ["replay", "--config", config, path.join(data, "events.ndjson")]);
  const base = await startServer(config);
  console.log(`serving ${base}; user ${user}`);

  // A fresh profile in the work folder (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(path.join(work, "chromium-profile"), {
    executablePath: chromiumPath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1400, height: 1000 },
  });
  page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  // Failed requests are judged by their answers below, not by the console's notice of them.
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") &&
    problems.push(`console error: ${m.text()}`));
  // No request of the page may end in an error: the mix chart asks the server how far back a
  // signal can be answered (GET /v1/users/{user_id}/reach) instead of probing with refused as_ofs.
  const requested = [];
  page.on("request", (r) => requested.push(r.url()));
  page.on("response", async (r) => {
    if (r.status() < 400) return;
    const body = await r.text().catch(() => "");
    problems.push(`${r.status()} for ${r.url()}: ${body}`);
  });
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  // The page must not reach beyond the server that served it.
  page.on("request", (r) => !r.url().startsWith(base) && problems.push(`request outside the server: ${r.url()}`));

  await page.goto(`${base}/`);
  check((await page.title()).includes("Signalbox"), `title is "${await page.title()}"`);

  // The list of users comes from GET /v1/users and offers the heaviest user: the server has
  // ingested nobody since it started (the data was replayed), so it lists stored users.
  const recentAtStart = await api(base, "/v1/users?recent=200");
  check(recentAtStart.users.length === 0, `GET /v1/users?recent=200 lists ${JSON.stringify(recentAtStart.users)} before any ingest`);
  const listed = await api(base, "/v1/users?limit=200");
  check(listed.users.includes(user), `GET /v1/users does not list ${user}: ${JSON.stringify(listed)}`);
  const userButton = page.locator(`#users button[data-user="${user}"]`);
  await userButton.waitFor({ timeout: 10000 });
  check(await page.locator("#users button").count() === listed.users.length,
    "the page lists a different number of users than GET /v1/users");
  check(await page.locator("#users").getAttribute("data-kind") === "stored", "the list is not marked as stored users");
  await userButton.click();
  await page.locator(`#user-content[data-user="${user}"]`).waitFor({ timeout: 15000 });
  await page.locator('#mix-chart[data-ready="true"]').waitFor({ timeout: 30000 });
  check(await page.locator("#user-seen").getAttribute("data-seen") === "true" && await page.locator("#user-seen").isHidden(),
    `user ${user} is not shown as seen`);

  // Every signal and view, and every number shown, as the JSON API answers at the same as_of.
  const asOf = await page.locator("#user-content").getAttribute("data-as-of");
  const answer = await api(base, `/v1/users/${user}/signals?as_of=${asOf}`);
  const described = await api(base, "/v1/signals");
  const names = [...described.signals, ...described.views].map((e) => e.name);
  for (const name of names) {
    check(await page.locator(`.signal[data-name="${name}"]`).count() === 1, `no table for ${name}`);
  }
  const cells = await page.locator("#signal-tables [data-path], #recent-table [data-path]").evaluateAll(
    (nodes) => nodes.map((n) => ({ path: JSON.parse(n.dataset.path), kind: n.dataset.kind, text: n.textContent })));
  let numbers = 0;
  for (const cell of cells) {
    const expected = at(answer.signals, cell.path);
    const where = JSON.stringify(cell.path);
    check(expected !== undefined, `the page shows ${where}, which the API does not answer`);
    if (cell.kind === "number") {
      const shown = Number(cell.text);
      const tolerance = Number.isInteger(expected) ? 0 : Math.abs(expected) * 5e-4 + 1e-12;
      check(Math.abs(shown - expected) <= tolerance, `${where}: the page shows ${cell.text}, the API answers ${expected}`);
      numbers++;
    } else {
      check(cell.text === String(expected), `${where}: the page shows "${cell.text}", the API answers "${expected}"`);
    }
  }
  // Each number of the answer's scalar and grouped-count results is on the page.
  let answerNumbers = 0;
  const countNumbers = (v) => {
    if (typeof v === "number") answerNumbers++;
    else if (v && typeof v === "object") Object.values(v).forEach(countNumbers);
  };
  for (const name of ["saves", "category_counts", "distinct_pins", "purchases_value", "category_affinity"]) countNumbers(answer.signals[name]);
  check(answerNumbers > 20, `user ${user} has too few numbers to test with (${answerNumbers})`);
  check(numbers >= answerNumbers, `the page shows ${numbers} numbers, fewer than the ${answerNumbers} of the grouped and scalar signals`);

  // The sequence: one row per entry of the answer, newest first, its items as the API lists them.
  const sequence = answer.signals.recent_actions;
  check(Array.isArray(sequence) && sequence.length > 0, `recent_actions answers ${JSON.stringify(sequence)}`);
  const sequenceTable = page.locator('.signal[data-name="recent_actions"] table');
  const sequenceHeaders = await sequenceTable.locator("th").allTextContents();
  const itemColumn = sequenceHeaders.indexOf("item_id");
  check(itemColumn > 0, `the sequence table has the columns ${sequenceHeaders.join(", ")}`);
  const shownItems = await sequenceTable.locator("tbody tr").evaluateAll(
    (rows, column) => rows.map((r) => r.children[column].textContent), itemColumn);
  // An event without an item (a search) shows as a dash.
  const answeredItems = sequence.map((e) => (e.item_id === null ? "–" : e.item_id));
  check(JSON.stringify(shownItems) === JSON.stringify(answeredItems),
    `the sequence table lists ${JSON.stringify(shownItems)}, recent_actions answers ${JSON.stringify(answeredItems)}`);

  // The quantiles' small chart: one bar per quantile of the longest window, each as long as its
  // value against the largest.
  const priceQuantiles = answer.signals.price_quantiles["90d"];
  check(priceQuantiles && Object.values(priceQuantiles).every((v) => typeof v === "number"),
    `user ${user} has no purchase prices to chart: ${JSON.stringify(answer.signals.price_quantiles)}`);
  const bars = await page.locator('.signal[data-name="price_quantiles"] td.quantile-bar').evaluateAll(
    (cells) => cells.map((c) => ({ q: c.dataset.quantile, value: Number(c.dataset.value),
      fraction: parseFloat(c.querySelector(".bar-fill").style.width) / 100 })));
  const largest = Math.max(...Object.values(priceQuantiles));
  check(bars.length === Object.keys(priceQuantiles).length, `the quantile chart has ${bars.length} bars for ${JSON.stringify(priceQuantiles)}`);
  for (const bar of bars) {
    check(bar.value === priceQuantiles[bar.q], `the ${bar.q} bar charts ${bar.value}, the API answers ${priceQuantiles[bar.q]}`);
    check(Math.abs(bar.fraction - priceQuantiles[bar.q] / largest) < 1e-6,
      `the ${bar.q} bar fills ${bar.fraction.toFixed(3)} of its cell, expected ${(priceQuantiles[bar.q] / largest).toFixed(3)}`);
  }

  // The mix chart: one series per key the API answers at the chart's points, no more, no less.
  const mix = await page.locator("#mix-chart").evaluate((n) => ({
    signal: n.dataset.signal, window: n.dataset.window, points: JSON.parse(n.dataset.points),
    series: [...n.querySelectorAll("path.series")].map((p) => p.dataset.series),
    svgCount: Number(n.querySelector("svg").dataset.seriesCount),
  }));
  // Of the demo's grouped signals, category_affinity (no windows) reaches furthest back:
  // category_counts has a window as long as the retention, so only its last hour is answerable.
  check(mix.signal === "category_affinity", `the mix chart shows ${mix.signal}, expected category_affinity`);
  const options = await page.locator("#mix-signal option").allTextContents();
  check(options.length === 2 && options.some((o) => o.startsWith("category_counts")),
    `the mix chart offers ${options.join(", ")}; expected category_counts and category_affinity`);
  check(mix.points.length >= 10, `the mix chart has only ${mix.points.length} points`);
  // The chart starts where the server says the signal can first be answered, found without a
  // single refused query.
  const span = Number(await page.locator("#mix-span").inputValue());
  const end = mix.points[mix.points.length - 1];
  const reach = await api(base, `/v1/users/${user}/reach?names=${mix.signal}&from=${end - span}&to=${end}`);
  check(reach.earliest === mix.points[0], `the chart starts at ${mix.points[0]}, GET .../reach answers ${JSON.stringify(reach)}`);
  check(requested.some((u) => u.includes("/reach?")), "the page never asked GET /v1/users/{user_id}/reach");
  const keys = new Set();
  for (const t of mix.points) {
    const r = await api(base, `/v1/users/${user}/signals?names=${mix.signal}&as_of=${t}`);
    const value = mix.window ? r.signals[mix.signal][mix.window] : r.signals[mix.signal];
    for (const k of Object.keys(value)) keys.add(k);
  }
  check(keys.size > 1, `the API answers only ${keys.size} categories for the chart's points`);
  check(mix.series.length === keys.size && mix.svgCount === keys.size,
    `the mix chart draws ${mix.series.length} series, the API answers ${keys.size} categories`);
  for (const k of keys) check(mix.series.includes(k), `the mix chart has no series for category ${k}`);
  const legend = await page.locator("#mix-legend .legend-item").count();
  check(legend === keys.size, `the legend lists ${legend} categories, expected ${keys.size}`);

  // Another page size or mode redraws the answers the page holds and asks the server nothing:
  // a redraw must not meet a stream time that moved on since the reach was asked (events
  // posted meanwhile would make the chart's first point too old).
  const askedBefore = requested.length;
  const chartWidth = () => page.locator("#mix-chart svg").getAttribute("width");
  const wideWidth = await chartWidth();
  await page.setViewportSize({ width: 1000, height: 1000 });
  await page.waitForFunction((w) => document.querySelector("#mix-chart svg").getAttribute("width") !== w,
    wideWidth, { timeout: 10000 });
  await page.locator("#mix-mode").selectOption("share");
  const shares = await page.locator("#mix-chart path.series").count();
  check(shares === keys.size, `the share mode draws ${shares} series, the API answers ${keys.size} categories`);
  check((await page.locator("#mix-note").textContent()).includes(`${mix.points.length} points`),
    "the share mode's note does not count the chart's points");
  await page.locator("#mix-mode").selectOption("stacked");
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.waitForFunction((w) => document.querySelector("#mix-chart svg").getAttribute("width") === w,
    wideWidth, { timeout: 10000 });
  const redrawAsked = requested.slice(askedBefore).filter((u) => /\/(reach|signals)\?/.test(u));
  check(redrawAsked.length === 0, `redrawing the mix chart asked the server ${redrawAsked.length} more times, first ${redrawAsked[0]}`);

  // Recent items: every item of the last_k signal, and its last session highlighted.
  const recentRows = await page.locator("#recent-table tbody tr").count();
  check(recentRows === answer.signals.recent_pins.length,
    `the recent table has ${recentRows} rows, recent_pins has ${answer.signals.recent_pins.length}`);
  const highlighted = await page.locator("#recent-table tbody tr.in-session").count();
  check(highlighted === answer.signals.last_session_pins.length,
    `${highlighted} rows are highlighted as the last session, last_session_pins has ${answer.signals.last_session_pins.length}`);
  const dots = await page.locator("#recent-timeline circle").count();
  check(dots === recentRows, `the timeline has ${dots} dots for ${recentRows} items`);

  // The drill-down: clicking a value shows the tiles and raw events GET .../explain lists for
  // it (90d reaches past the 7-day retention into day tiles), and their values add up to it.
  let drilled = 0;
  for (const cellPath of [["saves", "90d"], ["saves", "7d"], ["category_counts", "30d"]]) {
    const cell = page.locator(`#signal-tables td[data-path^='${JSON.stringify(cellPath).slice(0, -1)}']`).first();
    const clicked = JSON.parse(await cell.getAttribute("data-path"));
    const key = clicked.length > 2 ? clicked[2] : null;
    await cell.click();
    const [name, window] = clicked;
    await page.locator(`#explain-card[data-ready="true"][data-name="${name}"][data-window="${window}"]`).waitFor({ timeout: 10000 });
    const x = await api(base, `/v1/users/${user}/explain?signal=${name}&window=${window}&as_of=${asOf}&max_events=200`);
    const served = answer.signals[name][window];
    check(JSON.stringify(x.value) === JSON.stringify(served), `explain ${name} ${window} answers ${JSON.stringify(x.value)}, the signals route ${JSON.stringify(served)}`);
    const w = x.windows[0];
    const shown = await page.locator("#explain-card tr.explain-tile, #explain-card tr.explain-event").evaluateAll(
      (nodes) => nodes.map((n) => ({ tile: n.classList.contains("explain-tile"), value: JSON.parse(n.dataset.value) })));
    check(shown.filter((r) => r.tile).length === w.tiles.length, `the drill-down of ${name} ${window} shows ${shown.filter((r) => r.tile).length} tiles, the API lists ${w.tiles.length}`);
    check(shown.filter((r) => !r.tile).length === w.events.length, `the drill-down of ${name} ${window} shows ${shown.filter((r) => !r.tile).length} events, the API lists ${w.events.length}`);
    if (window === "90d") check(w.tiles.length > 0, `explain ${name} 90d lists no tiles`);
    check(w.truncated === 0, `explain ${name} ${window} left ${w.truncated} events out`);
    const part = (v) => (key === null ? v : (v[key] || 0));
    const total = shown.reduce((sum, r) => sum + part(r.value), 0);
    const expected = part(served);
    check(Math.abs(total - expected) <= 1e-9 * Math.max(1, Math.abs(expected)),
      `the drill-down's parts of ${JSON.stringify(clicked)} add up to ${total}, the value is ${expected}`);
    const title = await page.locator("#explain-title").textContent();
    check(title.includes(name) && title.includes(window), `the drill-down is titled "${title}"`);
    drilled++;
  }
  await page.screenshot({ path: path.join(work, "explain.png"), fullPage: true });
  await page.locator("#explain-close").click();
  check(await page.locator("#explain-card").isHidden(), "the drill-down stays open after close");

  await page.screenshot({ path: path.join(work, "explorer.png"), fullPage: true });

  // Service tab: live rates from /metrics; events posted now show up as events/s.
  await page.locator("#tab-service").click();
  check(await page.locator("#explorer").isHidden(), "the Signals tab is still shown on the Service tab");
  const events = [];
  const now = Date.now();
  for (let i = 0; i < 50; i++) events.push(JSON.stringify({ user_id: 4242, ts: now - i * 1000, action: "click", item_id: `p${i}` }));
  const deadline = Date.now() + 20000;
  let rate = 0;
  while (Date.now() < deadline && !(rate > 0)) {
    const posted = await fetch(`${base}/v1/events`, {
      method: "POST",
      headers: { "Content-Type": "application/x-ndjson" },
      body: events.join("\n"),
    });
    check(posted.ok, `POST /v1/events: ${posted.status}`);
    await page.waitForTimeout(1000);
    rate = Number(await page.locator('[data-stat="events/s"]').textContent().catch(() => "0"));
  }
  check(rate > 0, `the Service tab shows ${rate} events/s while events are being posted`);
  const accepted = Number(await page.locator('[data-stat="events accepted"]').textContent());
  check(accepted >= events.length, `the Service tab shows ${accepted} events accepted since start, fewer than posted`);
  check(await page.locator("#chart-events path.series").count() === 1, "no events/s line");
  check(await page.locator("#chart-latency path.series").count() === 2, "no latency lines");
  const routes = await page.locator("#route-table td.key").allTextContents();
  check(routes.includes("/v1/users/{user_id}/signals"), `the route table lists ${routes.join(", ")}`);
  await page.screenshot({ path: path.join(work, "service.png"), fullPage: true });

  // A user posted just now is offered first: the list leads with recently ingested users.
  const recent = await api(base, "/v1/users?limit=1");
  check(recent.users[0] === "4242", `GET /v1/users?limit=1 answers ${JSON.stringify(recent.users)}, expected the user just posted`);
  const recentOnly = await api(base, "/v1/users?recent=200");
  check(JSON.stringify(recentOnly.users) === JSON.stringify(["4242"]),
    `GET /v1/users?recent=200 answers ${JSON.stringify(recentOnly.users)}, expected only the user posted since start`);
  // Back on the Signals tab, the list shows the recently active users.
  await page.locator("#tab-explorer").click();
  await page.locator('#users[data-kind="recent"] button[data-user="4242"]').waitFor({ timeout: 10000 });
  check(await page.locator("#users button").count() === 1, "the recent list holds other users than the one posted");

  // A user the store never saw is marked as such (zeros alone look like an inactive user).
  const unknown = "987654321987";
  const unknownAnswer = await api(base, `/v1/users/${unknown}/signals?names=saves`);
  check(unknownAnswer.seen === false, `GET /v1/users/${unknown}/signals answers seen ${unknownAnswer.seen}`);
  check((await api(base, `/v1/users/${user}/signals?names=saves`)).seen === true, `user ${user} is not seen`);
  await page.locator("#user-input").fill(unknown);
  await page.locator("#user-form button[type=submit], #user-form input[type=submit]").first().click();
  await page.locator(`#user-content[data-user="${unknown}"]`).waitFor({ timeout: 15000 });
  await page.locator('#user-seen[data-seen="false"]').waitFor({ state: "visible", timeout: 10000 });
  check(/never seen/i.test(await page.locator("#user-seen").textContent()), "the never-seen notice does not say so");
  await page.screenshot({ path: path.join(work, "unknown-user.png"), fullPage: true });

  check(problems.length === 0, `the page had problems:\n${problems.join("\n")}`);
  console.log(`ok: ${names.length} signals and views, ${numbers} numbers checked, ${keys.size} series, ` +
    `${recentRows} recent items, ${drilled} drill-downs; screenshots in ${work}`);
}

try {
  await main();
} catch (e) {
  if (!process.exitCode) console.error(`FAIL: ${e.stack || e.message}`);
  process.exitCode = 1;
  if (page) await page.screenshot({ path: path.join(work, "failure.png"), fullPage: true }).catch(() => {});
} finally {
  if (browser) await browser.close().catch(() => {});
  await stopServer().catch((e) => {
    console.error(`FAIL: ${e.message}`);
    process.exitCode = 1;
  });
  clearTimeout(watchdog);
}
