// The neuron explorer: a start page (run tables and a sortable neuron index) and one view per
// neuron, all drawn from window.NE_DATA (data.js) and window.NE_PIXELS (pixels.js).
// Routes: "#" or "#index/<layer>" for the start page, "#<layer>/<number>" for a neuron.
"use strict";

/** Records an error with its stack in #js-errors: scripts loaded from file:// are masked as
 *  "Script error." in window.onerror, so the explorer reports its own errors here. */
function neReport(error) {
  window.neRecordError("Error: " + ((error && error.stack) || error));
}

function neExplorer() {
  const SIDE = 28;
  const PIXELS = SIDE * SIDE;
  const DATA = window.NE_DATA;
  if (!DATA || typeof window.NE_PIXELS !== "string") {
    throw new Error("data.js or pixels.js is missing or damaged; rewrite the explorer folder");
  }

  // ---------------------------------------------------------------- data decoding

  function decodeBase64(text) {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  const pixels = decodeBase64(window.NE_PIXELS);
  window.NE_PIXELS = null; // the decoded copy is all we need
  const labels = decodeBase64(DATA.labels);
  const testCount = DATA.test_count;
  if (pixels.length !== testCount * PIXELS || labels.length !== testCount) {
    throw new Error("pixels.js and data.js disagree on the number of test images");
  }
  const norm = DATA.normalisation;

  const layers = DATA.layers.map(function (raw) {
    const bytes = decodeBase64(raw.weights);
    return Object.assign({}, raw, { weightBytes: new Int8Array(bytes.buffer) });
  });
  const layerByKey = {};
  layers.forEach(function (layer) { layerByKey[layer.key] = layer; });

  /** Pixel-space input weights of neuron j as 784 floats. */
  function weightsOf(layer, j) {
    const out = new Float32Array(PIXELS);
    const scale = layer.weight_scales[j];
    const base = j * PIXELS;
    for (let i = 0; i < PIXELS; i++) out[i] = layer.weightBytes[base + i] * scale;
    return out;
  }

  /** Raw pixels (0-255) of test image i. */
  function imageOf(i) {
    return pixels.subarray(i * PIXELS, (i + 1) * PIXELS);
  }

  /** Mean raw pixel values (0-255) of the given test images. */
  function averageImage(indices) {
    const sum = new Float32Array(PIXELS);
    indices.forEach(function (i) {
      const image = imageOf(i);
      for (let p = 0; p < PIXELS; p++) sum[p] += image[p];
    });
    const n = Math.max(indices.length, 1);
    for (let p = 0; p < PIXELS; p++) sum[p] /= n;
    return sum;
  }

  /** The MLP's view of an average image: (pixel / 255 - mean) / std. */
  function normalised(raw) {
    const out = new Float32Array(PIXELS);
    for (let p = 0; p < PIXELS; p++) out[p] = (raw[p] / 255 - norm.mean) / norm.std;
    return out;
  }

  /** Median of the finite numbers among `values`, or null. */
  function median(values) {
    const sorted = values.filter(Number.isFinite).sort(function (a, b) { return a - b; });
    if (!sorted.length) return null;
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  function maxAbs(values) {
    let m = 0;
    for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
    return m;
  }

  // ---------------------------------------------------------------- DOM helpers

  /** Creates an element; `props` sets properties (className, textContent, href, ...) and
   *  `data-*`/aria attributes; children may be nodes or strings (added as text). */
  function el(tag, props) {
    const node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      if (props[key] === undefined) return;
      if (key.startsWith("data-") || key.startsWith("aria-")) node.setAttribute(key, props[key]);
      else node[key] = props[key];
    });
    for (let i = 2; i < arguments.length; i++) {
      const child = arguments[i];
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function fmt(value, decimals) {
    if (value === null || value === undefined || !isFinite(value)) return "—";
    return Number(value).toFixed(decimals);
  }

  function pct(share) {
    if (share === null || share === undefined || !isFinite(share)) return "—";
    return fmt(100 * share, share > 0 && share < 0.001 ? 2 : 1) + "%";
  }

  /** A count or median of counts: whole numbers without decimals. */
  function fmtCount(value) {
    return fmt(value, Number.isInteger(value) ? 0 : 1);
  }

  function link(layerKey, index) {
    return "#" + layerKey + "/" + index;
  }

  function unitName(layer) {
    return layer.kind === "mlp" ? "neuron" : "latent";
  }

  // ---------------------------------------------------------------- colours and pictures

  // Diverging map: negative blue, zero white, positive red (ColorBrewer's RdBu hues).
  const POSITIVE = [[255, 255, 255], [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31]];
  const NEGATIVE = [[255, 255, 255], [209, 229, 240], [146, 197, 222], [67, 147, 195], [33, 102, 172], [5, 48, 97]];

  /** Colour of t in [-1, 1]. */
  function diverging(t) {
    const stops = t < 0 ? NEGATIVE : POSITIVE;
    const x = Math.min(Math.abs(t), 1) * (stops.length - 1);
    const i = Math.min(Math.floor(x), stops.length - 2);
    const f = x - i;
    const a = stops[i];
    const b = stops[i + 1];
    return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
  }

  /** A 28 x 28 picture shown at `size` CSS pixels. `mode` "gray": values are raw pixels
   *  0-255, drawn white on black; "diverging": values are signed, ±limit at full colour. */
  function picture(values, mode, size, kind, title, limit) {
    const canvas = el("canvas", { className: "picture", width: SIDE, height: SIDE, "data-kind": kind });
    canvas.style.width = size + "px";
    canvas.style.height = size + "px";
    if (title) canvas.title = title;
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(SIDE, SIDE);
    const scale = limit > 0 ? 1 / limit : 0;
    for (let p = 0; p < PIXELS; p++) {
      const rgb = mode === "gray" ? [values[p], values[p], values[p]] : diverging(values[p] * scale);
      image.data.set([rgb[0], rgb[1], rgb[2], 255], 4 * p);
    }
    ctx.putImageData(image, 0, 0);
    canvas.setAttribute("data-drawn", "true");
    return canvas;
  }

  /** A canvas sized in CSS pixels and scaled for the screen's pixel density. */
  function chartCanvas(width, height, kind) {
    const ratio = window.devicePixelRatio || 1;
    const canvas = el("canvas", { className: "chart", width: Math.round(width * ratio), height: Math.round(height * ratio), "data-kind": kind });
    canvas.style.width = width + "px";
    canvas.style.height = height + "px";
    const ctx = canvas.getContext("2d");
    ctx.scale(ratio, ratio);
    ctx.font = "12px system-ui, sans-serif";
    return { canvas: canvas, ctx: ctx };
  }

  /** Horizontal colour bar for a diverging picture with limit ±limit. */
  function colourBar(limit) {
    const width = 200;
    const chart = chartCanvas(width + 60, 30, "colour-bar");
    const ctx = chart.ctx;
    for (let x = 0; x < width; x++) {
      const rgb = diverging((2 * x) / (width - 1) - 1);
      ctx.fillStyle = "rgb(" + rgb.map(Math.round).join(",") + ")";
      ctx.fillRect(30 + x, 2, 1, 10);
    }
    ctx.strokeStyle = "#999";
    ctx.strokeRect(30.5, 2.5, width - 1, 9);
    ctx.fillStyle = "#333";
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.fillText("−" + limit.toPrecision(2), 30, 15);
    ctx.fillText("0", 30 + width / 2, 15);
    ctx.fillText("+" + limit.toPrecision(2), 30 + width, 15);
    chart.canvas.setAttribute("data-drawn", "true");
    return chart.canvas;
  }

  /** A "nice" step for about `count` ticks over [0, span]. */
  function niceStep(span, count) {
    const raw = span / Math.max(count, 1);
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const unit = raw / power;
    return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
  }

  function tickLabel(value, step) {
    const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
    return value.toFixed(Math.min(decimals, 6));
  }

  /** Bar chart of the ten class-logit effects. */
  function logitChart(values) {
    const width = 420;
    const height = 240;
    const left = 52;
    const right = 12;
    const top = 16;
    const bottom = 40;
    const chart = chartCanvas(width, height, "logits");
    const ctx = chart.ctx;
    const limit = maxAbs(values) || 1;
    const step = niceStep(limit, 3);
    const extent = Math.ceil(limit / step - 1e-9) * step;
    const y = function (v) { return top + ((extent - v) / (2 * extent)) * (height - top - bottom); };
    const band = (width - left - right) / values.length;

    ctx.textBaseline = "middle";
    ctx.textAlign = "right";
    for (let v = -extent; v <= extent + step / 2; v += step) {
      ctx.strokeStyle = Math.abs(v) < step / 2 ? "#444" : "#e3e3e3";
      ctx.beginPath();
      ctx.moveTo(left, Math.round(y(v)) + 0.5);
      ctx.lineTo(width - right, Math.round(y(v)) + 0.5);
      ctx.stroke();
      ctx.fillStyle = "#555";
      ctx.fillText(tickLabel(Math.abs(v) < step / 2 ? 0 : v, step), left - 6, y(v));
    }
    values.forEach(function (v, c) {
      const x = left + c * band + band * 0.18;
      const rgb = diverging(v >= 0 ? 0.75 : -0.75);
      ctx.fillStyle = "rgb(" + rgb.map(Math.round).join(",") + ")";
      const y0 = y(Math.max(v, 0));
      ctx.fillRect(x, y0, band * 0.64, Math.max(Math.abs(y(v) - y(0)), 1));
      ctx.fillStyle = "#222";
      ctx.textAlign = "center";
      ctx.fillText(String(c), left + (c + 0.5) * band, height - bottom + 14);
    });
    ctx.fillStyle = "#555";
    ctx.fillText("class logit", left + (width - left - right) / 2, height - 10);
    chart.canvas.setAttribute("data-drawn", "true");
    return chart.canvas;
  }

  /** Cumulative distribution of a neuron's positive test activations, from their quantiles.
   *  Sparse neurons leave most images at exactly 0; that share is printed, not drawn, so the
   *  curve of the images that do activate the neuron stays readable. */
  function cdfChart(zeroShare, quantiles) {
    const width = 420;
    const height = 240;
    const left = 52;
    const right = 16;
    const top = 12;
    const bottom = 40;
    const chart = chartCanvas(width, height, "cdf");
    const ctx = chart.ctx;
    const xMax = quantiles.length ? quantiles[quantiles.length - 1] || 1 : 1;
    const xStep = niceStep(xMax, 4);
    const xExtent = Math.ceil(xMax / xStep - 1e-9) * xStep;
    const x = function (v) { return left + (v / xExtent) * (width - left - right); };
    const y = function (p) { return top + (1 - p) * (height - top - bottom); };

    ctx.textBaseline = "middle";
    ctx.textAlign = "right";
    [0, 0.25, 0.5, 0.75, 1].forEach(function (p) {
      ctx.strokeStyle = "#e3e3e3";
      ctx.beginPath();
      ctx.moveTo(left, Math.round(y(p)) + 0.5);
      ctx.lineTo(width - right, Math.round(y(p)) + 0.5);
      ctx.stroke();
      ctx.fillStyle = "#555";
      ctx.fillText(p.toFixed(2), left - 6, y(p));
    });
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (let v = 0; v <= xExtent + xStep / 2; v += xStep) {
      ctx.fillStyle = "#555";
      ctx.fillText(tickLabel(v, xStep), x(v), height - bottom + 6);
    }
    ctx.fillText("activation (of the images that activate it)", left + (width - left - right) / 2, height - 16);
    ctx.strokeStyle = "#444";
    ctx.beginPath();
    ctx.moveTo(left + 0.5, top);
    ctx.lineTo(left + 0.5, y(0) + 0.5);
    ctx.lineTo(width - right, y(0) + 0.5);
    ctx.stroke();

    if (quantiles.length) {
      const last = quantiles.length - 1;
      const points = quantiles.map(function (q, i) { return [q, last > 0 ? i / last : 1]; });
      points.unshift([quantiles[0], 0]);
      ctx.fillStyle = "rgba(33, 102, 172, 0.12)";
      ctx.beginPath();
      ctx.moveTo(x(quantiles[0]), y(0));
      points.forEach(function (pt) { ctx.lineTo(x(pt[0]), y(pt[1])); });
      ctx.lineTo(x(xExtent), y(1));
      ctx.lineTo(x(xExtent), y(0));
      ctx.fill();
      ctx.strokeStyle = "#2166ac";
      ctx.lineWidth = 2;
      ctx.beginPath();
      points.forEach(function (pt, i) {
        if (i === 0) ctx.moveTo(x(pt[0]), y(pt[1]));
        else ctx.lineTo(x(pt[0]), y(pt[1]));
      });
      ctx.lineTo(x(xExtent), y(1));
      ctx.stroke();
    }
    ctx.fillStyle = "#2166ac";
    ctx.textAlign = "right";
    ctx.textBaseline = "bottom";
    ctx.fillText(quantiles.length ? "not drawn: " + pct(zeroShare) + " of test images at 0" : "no test image activates it",
      width - right - 4, y(0) - 6);
    chart.canvas.setAttribute("data-drawn", "true");
    return chart.canvas;
  }

  /** Test image i as a thumbnail with its label (and activation, if given) underneath. */
  function digit(i, size, activation, extraClass) {
    const caption = "label " + labels[i] + (activation === undefined ? "" : " · " + Number(activation).toPrecision(3));
    return el("figure", { className: "digit " + (extraClass || "") },
      picture(imageOf(i), "gray", size, "digit", "test image " + i + ", " + caption),
      el("figcaption", {}, caption));
  }

  /** "7 ×45 · 1 ×10 · …": the labels of some test images, most common first. */
  function labelMix(indices) {
    const counts = new Array(10).fill(0);
    indices.forEach(function (i) { counts[labels[i]] += 1; });
    return counts
      .map(function (n, label) { return { n: n, label: label }; })
      .filter(function (c) { return c.n > 0; })
      .sort(function (a, b) { return b.n - a.n || a.label - b.label; })
      .slice(0, 5)
      .map(function (c) { return c.label + " ×" + c.n; })
      .join(" · ");
  }

  // ---------------------------------------------------------------- start page

  const METRIC_COLUMNS = {
    table2: [["mse", "MSE", 3], ["l1", "L1", 1], ["l0_pct", "L0 / %", 2], ["acc_loss_pct", "Acc. loss / %", 2]],
    table3: [["max_dist", "Max dist", 3], ["mean_dist", "Mean dist", 3], ["size", "Size", 1], ["dead_pct", "Dead / %", 1]],
  };
  const VARIANTS = [["standard", "Standard"], ["ne", "+ NE loss"]];

  function metricsTable(caption, columns) {
    const metrics = DATA.metrics || {};
    const summary = metrics.summary || {};
    const runs = Array.isArray(metrics.runs) ? metrics.runs.length : 0;
    const head = el("tr", {}, el("th", {}, ""), el("th", {}, "source"));
    columns.forEach(function (c) { head.append(el("th", {}, c[1])); });
    const body = el("tbody");
    VARIANTS.forEach(function (variant) {
      const paper = DATA.paper[variant[0]] || {};
      const ours = summary[variant[0]] || {};
      const paperRow = el("tr", { className: "paper" }, el("th", { rowSpan: 2 }, variant[1]), el("td", {}, "paper"));
      const oursRow = el("tr", { className: "ours" }, el("td", {}, "ours (" + runs + " seed" + (runs === 1 ? "" : "s") + ")"));
      columns.forEach(function (c) {
        // The paper's figures as printed; ours with fixed decimals.
        paperRow.append(el("td", { className: "num" }, paper[c[0]] === undefined ? "—" : String(paper[c[0]])));
        const cell = ours[c[0]] || {};
        const text = fmt(cell.mean, c[2]) + (cell.std === null || cell.std === undefined ? "" : " ± " + fmt(cell.std, c[2]));
        oursRow.append(el("td", { className: "num" }, text));
      });
      body.append(paperRow, oursRow);
    });
    return el("table", { className: "metrics" }, el("caption", {}, caption), el("thead", {}, head), body);
  }

  function runFacts() {
    const metrics = DATA.metrics || {};
    const runs = Array.isArray(metrics.runs) ? metrics.runs : [];
    const shown = runs.find(function (r) { return r.seed === DATA.seed; }) || {};
    const accuracies = runs.map(function (r) { return r.mlp_test_accuracy; }).filter(Number.isFinite);
    const meanAccuracy = accuracies.length ? accuracies.reduce(function (a, b) { return a + b; }, 0) / accuracies.length : null;
    const list = el("ul", { className: "facts" },
      el("li", {}, "Models shown: seed ", el("b", {}, String(DATA.seed)), " of ", String(runs.length), " seed(s) in this run."),
      el("li", {}, "MLP test accuracy: ", el("b", {}, pct(shown.mlp_test_accuracy)), " for this seed, ",
        pct(meanAccuracy) + " over the run (paper: " + pct(DATA.paper.mlp_test_accuracy) + ")."),
      el("li", {}, "Test images: " + testCount + ". Feature clusters: among each neuron's top " + DATA.cluster_examples +
        " activating test images, neuron embeddings with cosine similarity above " + DATA.cluster_threshold + " are joined."),
      el("li", {}, "Distances (max / mean dist) are over the embeddings of a neuron's first " + DATA.distance_cap +
        " activating test images, as in the paper's Table 3. L1 is per example; the paper's appears to be summed over a batch of 128."));
    return list;
  }

  // Sort state of the neuron index, kept while the page is open.
  const indexState = { key: "index", descending: false, hideDead: false };
  const INDEX_COLUMNS = [
    ["index", "#", "its number"],
    ["size", "Size", "test images activating it"],
    ["cluster_count", "Clusters", "feature clusters among its top activating test images"],
    ["max_dist", "Max dist", "max pairwise cosine distance of its first activating test images' embeddings"],
    ["mean_dist", "Mean dist", "mean pairwise cosine distance of its first activating test images' embeddings"],
    ["train_firing", "Train firing", "training images activating it (0: dead)"],
  ];

  function sortValue(neuron, j, key) {
    return key === "index" ? j : neuron[key];
  }

  function neuronIndex(layer) {
    const wrap = el("div", { className: "neuron-index" });
    const dead = layer.neurons.filter(function (n) { return n.train_firing === 0; }).length;
    const tabs = el("nav", { className: "tabs" });
    layers.forEach(function (other) {
      tabs.append(el("a", { href: "#index/" + other.key, className: other === layer ? "tab active" : "tab" },
        other.title + " (" + other.neurons.length + ")"));
    });
    const hideDead = el("input", { type: "checkbox", checked: indexState.hideDead, id: "hide-dead" });
    hideDead.addEventListener("change", function () { indexState.hideDead = hideDead.checked; safeRender(); });
    const firing = layer.neurons.filter(function (n) { return n.size > 0; });
    const column = function (key) { return firing.map(function (n) { return n[key]; }); };
    wrap.append(tabs, el("p", { className: "layer-summary" },
      layer.neurons.length + " " + unitName(layer) + "s, " + dead + " dead (no training example activates them, " +
      pct(dead / layer.neurons.length) + "). Medians over those that fire on a test image: size " + fmtCount(median(column("size"))) +
      ", max dist " + fmt(median(column("max_dist")), 3) + ", mean dist " + fmt(median(column("mean_dist")), 3) +
      ", clusters " + fmtCount(median(column("cluster_count"))) + ". Click a column to sort, a row to open it. ",
      el("label", {}, hideDead, " hide dead")));

    const head = el("tr", {}, el("th", {}, "Weights"));
    INDEX_COLUMNS.forEach(function (column) {
      const active = indexState.key === column[0];
      const th = el("th", { className: "sortable" + (active ? " sorted" : ""), "data-sort": column[0], title: "sort by " + column[2] },
        column[1] + (active ? (indexState.descending ? " ▼" : " ▲") : ""));
      th.addEventListener("click", function () {
        if (indexState.key === column[0]) indexState.descending = !indexState.descending;
        else {
          indexState.key = column[0];
          indexState.descending = column[0] !== "index";
        }
        safeRender();
      });
      head.append(th);
    });
    head.append(el("th", {}, "Status"));

    const order = layer.neurons.map(function (_, j) { return j; })
      .filter(function (j) { return !indexState.hideDead || layer.neurons[j].train_firing > 0; });
    order.sort(function (a, b) {
      const va = sortValue(layer.neurons[a], a, indexState.key);
      const vb = sortValue(layer.neurons[b], b, indexState.key);
      const missingA = va === null || va === undefined;
      const missingB = vb === null || vb === undefined;
      if (missingA || missingB) return missingA - missingB || a - b; // missing values last
      return (indexState.descending ? vb - va : va - vb) || a - b;
    });
    const body = el("tbody");
    order.forEach(function (j) {
      const n = layer.neurons[j];
      const weights = weightsOf(layer, j);
      const row = el("tr", { className: n.train_firing === 0 ? "dead" : "", "data-neuron": j },
        el("td", {}, picture(weights, "diverging", 42, "index-weights", "", maxAbs(weights))),
        el("td", { className: "num" }, el("a", { href: link(layer.key, j) }, String(j))),
        el("td", { className: "num" }, String(n.size)),
        el("td", { className: "num" }, String(n.cluster_count)),
        el("td", { className: "num" }, fmt(n.max_dist, 3)),
        el("td", { className: "num" }, fmt(n.mean_dist, 3)),
        el("td", { className: "num" }, String(n.train_firing)),
        el("td", {}, n.train_firing === 0 ? el("span", { className: "badge dead" }, "dead") : ""));
      row.addEventListener("click", function () { location.hash = link(layer.key, j); });
      body.append(row);
    });
    wrap.append(el("table", { className: "index", id: "neuron-index", "data-layer": layer.key },
      el("thead", {}, head), body));
    return wrap;
  }

  function startPage(layer) {
    const config = (DATA.metrics || {}).config;
    return el("div", { className: "start" },
      el("section", { className: "card" },
        el("h1", {}, "This run"),
        runFacts(),
        el("div", { className: "tables" },
          el("div", {}, metricsTable("Table 2 · reconstruction and sparsity (test set)", METRIC_COLUMNS.table2)),
          el("div", {}, metricsTable("Table 3 · embedding distances, size, dead latents", METRIC_COLUMNS.table3))),
        config ? el("details", {}, el("summary", {}, "Run configuration"),
          el("pre", { className: "config" }, JSON.stringify(config, null, 2))) : null),
      el("section", { className: "card" },
        el("h1", {}, "Neurons"),
        neuronIndex(layer)));
  }

  // ---------------------------------------------------------------- neuron page

  function panel(title, caption) {
    const body = el("div", { className: "panel-body" });
    const node = el("section", { className: "panel" }, el("h2", {}, title));
    for (let i = 2; i < arguments.length; i++) body.append(arguments[i]);
    node.append(body, el("p", { className: "caption" }, caption));
    return node;
  }

  function stat(label, value, id) {
    return el("div", { className: "stat" }, el("div", { className: "stat-value", id: id || "" }, value), el("div", { className: "stat-label" }, label));
  }

  function navigation(layer, j) {
    const bar = el("nav", { className: "neuron-nav" });
    bar.append(el("a", { href: "#index/" + layer.key, className: "button" }, "← all " + unitName(layer) + "s"));
    const tabs = el("span", { className: "tabs" });
    layers.forEach(function (other) {
      const target = Math.min(j, other.neurons.length - 1);
      tabs.append(el("a", { href: link(other.key, target), id: "switch-" + other.key, className: other === layer ? "tab active" : "tab" }, other.title));
    });
    const previous = j > 0 ? link(layer.key, j - 1) : null;
    const next = j + 1 < layer.neurons.length ? link(layer.key, j + 1) : null;
    const jump = el("input", { type: "number", min: 0, max: layer.neurons.length - 1, value: j, className: "jump", "aria-label": "go to number" });
    jump.addEventListener("change", function () {
      const target = Math.max(0, Math.min(layer.neurons.length - 1, Math.round(Number(jump.value)) || 0));
      location.hash = link(layer.key, target);
    });
    bar.append(tabs,
      el("span", { className: "stepper" },
        el("a", { href: previous || undefined, id: "prev-link", className: "button" + (previous ? "" : " disabled") }, "‹ prev"),
        jump,
        el("a", { href: next || undefined, id: "next-link", className: "button" + (next ? "" : " disabled") }, "next ›")));
    return bar;
  }

  function clusterCard(neuron, weights, cluster, rank) {
    const members = cluster.members.map(function (position) { return neuron.top[position]; });
    const average = averageImage(members);
    const feature = normalised(average).map(function (v, p) { return v * weights[p]; });
    const others = cluster.members.filter(function (position) { return position !== cluster.central; });
    const shown = [cluster.central].concat(others).slice(0, 12);
    const examples = el("div", { className: "digits" });
    shown.forEach(function (position, k) {
      examples.append(digit(neuron.top[position], 48, undefined, k === 0 ? "central" : ""));
    });
    const share = members.length / neuron.top.length;
    // A lone example has no pairs, so no distances.
    const distances = members.length > 1
      ? " · max dist " + fmt(cluster.max_dist, 3) + " · mean dist " + fmt(cluster.mean_dist, 3)
      : "";
    return el("article", { className: "cluster", "data-cluster": rank },
      el("h3", {}, "Cluster " + (rank + 1)),
      el("p", { className: "cluster-facts" },
        el("b", {}, members.length + (members.length === 1 ? " example" : " examples")),
        " (" + pct(share) + " of the top " + neuron.top.length + ")" + distances + " · labels " + labelMix(members)),
      el("div", { className: "cluster-body" },
        el("figure", { className: "pair" }, picture(average, "gray", 112, "cluster-average", "cluster average"), el("figcaption", {}, "average")),
        el("figure", { className: "pair" }, picture(feature, "diverging", 112, "cluster-feature", "", maxAbs(feature)),
          el("figcaption", {}, "feature")),
        examples));
  }

  function neuronPage(layer, j) {
    const neuron = layer.neurons[j];
    const weights = weightsOf(layer, j);
    const unit = unitName(layer);
    const isDead = neuron.train_firing === 0;
    const title = el("h1", { id: "neuron-title", "data-layer": layer.key, "data-index": j },
      layer.title + " · " + unit + " ", el("span", { id: "neuron-number" }, String(j)),
      isDead ? el("span", { className: "badge dead" }, "dead") : null);

    const stats = el("div", { className: "stats" },
      stat("test images activating it", neuron.size + " (" + pct(neuron.size / testCount) + ")", "neuron-size"),
      stat("training images activating it", String(neuron.train_firing)),
      stat("feature clusters", String(neuron.cluster_count), "cluster-count"),
      stat("max dist (first " + DATA.distance_cap + ")", fmt(neuron.max_dist, 3)),
      stat("mean dist (first " + DATA.distance_cap + ")", fmt(neuron.mean_dist, 3)));

    const weightLimit = maxAbs(weights);
    const weightCaption = layer.kind === "mlp"
      ? "Row " + j + " of the first layer's weights (fc1.weight), one value per pixel. Red pixels raise the neuron's pre-activation, blue ones lower it."
      : "The latent's encoder row pulled back to pixels through the MLP's first layer (W_enc row " + j + " × fc1.weight). A linear view: it ignores the MLP's ReLU and biases.";
    const weightPanel = panel("Input weights (pixel space)", weightCaption,
      picture(weights, "diverging", 252, "weights", "", weightLimit), colourBar(weightLimit || 1));

    const topShown = neuron.top.slice(0, neuron.top_activations.length);
    const topDigits = el("div", { className: "digits" });
    topShown.forEach(function (i, k) { topDigits.append(digit(i, 48, neuron.top_activations[k])); });
    const topPanel = neuron.top.length
      ? panel("Top activating test images",
        "Left: the average of the top " + neuron.top.length + " activating test images (labels " + labelMix(neuron.top) +
        "). Right: the strongest " + topShown.length + ", with label and activation.",
        el("figure", { className: "pair" }, picture(averageImage(neuron.top), "gray", 160, "top-average", "average of the top images"),
          el("figcaption", {}, "average of top " + neuron.top.length)),
        topDigits)
      : panel("Top activating test images", "No test image activates this " + unit + ".", el("p", { className: "empty" }, "—"));

    const logitCaption = layer.kind === "mlp"
      ? "How one unit of activation moves each class logit: column " + j + " of the second layer's weights (fc2.weight)."
      : "How one unit of activation moves each class logit through the reconstruction: fc2.weight × decoder column " + j + ".";
    const logitPanel = panel("Logit effects", logitCaption, logitChart(neuron.logits));

    const cdfPanel = panel("Activation distribution", neuron.size === 0
      ? "No test image activates this " + unit + ": all " + testCount + " give exactly 0."
      : "Cumulative distribution of the activation over the " + neuron.size + " test images that activate it (" +
      pct(1 - neuron.zero_share) + " of " + testCount + "): the share of them at or below each value. The other " +
      pct(neuron.zero_share) + " give exactly 0.",
      cdfChart(neuron.zero_share, neuron.quantiles));

    const clusters = el("section", { className: "card clusters" },
      el("h2", {}, "Feature clusters"),
      el("p", { className: "caption" }, neuron.top.length === 0 ? "No test image activates this " + unit + ", so there is nothing to cluster." :
        neuron.cluster_count + " cluster" + (neuron.cluster_count === 1 ? "" : "s") + " among the top " + neuron.top.length +
        " activating test images: two images join when the cosine similarity of their neuron embeddings exceeds " +
        DATA.cluster_threshold + ". Largest first, up to " + DATA.clusters_shown +
        ". Each shows its average image, its feature (the average as the MLP sees it, ⊙ the input weights: red pixels push this " +
        unit + " up) and up to 12 examples, the central one outlined."));
    neuron.clusters.forEach(function (cluster, rank) { clusters.append(clusterCard(neuron, weights, cluster, rank)); });

    return el("div", { className: "neuron" },
      navigation(layer, j),
      el("section", { className: "card" }, title, stats),
      el("div", { className: "panels" }, weightPanel, topPanel, logitPanel, cdfPanel),
      clusters);
  }

  // ---------------------------------------------------------------- routing

  function route() {
    const hash = decodeURIComponent(location.hash.replace(/^#/, ""));
    const neuron = /^([a-z0-9_-]+)\/(\d+)$/.exec(hash);
    if (neuron && layerByKey[neuron[1]]) {
      const layer = layerByKey[neuron[1]];
      const j = Number(neuron[2]);
      if (j < layer.neurons.length) return { page: "neuron", layer: layer, index: j };
    }
    const index = /^index\/([a-z0-9_-]+)$/.exec(hash);
    return { page: "start", layer: (index && layerByKey[index[1]]) || layers[0] };
  }

  let current = null;

  function render() {
    const target = route();
    const app = document.getElementById("app");
    const page = target.page === "neuron" ? neuronPage(target.layer, target.index) : startPage(target.layer);
    app.replaceChildren(page);
    document.title = target.page === "neuron"
      ? target.layer.title + " " + unitName(target.layer) + " " + target.index + " · Neuron explorer"
      : "Neuron explorer";
    const moved = !current || current.page !== target.page || current.index !== target.index || current.layer !== target.layer;
    if (moved && target.page === "neuron") window.scrollTo(0, 0);
    current = target;
  }

  function safeRender() {
    try {
      render();
    } catch (error) {
      neReport(error);
    }
  }

  window.addEventListener("hashchange", safeRender);
  document.addEventListener("keydown", function (event) {
    if (!current || current.page !== "neuron" || event.target.tagName === "INPUT") return;
    const step = event.key === "ArrowLeft" ? -1 : event.key === "ArrowRight" ? 1 : 0;
    const target = current.index + step;
    if (step && target >= 0 && target < current.layer.neurons.length) location.hash = link(current.layer.key, target);
  });
  safeRender();
}

try {
  neExplorer();
} catch (error) {
  neReport(error);
}
