// A small SVG chart renderer for the Signalbox page: time-series line and stacked-area charts
// with axes, a legend and a hover read-out. Hand-written rather than a chart library so the
// page needs no build step, no dependency and no network: everything is served by the binary.
"use strict";

const Charts = (() => {
  const SVG = "http://www.w3.org/2000/svg";

  // 20 distinguishable colours; series beyond that cycle.
  const PALETTE = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#1f77b4", "#aec7e8", "#ff7f0e", "#2ca02c", "#98df8a", "#d62728",
    "#9467bd", "#c5b0d5", "#8c564b", "#17becf",
  ];

  function colour(i) {
    return PALETTE[i % PALETTE.length];
  }

  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (parent) parent.appendChild(node);
    return node;
  }

  // About `count` round tick values covering [lo, hi].
  function niceTicks(lo, hi, count) {
    if (!(hi > lo)) return [lo];
    const raw = (hi - lo) / Math.max(1, count);
    const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) || raw;
    const ticks = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(t);
    return ticks;
  }

  function formatNumber(v) {
    if (v === 0) return "0";
    const a = Math.abs(v);
    if (a >= 1e6) return (v / 1e6).toPrecision(3) + "M";
    if (a >= 1e4) return (v / 1e3).toPrecision(3) + "k";
    if (Number.isInteger(v)) return String(v);
    return String(Number(v.toPrecision(3)));
  }

  function formatTime(ms, spanMs) {
    const d = new Date(ms);
    const pad = (n) => String(n).padStart(2, "0");
    const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
    const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    if (spanMs <= 36 * 3600 * 1000) return time;
    if (spanMs <= 10 * 86400 * 1000) return `${day.slice(5)} ${time}`;
    return day;
  }

  // Draws a time-series chart into `container` (emptied first).
  //   series: [{name, values: [number|null per x]}]; xs: times in ms (ascending)
  //   options: {stacked: bool, yLabel: string, height: px, formatY: fn, yMax: number}
  // Returns the <svg>. Each series gets one <path class="series" data-series="name">.
  function timeSeries(container, xs, series, options = {}) {
    container.textContent = "";
    const width = Math.max(320, container.clientWidth || 640);
    const height = options.height || 260;
    const margin = { top: 12, right: 16, bottom: 28, left: 56 };
    const plotW = width - margin.left - margin.right;
    const plotH = height - margin.top - margin.bottom;
    const svg = el("svg", {
      class: "chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
      "data-series-count": series.length,
    }, container);
    if (xs.length === 0 || series.length === 0) {
      const t = el("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "empty" }, svg);
      t.textContent = options.emptyText || "no data";
      return svg;
    }

    // Stacks: the cumulative top of each series at each x (null values count as 0 there).
    const tops = [];
    const bottoms = [];
    let running = xs.map(() => 0);
    for (const s of series) {
      const bottom = running.slice();
      const top = options.stacked ? running.map((r, i) => r + (s.values[i] || 0)) : s.values.slice();
      bottoms.push(bottom);
      tops.push(top);
      if (options.stacked) running = top;
    }
    let yMax = options.yMax;
    if (yMax === undefined) {
      yMax = 0;
      for (const top of tops) for (const v of top) if (v !== null && v > yMax) yMax = v;
      if (yMax === 0) yMax = 1;
      // Up to the next tick, so the highest value sits under a labelled line.
      const ticks = niceTicks(0, yMax, 5);
      const step = ticks.length > 1 ? ticks[1] - ticks[0] : yMax;
      yMax = Math.ceil(yMax / step - 1e-9) * step;
    }
    let yMin = 0;
    for (const top of tops) for (const v of top) if (v !== null && v < yMin) yMin = v;

    const x0 = xs[0];
    const x1 = xs[xs.length - 1];
    const sx = (x) => margin.left + (x1 === x0 ? plotW / 2 : ((x - x0) / (x1 - x0)) * plotW);
    const sy = (y) => margin.top + plotH - ((y - yMin) / (yMax - yMin)) * plotH;
    const formatY = options.formatY || formatNumber;

    // Grid and axes.
    const grid = el("g", { class: "grid" }, svg);
    for (const t of niceTicks(yMin, yMax, 5)) {
      el("line", { x1: margin.left, x2: margin.left + plotW, y1: sy(t), y2: sy(t) }, grid);
      const label = el("text", { x: margin.left - 6, y: sy(t) + 4, "text-anchor": "end" }, grid);
      label.textContent = formatY(t);
    }
    const span = x1 - x0;
    const xTicks = Math.min(6, xs.length);
    for (let i = 0; i < xTicks; i++) {
      const x = xTicks === 1 ? x0 : x0 + (span * i) / (xTicks - 1);
      const label = el("text", {
        x: sx(x), y: height - 8,
        "text-anchor": i === 0 ? "start" : i === xTicks - 1 ? "end" : "middle",
      }, grid);
      label.textContent = formatTime(x, span);
    }
    el("line", {
      class: "axis", x1: margin.left, x2: margin.left + plotW, y1: sy(0), y2: sy(0),
    }, svg);
    if (options.yLabel) {
      const label = el("text", {
        class: "axis-label", x: 12, y: margin.top + plotH / 2,
        transform: `rotate(-90 12 ${margin.top + plotH / 2})`, "text-anchor": "middle",
      }, svg);
      label.textContent = options.yLabel;
    }

    // Series: areas when stacked (drawn so the first series is at the bottom), else lines.
    const layer = el("g", { class: "series-layer" }, svg);
    series.forEach((s, k) => {
      let d = "";
      if (options.stacked) {
        const upper = xs.map((x, i) => `${sx(x).toFixed(1)},${sy(tops[k][i]).toFixed(1)}`);
        const lower = xs.map((x, i) => `${sx(x).toFixed(1)},${sy(bottoms[k][i]).toFixed(1)}`).reverse();
        d = `M${upper.join("L")}L${lower.join("L")}Z`;
      } else {
        let pen = "M";
        xs.forEach((x, i) => {
          const v = s.values[i];
          if (v === null || v === undefined) {
            pen = "M";
            return;
          }
          d += `${pen}${sx(x).toFixed(1)},${sy(v).toFixed(1)}`;
          pen = "L";
        });
      }
      const path = el("path", {
        class: options.stacked ? "series area" : "series line", d,
        fill: options.stacked ? colour(k) : "none", stroke: colour(k),
        "data-series": s.name,
      }, layer);
      const title = el("title", {}, path);
      title.textContent = s.name;
      // Dots on sparse lines, so that a single sample shows too.
      if (!options.stacked && xs.length <= 60) {
        xs.forEach((x, i) => {
          const v = s.values[i];
          if (v === null || v === undefined) return;
          el("circle", { class: "marker", cx: sx(x).toFixed(1), cy: sy(v).toFixed(1), r: 2.5, fill: colour(k) }, layer);
        });
      }
    });

    // Hover read-out: a vertical rule and the values at the nearest x.
    const rule = el("line", { class: "hover-rule", y1: margin.top, y2: margin.top + plotH, visibility: "hidden" }, svg);
    const tip = document.createElement("div");
    tip.className = "chart-tip";
    tip.hidden = true;
    container.appendChild(tip);
    const overlay = el("rect", {
      class: "overlay", x: margin.left, y: margin.top, width: plotW, height: plotH, fill: "transparent",
    }, svg);
    overlay.addEventListener("mousemove", (ev) => {
      const box = svg.getBoundingClientRect();
      const px = ev.clientX - box.left;
      let best = 0;
      xs.forEach((x, i) => {
        if (Math.abs(sx(x) - px) < Math.abs(sx(xs[best]) - px)) best = i;
      });
      rule.setAttribute("x1", sx(xs[best]));
      rule.setAttribute("x2", sx(xs[best]));
      rule.setAttribute("visibility", "visible");
      const rows = series
        .map((s, k) => ({ name: s.name, v: s.values[best], k }))
        .filter((r) => r.v !== null && r.v !== undefined && r.v !== 0)
        .sort((a, b) => b.v - a.v)
        .slice(0, 12);
      tip.textContent = "";
      const head = document.createElement("div");
      head.className = "tip-head";
      head.textContent = new Date(xs[best]).toISOString().replace(".000Z", "Z");
      tip.appendChild(head);
      for (const r of rows) {
        const line = document.createElement("div");
        const swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.background = colour(r.k);
        line.appendChild(swatch);
        line.appendChild(document.createTextNode(` ${r.name}: ${formatY(r.v)}`));
        tip.appendChild(line);
      }
      tip.hidden = false;
      const left = Math.min(px + 14, width - 180);
      tip.style.left = `${left}px`;
      tip.style.top = `${margin.top}px`;
    });
    overlay.addEventListener("mouseleave", () => {
      rule.setAttribute("visibility", "hidden");
      tip.hidden = true;
    });
    return svg;
  }

  // A legend of coloured names, one per series, in series order.
  function legend(container, names) {
    container.textContent = "";
    names.forEach((name, k) => {
      const item = document.createElement("span");
      item.className = "legend-item";
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = colour(k);
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(name));
      container.appendChild(item);
    });
  }

  // Items on a time axis, one dot each, coloured by `group` (e.g. a session); newest right.
  //   items: [{ts, label, group}]
  function timeline(container, items, options = {}) {
    container.textContent = "";
    const width = Math.max(320, container.clientWidth || 640);
    const height = options.height || 64;
    const margin = { left: 12, right: 12, top: 10, bottom: 22 };
    const svg = el("svg", { class: "chart timeline", width, height, viewBox: `0 0 ${width} ${height}` }, container);
    if (items.length === 0) return svg;
    const ts = items.map((i) => i.ts);
    const lo = Math.min(...ts);
    const hi = Math.max(...ts);
    const sx = (t) => margin.left + (hi === lo ? (width - margin.left - margin.right) / 2
      : ((t - lo) / (hi - lo)) * (width - margin.left - margin.right));
    const mid = margin.top + (height - margin.top - margin.bottom) / 2;
    el("line", { class: "axis", x1: margin.left, x2: width - margin.right, y1: mid, y2: mid }, svg);
    for (const item of items) {
      const dot = el("circle", {
        cx: sx(item.ts).toFixed(1), cy: mid, r: 5, fill: colour(item.group || 0),
        class: "timeline-dot", "fill-opacity": 0.8,
      }, svg);
      const title = el("title", {}, dot);
      title.textContent = `${item.label} — ${new Date(item.ts).toISOString()}`;
    }
    const l = el("text", { x: margin.left, y: height - 6, "text-anchor": "start" }, svg);
    l.textContent = formatTime(lo, hi - lo);
    const r = el("text", { x: width - margin.right, y: height - 6, "text-anchor": "end" }, svg);
    r.textContent = formatTime(hi, hi - lo);
    return svg;
  }

  return { timeSeries, legend, timeline, colour, formatNumber };
})();
