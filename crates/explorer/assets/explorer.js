// The neuron explorer: a start page (run tables and a sortable neuron index), one view per
// neuron and one per input, all drawn from window.NE_DATA (data.js) and window.NE_PIXELS_GZIP
// (pixels.js: the test images, gzip-compressed, inflated here with DecompressionStream).
// Routes: "#" or "#index/<layer>" for the start page, "#<layer>/<number>" for a neuron,
// "#input/<number>" for a test image, "#input/draw" for a digit drawn by hand.
"use strict";

/** Records an error with its stack in #js-errors: scripts loaded from file:// are masked as
 *  "Script error." in window.onerror, so the explorer reports its own errors here. */
function neReport(error) {
  window.neRecordError("Error: " + ((error && error.stack) || error));
}

function neExplorer() {
  const SIDE = 28;
  const PIXELS = SIDE * SIDE;
  const CLASSES = 10;
  const DATA = window.NE_DATA;
  if (!DATA || typeof window.NE_PIXELS_GZIP !== "string") {
    throw new Error("data.js or pixels.js is missing or damaged; rewrite the explorer folder");
  }

  // ---------------------------------------------------------------- data decoding

  function decodeBase64(text) {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  /** A tensor shipped as little-endian f32 bytes, as a Float32Array. */
  function tensor(shipped, shape) {
    if (JSON.stringify(shipped.shape) !== JSON.stringify(shape)) {
      throw new Error("data.js: a tensor has shape " + JSON.stringify(shipped.shape) + ", expected " + JSON.stringify(shape));
    }
    const bytes = decodeBase64(shipped.f32le);
    const view = new DataView(bytes.buffer);
    const out = new Float32Array(bytes.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }

  const labels = decodeBase64(DATA.labels);
  const testCount = DATA.test_count;
  if (labels.length !== testCount) throw new Error("data.js: the label count disagrees with test_count");
  const norm = DATA.normalisation;

  const layers = DATA.layers.map(function (raw) {
    const bytes = decodeBase64(raw.weights);
    return Object.assign({}, raw, { weightBytes: new Int8Array(bytes.buffer) });
  });
  const layerByKey = {};
  layers.forEach(function (layer) { layerByKey[layer.key] = layer; });
  const mlpLayer = layers.find(function (layer) { return layer.kind === "mlp"; });
  const saeLayers = layers.filter(function (layer) { return layer.kind === "sae"; });

  // Test images: inflated once, in the background; pages that show images wait for them.
  let pixels = null;
  const pixelsReady = inflate(decodeBase64(window.NE_PIXELS_GZIP)).then(function (bytes) {
    if (bytes.length !== testCount * PIXELS) throw new Error("pixels.js and data.js disagree on the number of test images");
    pixels = bytes;
  });
  window.NE_PIXELS_GZIP = null; // the decoded copy is all we need

  function inflate(gzipped) {
    if (typeof DecompressionStream !== "function") {
      return Promise.reject(new Error("this browser lacks DecompressionStream, which the test images need; open the explorer in a current Chrome, Edge, Firefox or Safari"));
    }
    const stream = new Blob([gzipped]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).arrayBuffer().then(function (buffer) { return new Uint8Array(buffer); });
  }

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

  /** Raw pixels (0-255) as the MLP sees them: (pixel / 255 - mean) / std. */
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

  // ---------------------------------------------------------------- the network, in the page

  /** The MLP and every SAE at full precision, with each latent's effect on each class logit. */
  const network = (function () {
    const hidden = mlpLayer.neurons.length;
    const net = {
      hidden: hidden,
      fc1: tensor(DATA.mlp.fc1_weight, [hidden, PIXELS]),
      b1: tensor(DATA.mlp.fc1_bias, [hidden]),
      fc2: tensor(DATA.mlp.fc2_weight, [CLASSES, hidden]),
      b2: tensor(DATA.mlp.fc2_bias, [CLASSES]),
    };
    net.saes = saeLayers.map(function (layer) {
      const m = layer.neurons.length;
      const sae = {
        layer: layer,
        m: m,
        wEnc: tensor(layer.sae.w_enc, [m, hidden]),
        bEnc: tensor(layer.sae.b_enc, [m]),
        wDec: tensor(layer.sae.w_dec, [hidden, m]),
        bDec: tensor(layer.sae.b_dec, [hidden]),
        effects: new Float64Array(m * CLASSES), // effects[j * 10 + c] = (fc2 · decoder column j)[c]
      };
      for (let j = 0; j < m; j++) {
        for (let c = 0; c < CLASSES; c++) {
          let sum = 0;
          for (let k = 0; k < hidden; k++) sum += net.fc2[c * hidden + k] * sae.wDec[k * m + j];
          sae.effects[j * CLASSES + c] = sum;
        }
      }
      return sae;
    });
    return net;
  })();

  function logitsOf(h) {
    const logits = new Float64Array(CLASSES);
    for (let c = 0; c < CLASSES; c++) {
      let sum = network.b2[c];
      for (let k = 0; k < network.hidden; k++) sum += network.fc2[c * network.hidden + k] * h[k];
      logits[c] = sum;
    }
    return logits;
  }

  function softmax(logits) {
    const top = Math.max.apply(null, logits);
    const exp = Array.from(logits, function (l) { return Math.exp(l - top); });
    const total = exp.reduce(function (a, b) { return a + b; }, 0);
    return exp.map(function (e) { return e / total; });
  }

  function argmax(values) {
    let best = 0;
    for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
    return best;
  }

  /** One input (784 normalised pixels) through the MLP and every SAE, as the Rust models do. */
  function forward(x) {
    const d = network.hidden;
    const h = new Float64Array(d);
    for (let k = 0; k < d; k++) {
      let sum = network.b1[k];
      const row = k * PIXELS;
      for (let p = 0; p < PIXELS; p++) sum += network.fc1[row + p] * x[p];
      h[k] = Math.max(sum, 0);
    }
    const logits = logitsOf(h);
    const saes = network.saes.map(function (sae) {
      const m = sae.m;
      const f = new Float64Array(m);
      for (let j = 0; j < m; j++) {
        let sum = sae.bEnc[j];
        for (let k = 0; k < d; k++) sum += sae.wEnc[j * d + k] * (h[k] - sae.bDec[k]);
        f[j] = Math.max(sum, 0);
      }
      const reconstruction = new Float64Array(d);
      let squaredError = 0;
      for (let k = 0; k < d; k++) {
        let sum = sae.bDec[k];
        for (let j = 0; j < m; j++) if (f[j] > 0) sum += sae.wDec[k * m + j] * f[j];
        reconstruction[k] = sum;
        squaredError += (sum - h[k]) * (sum - h[k]);
      }
      const reconLogits = logitsOf(reconstruction);
      return {
        sae: sae, latents: f, logits: reconLogits, probabilities: softmax(reconLogits),
        prediction: argmax(reconLogits), mse: squaredError / d,
      };
    });
    return { hidden: h, logits: logits, probabilities: softmax(logits), prediction: argmax(logits), saes: saes };
  }

  // ---------------------------------------------------------------- DOM helpers and wording

  /** Creates an element; `props` sets properties (className, textContent, href, ...) and
   *  `data-*`/aria attributes; children may be nodes, strings (added as text) or arrays of
   *  them. */
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
      if (Array.isArray(child)) node.append.apply(node, child);
      else node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function fmt(value, decimals) {
    if (value === null || value === undefined || !isFinite(value)) return "—";
    return Number(value).toFixed(decimals);
  }

  /** `value` to `digits` significant digits, without exponent for everyday magnitudes. */
  function sig(value, digits) {
    if (value === null || value === undefined || !isFinite(value)) return "—";
    if (value === 0) return "0";
    const magnitude = Math.floor(Math.log10(Math.abs(value)));
    if (magnitude < -4 || magnitude >= 6) return Number(value).toPrecision(digits);
    return Number(value).toFixed(Math.max(0, digits - 1 - magnitude));
  }

  /** A share as a percentage with as many decimals as it takes (up to 4) for a share that is
   *  neither 0 nor 1 not to read as 0% or 100%; beyond that, "<0.0001%" or ">99.9999%". */
  function pct(share) {
    if (share === null || share === undefined || !isFinite(share)) return "—";
    const shown = function (decimals) { return Number((100 * share).toFixed(decimals)); };
    const looksExtreme = function (decimals) {
      return (share > 0 && shown(decimals) === 0) || (share < 1 && shown(decimals) === 100);
    };
    let decimals = 1;
    while (decimals < 4 && looksExtreme(decimals)) decimals += 1;
    if (looksExtreme(decimals)) return share < 0.5 ? "<0.0001%" : ">99.9999%";
    return (100 * share).toFixed(decimals) + "%";
  }

  function count(n) {
    return Number(n).toLocaleString("en-US");
  }

  /** "1 test image", "2 test images". */
  function plural(n, singular, pluralForm) {
    return count(n) + " " + (n === 1 ? singular : pluralForm || singular + "s");
  }

  /** "58 of 10,000 (0.58%)". */
  function share(n, total) {
    return count(n) + " of " + count(total) + " (" + pct(total ? n / total : NaN) + ")";
  }

  /** Mean ± std: the spread with at least one significant digit, the mean to match. */
  function meanStd(mean, std, decimals) {
    if (std === null || std === undefined || !isFinite(std)) return fmt(mean, decimals);
    let shown = decimals;
    if (std > 0) shown = Math.min(8, Math.max(decimals, -Math.floor(Math.log10(std))));
    return fmt(mean, shown) + " ± " + fmt(std, shown);
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

  /** Badges of a unit: dead (no training image activates it), or silent on the test set. */
  function badges(neuron) {
    if (neuron.train_firing === 0) return el("span", { className: "badge dead", title: "no training image activates it" }, "dead");
    if (neuron.size === 0) return el("span", { className: "badge silent", title: "it fires on training images only" }, "no test images");
    return null;
  }

  // ---------------------------------------------------------------- hover values

  const tooltip = el("div", { className: "tooltip", id: "tooltip", hidden: true });
  document.body.append(tooltip);

  /** Shows `describe(event)` (text or a node; null hides it) next to the pointer over `node`. */
  function hover(node, describe) {
    node.addEventListener("pointermove", function (event) {
      const content = describe(event);
      if (content === null || content === undefined) {
        tooltip.hidden = true;
        return;
      }
      tooltip.replaceChildren(content instanceof Node ? content : String(content));
      tooltip.hidden = false;
      const x = Math.min(event.clientX + 14, window.innerWidth - tooltip.offsetWidth - 4);
      const y = event.clientY + 16 + tooltip.offsetHeight > window.innerHeight ? event.clientY - tooltip.offsetHeight - 8 : event.clientY + 16;
      tooltip.style.left = Math.max(4, x) + "px";
      tooltip.style.top = Math.max(4, y) + "px";
    });
    node.addEventListener("pointerleave", function () { tooltip.hidden = true; });
  }

  /** Where the pointer is on a canvas, in the canvas's own CSS-pixel coordinates. */
  function pointerOn(canvas, event, width, height) {
    const rect = canvas.getBoundingClientRect();
    return [(event.clientX - rect.left) * width / rect.width, (event.clientY - rect.top) * height / rect.height];
  }

  // ---------------------------------------------------------------- colours and pictures

  // Diverging map: negative blue, zero white, positive red (ColorBrewer's RdBu hues).
  const POSITIVE = [[255, 255, 255], [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31]];
  const NEGATIVE = [[255, 255, 255], [209, 229, 240], [146, 197, 222], [67, 147, 195], [33, 102, 172], [5, 48, 97]];
  // Feature clusters 1-10 on the map; later ones are grey.
  const CLUSTER_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#393b79"];
  const OTHER_CLUSTERS = "#b8bec6";

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

  function rgb(colour) {
    return "rgb(" + colour.map(Math.round).join(",") + ")";
  }

  /** A 28 x 28 picture shown at `size` CSS pixels. `mode` "gray": values are raw pixels
   *  0-255, drawn white on black; "diverging": values are signed, ±limit at full colour, and
   *  hovering shows each pixel's value. */
  function picture(values, mode, size, kind, title, limit) {
    const canvas = el("canvas", { className: "picture", width: SIDE, height: SIDE, "data-kind": kind });
    canvas.style.width = size + "px";
    canvas.style.height = size + "px";
    if (title) canvas.title = title;
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(SIDE, SIDE);
    const scale = limit > 0 ? 1 / limit : 0;
    for (let p = 0; p < PIXELS; p++) {
      const colour = mode === "gray" ? [values[p], values[p], values[p]] : diverging(values[p] * scale);
      image.data.set([colour[0], colour[1], colour[2], 255], 4 * p);
    }
    ctx.putImageData(image, 0, 0);
    if (mode === "diverging") {
      hover(canvas, function (event) {
        const at = pointerOn(canvas, event, SIDE, SIDE);
        const column = Math.floor(at[0]);
        const row = Math.floor(at[1]);
        if (row < 0 || row >= SIDE || column < 0 || column >= SIDE) return null;
        return "pixel (row " + row + ", column " + column + "): " + sig(values[row * SIDE + column], 3);
      });
    }
    canvas.setAttribute("data-drawn", "true");
    return canvas;
  }

  /** A canvas sized in CSS pixels and scaled for the screen's pixel density; it shrinks with
   *  a narrow window (CSS max-width) and keeps its aspect. */
  function chartCanvas(width, height, kind) {
    const ratio = window.devicePixelRatio || 1;
    const canvas = el("canvas", { className: "chart", width: Math.round(width * ratio), height: Math.round(height * ratio), "data-kind": kind });
    canvas.style.width = width + "px";
    const ctx = canvas.getContext("2d");
    ctx.scale(ratio, ratio);
    ctx.font = "12px system-ui, sans-serif";
    return { canvas: canvas, ctx: ctx, width: width, height: height };
  }

  /** Horizontal colour bar for diverging pictures with limit ±limit, titled `what`. */
  function colourBar(limit, what) {
    const width = 200;
    const chart = chartCanvas(width + 60, 44, "colour-bar");
    const ctx = chart.ctx;
    for (let x = 0; x < width; x++) {
      ctx.fillStyle = rgb(diverging((2 * x) / (width - 1) - 1));
      ctx.fillRect(30 + x, 16, 1, 10);
    }
    ctx.strokeStyle = "#999";
    ctx.strokeRect(30.5, 16.5, width - 1, 9);
    ctx.fillStyle = "#333";
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.fillText(what, 30 + width / 2, 1);
    ctx.fillText("−" + sig(limit, 2), 30, 29);
    ctx.fillText("0", 30 + width / 2, 29);
    ctx.fillText("+" + sig(limit, 2), 30 + width, 29);
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

  /** The y-axis title, written upwards along the left edge. */
  function yTitle(ctx, text, x, yMiddle) {
    ctx.save();
    ctx.translate(x, yMiddle);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.fillStyle = "#555";
    ctx.fillText(text, 0, 0);
    ctx.restore();
  }

  /** Bar chart of the ten class-logit effects; hovering a bar shows its value. */
  function logitChart(values) {
    const width = 420;
    const height = 240;
    const left = 64;
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
      ctx.fillStyle = rgb(diverging(v >= 0 ? 0.75 : -0.75));
      ctx.fillRect(x, y(Math.max(v, 0)), band * 0.64, Math.max(Math.abs(y(v) - y(0)), 1));
      ctx.fillStyle = "#222";
      ctx.textAlign = "center";
      ctx.fillText(String(c), left + (c + 0.5) * band, height - bottom + 14);
    });
    ctx.fillStyle = "#555";
    ctx.fillText("class", left + (width - left - right) / 2, height - 10);
    yTitle(ctx, "logit change per unit", 4, top + (height - top - bottom) / 2);
    hover(chart.canvas, function (event) {
      const at = pointerOn(chart.canvas, event, width, height);
      const c = Math.floor((at[0] - left) / band);
      if (c < 0 || c >= values.length) return null;
      return "class " + c + ": " + (values[c] >= 0 ? "+" : "") + sig(values[c], 4) + " per unit of activation";
    });
    chart.canvas.setAttribute("data-drawn", "true");
    return chart.canvas;
  }

  /** Cumulative distribution of a neuron's positive test activations, drawn as steps. When
   *  `exact`, `values` are all of them and the steps are the empirical distribution; otherwise
   *  they are evenly spaced quantiles. Images at exactly 0 are counted above the plot, not
   *  drawn, so the curve of the images that do activate the neuron stays readable. */
  function cdfChart(zeroShare, values, exact) {
    const width = 420;
    const height = 260;
    const left = 64;
    const right = 16;
    const top = 30;
    const bottom = 40;
    const chart = chartCanvas(width, height, "cdf");
    const ctx = chart.ctx;
    const xMax = values.length ? values[values.length - 1] || 1 : 1;
    const xStep = niceStep(xMax, 4);
    const xExtent = Math.ceil(xMax / xStep - 1e-9) * xStep;
    const x = function (v) { return left + (v / xExtent) * (width - left - right); };
    const y = function (p) { return top + (1 - p) * (height - top - bottom); };
    const last = values.length - 1;
    // Share of the activating images at or below values[i].
    const level = function (i) { return exact ? (i + 1) / values.length : last > 0 ? i / last : 1; };

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
    ctx.fillText("activation", left + (width - left - right) / 2, height - 16);
    yTitle(ctx, "share at or below", 4, top + (height - top - bottom) / 2);
    ctx.strokeStyle = "#444";
    ctx.beginPath();
    ctx.moveTo(left + 0.5, top);
    ctx.lineTo(left + 0.5, y(0) + 0.5);
    ctx.lineTo(width - right, y(0) + 0.5);
    ctx.stroke();

    if (values.length) {
      // Steps: flat until the next value, then up to its level.
      ctx.strokeStyle = "#2166ac";
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(x(0), y(0));
      ctx.lineTo(x(values[0]), y(0));
      values.forEach(function (v, i) {
        ctx.lineTo(x(v), y(i === 0 ? 0 : level(i - 1)));
        ctx.lineTo(x(v), y(level(i)));
      });
      ctx.lineTo(x(xExtent), y(1));
      ctx.stroke();
      hover(chart.canvas, function (event) {
        const at = pointerOn(chart.canvas, event, width, height);
        if (at[0] < left) return null;
        const v = ((at[0] - left) / (width - left - right)) * xExtent;
        let below = -1;
        values.forEach(function (q, i) { if (q <= v) below = i; });
        const p = below < 0 ? 0 : level(below);
        return "activation " + sig(v, 3) + ": " + pct(p) + " of the activating images at or below";
      });
    }
    ctx.fillStyle = "#2166ac";
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    ctx.fillText(values.length ? "not drawn: " + pct(zeroShare) + " of test images at exactly 0" : "no test image activates it", left, 4);
    chart.canvas.setAttribute("data-drawn", "true");
    return chart.canvas;
  }

  /** Test image i as a thumbnail with its label (and activation, if given) underneath. */
  function digit(i, size, activation, extraClass) {
    const caption = "label " + labels[i] + (activation === undefined ? "" : " · " + sig(activation, 3));
    return el("figure", { className: "digit " + (extraClass || "") },
      el("a", { href: "#input/" + i, title: "test image " + i + ", " + caption + " (open it)" },
        picture(imageOf(i), "gray", size, "digit", "", 0)),
      el("figcaption", {}, caption));
  }

  /** "7 ×45 · 1 ×10 · …": the labels of some test images, most common first. */
  function labelMix(indices) {
    const counts = new Array(CLASSES).fill(0);
    indices.forEach(function (i) { counts[labels[i]] += 1; });
    return counts
      .map(function (n, label) { return { n: n, label: label }; })
      .filter(function (c) { return c.n > 0; })
      .sort(function (a, b) { return b.n - a.n || a.label - b.label; })
      .slice(0, 5)
      .map(function (c) { return c.label + " ×" + c.n; })
      .join(" · ");
  }

  /** Wraps a wide element so it scrolls sideways inside the page instead of widening it. */
  function scrollX(child) {
    return el("div", { className: "scroll-x" }, child);
  }

  // ---------------------------------------------------------------- start page

  const METRIC_COLUMNS = {
    table2: [["mse", "MSE", 3], ["l1", "L1", 1], ["l0_pct", "L0 / %", 2], ["acc_loss_pct", "Acc. loss / %", 2]],
    table3: [["max_dist", "Max dist", 3], ["mean_dist", "Mean dist", 3], ["size", "Size", 1], ["dead_pct", "Dead / %", 1]],
  };
  const VARIANTS = [["standard", "Standard"], ["ne", "+ NE loss"]];
  // Table 4: measured on the MLP's neurons and on each SAE's latents; the paper has no such table.
  const TABLE4_COLUMNS = [["label_purity", "Label purity", 3], ["top_label_purity", "Top-100 purity", 3],
    ["input_coherence", "Input coherence", 3], ["encoder_participation", "Encoder participation", 1], ["table4_units", "Units counted", 0]];
  const TABLE4_ROWS = [["mlp", "MLP neurons"], ["standard", "Standard SAE"], ["ne", "+ NE loss"]];

  /** Table 4 (ours only), or null for a run that did not measure it. */
  function table4() {
    const metrics = DATA.metrics || {};
    const summary = metrics.summary || {};
    const rows = TABLE4_ROWS.filter(function (row) { return summary[row[0]] && summary[row[0]].label_purity; });
    if (!rows.length) return null;
    const runs = Array.isArray(metrics.runs) ? metrics.runs.length : 0;
    const head = el("tr", {}, el("th", {}, ""));
    TABLE4_COLUMNS.forEach(function (c) { head.append(el("th", {}, c[1])); });
    const body = el("tbody");
    rows.forEach(function (row) {
      const tr = el("tr", { className: "ours", "data-table4": row[0] }, el("th", {}, row[1]));
      TABLE4_COLUMNS.forEach(function (c) {
        const cell = summary[row[0]][c[0]] || {};
        tr.append(el("td", { className: "num" }, meanStd(cell.mean, cell.std, c[2])));
      });
      body.append(tr);
    });
    return el("div", { className: "table4" },
      el("p", { className: "table-caption" }, "Table 4 · what the NE loss does not optimise (ours, " + plural(runs, "seed") + "; the paper has no such table)"),
      scrollX(el("table", { className: "metrics", id: "table4" }, el("thead", {}, head), body)),
      el("p", { className: "caption" }, "Medians over the units with at least 10 activating test images. Label purity: the largest share of a unit's summed activation that one digit gets (0.1: no preference, 1: one digit). Top-100 purity: the share of the most common digit among its 100 strongest test images. Input coherence: the mean cosine similarity between the raw images of those 100. Encoder participation: (Σ w²)² / Σ w⁴ of its input weights, how many inputs it effectively reads."));
  }

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
      const oursRow = el("tr", { className: "ours" }, el("td", {}, "ours (" + plural(runs, "seed") + ")"));
      columns.forEach(function (c) {
        // The paper's figures as printed; ours with at least one significant digit of spread.
        paperRow.append(el("td", { className: "num" }, paper[c[0]] === undefined ? "—" : String(paper[c[0]])));
        const cell = ours[c[0]] || {};
        oursRow.append(el("td", { className: "num" }, meanStd(cell.mean, cell.std, c[2])));
      });
      body.append(paperRow, oursRow);
    });
    return el("div", {}, el("p", { className: "table-caption" }, caption), scrollX(el("table", { className: "metrics" }, el("thead", {}, head), body)));
  }

  function runFacts() {
    const metrics = DATA.metrics || {};
    const runs = Array.isArray(metrics.runs) ? metrics.runs : [];
    const shown = runs.find(function (r) { return r.seed === DATA.seed; }) || {};
    const accuracies = runs.map(function (r) { return r.mlp_test_accuracy; }).filter(Number.isFinite);
    const meanAccuracy = accuracies.length ? accuracies.reduce(function (a, b) { return a + b; }, 0) / accuracies.length : null;
    return el("ul", { className: "facts" },
      el("li", {}, "Models shown: seed ", el("b", {}, String(DATA.seed)), " of " + plural(runs.length, "seed") + " in this run."),
      el("li", {}, "MLP test accuracy: ", el("b", {}, pct(shown.mlp_test_accuracy)), " for this seed, ",
        pct(meanAccuracy) + " over the run (paper: " + pct(DATA.paper.mlp_test_accuracy) + ")."),
      el("li", {}, "Test images: " + count(testCount) + ". Feature clusters: among each neuron's top " + DATA.cluster_examples +
        " activating test images, neuron embeddings with cosine similarity above " + DATA.cluster_threshold + " are joined."),
      el("li", {}, "Distances (max / mean dist) are over the embeddings of a neuron's first " + DATA.distance_cap +
        " activating test images in test-set order, as in the paper's Table 3. L1 is per example; the paper's appears to be summed over a batch of 128."),
      el("li", {}, "Run any test image, or a digit you draw, through the MLP and the SAEs: ",
        el("a", { href: "#input/0" }, "test image 0"), " · ", el("a", { href: "#input/draw" }, "draw a digit"), "."));
  }

  // Sort state of the neuron index, and its scroll position per layer, kept while the page is open.
  const indexState = { key: "index", descending: false, hideDead: false };
  const indexScroll = {};
  const INDEX_COLUMNS = [
    ["index", "#", "its number"],
    ["size", "Size", "test images activating it"],
    ["cluster_count", "Clusters", "feature clusters among its top activating test images"],
    ["max_dist", "Max dist", "max pairwise cosine distance of its first activating test images' embeddings"],
    ["mean_dist", "Mean dist", "mean pairwise cosine distance of its first activating test images' embeddings"],
    ["intra_dist", "Intra-cluster", "mean distance within its feature clusters"],
    ["inter_dist", "Inter-cluster", "mean distance between its feature clusters' centroids"],
    ["label_purity", "Label purity", "largest share of its summed activation one digit gets (Table 4)"],
    ["top_label_purity", "Top-100 purity", "share of the most common digit among its 100 strongest test images (Table 4)"],
    ["input_coherence", "Coherence", "mean cosine similarity of the raw images of its 100 strongest test images (Table 4)"],
    ["encoder_participation", "Participation", "how many inputs its encoder effectively reads, (Σ w²)² / Σ w⁴ (Table 4)"],
    ["train_firing", "Train firing", "training images activating it (0: dead)"],
  ];

  function sortValue(neuron, j, key) {
    return key === "index" ? j : neuron[key];
  }

  function neuronIndex(layer) {
    const wrap = el("div", { className: "neuron-index" });
    const dead = layer.neurons.filter(function (n) { return n.train_firing === 0; }).length;
    const silent = layer.neurons.filter(function (n) { return n.train_firing > 0 && n.size === 0; }).length;
    const tabs = el("nav", { className: "tabs" });
    layers.forEach(function (other) {
      tabs.append(el("a", { href: "#index/" + other.key, className: other === layer ? "tab active" : "tab" },
        other.title + " (" + other.neurons.length + ")"));
    });
    const hideDead = el("input", { type: "checkbox", checked: indexState.hideDead, id: "hide-dead" });
    hideDead.addEventListener("change", function () { indexState.hideDead = hideDead.checked; safeRender(); });
    const firing = layer.neurons.filter(function (n) { return n.size > 0; });
    const column = function (key) { return firing.map(function (n) { return n[key]; }); };
    const unit = unitName(layer);
    wrap.append(tabs, el("p", { className: "layer-summary" },
      plural(layer.neurons.length, unit) + ", " + dead + " dead (no training image activates them, " +
      pct(dead / layer.neurons.length) + ")" + (silent ? ", " + silent + " firing on training images only" : "") +
      ". Medians over those that fire on a test image: size " + fmtCount(median(column("size"))) +
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
        el("td", { className: "num" }, fmt(n.intra_dist, 3)),
        el("td", { className: "num" }, fmt(n.inter_dist, 3)),
        el("td", { className: "num" }, fmt(n.label_purity, 3)),
        el("td", { className: "num" }, fmt(n.top_label_purity, 3)),
        el("td", { className: "num" }, fmt(n.input_coherence, 3)),
        el("td", { className: "num" }, fmt(n.encoder_participation, 1)),
        el("td", { className: "num" }, String(n.train_firing)),
        el("td", {}, badges(n)));
      row.addEventListener("click", function () { location.hash = link(layer.key, j); });
      body.append(row);
    });
    wrap.append(scrollX(el("table", { className: "index", id: "neuron-index", "data-layer": layer.key },
      el("thead", {}, head), body)));
    return wrap;
  }

  function startPage(layer, problem) {
    const config = (DATA.metrics || {}).config;
    return el("div", { className: "start" },
      problem ? el("p", { className: "notice", id: "route-problem" }, problem) : null,
      el("section", { className: "card" },
        el("h1", {}, "This run"),
        runFacts(),
        el("div", { className: "tables" },
          el("div", {}, metricsTable("Table 2 · reconstruction and sparsity (test set)", METRIC_COLUMNS.table2)),
          el("div", {}, metricsTable("Table 3 · embedding distances, size, dead latents", METRIC_COLUMNS.table3))),
        table4(),
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

  /** The link groups of a neuron with this relation, in layer order. */
  function linksOf(neuron, relation) {
    return neuron.links.filter(function (group) { return group.relation === relation; });
  }

  /** The layer tabs of a unit page: the current layer, the matched latent of every other SAE
   *  (nearest decoder direction), and the index of a layer with no matched unit. */
  function navigation(layer, j) {
    const bar = el("nav", { className: "neuron-nav" });
    bar.append(el("a", { href: "#index/" + layer.key, className: "button" }, "← all " + unitName(layer) + "s"));
    const tabs = el("span", { className: "tabs" });
    const nearest = {};
    linksOf(layer.neurons[j], "decoder_cosine").forEach(function (group) { nearest[group.layer] = group.units[0]; });
    layers.forEach(function (other) {
      let href = "#index/" + other.key;
      let text = other.title;
      let title = "the index of " + other.title;
      if (other === layer) {
        href = link(layer.key, j);
        title = "this " + unitName(layer);
      } else if (nearest[other.key]) {
        const match = nearest[other.key];
        href = link(other.key, match[0]);
        text = other.title + " · " + match[0];
        title = "its nearest latent there by decoder direction (cosine " + sig(match[1], 3) + ")";
      }
      tabs.append(el("a", { href: href, id: "switch-" + other.key, title: title, className: other === layer ? "tab active" : "tab" }, text));
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

  const RELATIONS = {
    decoder_cosine: ["by decoder direction", "cosine"],
    example_overlap: ["by shared top examples", "Jaccard"],
    reads: ["reads most", "weight"],
    writes: ["writes most", "weight"],
    read_by: ["read most by", "weight"],
    written_by: ["written most by", "weight"],
  };

  function linkChips(group) {
    const target = layerByKey[group.layer];
    const list = el("span", { className: "chips" });
    if (!group.units.length) list.append(el("span", { className: "empty" }, "none"));
    group.units.forEach(function (unit) {
      list.append(el("a", { href: link(group.layer, unit[0]), className: "chip unit-link", "data-relation": group.relation, "data-layer": group.layer,
        title: target.title + " " + unitName(target) + " " + unit[0] + ", " + RELATIONS[group.relation][1] + " " + unit[1] },
      "#" + unit[0], el("small", {}, " " + sig(unit[1], 3))));
    });
    return list;
  }

  /** Related units in the other layers, each linked with the number that relates it. */
  function linksPanel(layer, neuron) {
    const rows = el("div", { className: "links" });
    const add = function (label, group) {
      rows.append(el("div", { className: "link-row" }, el("span", { className: "link-label" }, label), linkChips(group)));
    };
    if (layer.kind === "sae") {
      saeLayers.forEach(function (other) {
        if (other === layer) return;
        ["decoder_cosine", "example_overlap"].forEach(function (relation) {
          linksOf(neuron, relation).filter(function (g) { return g.layer === other.key; }).forEach(function (group) {
            add("Nearest in " + other.title + " " + RELATIONS[relation][0] + " (" + RELATIONS[relation][1] + ")", group);
          });
        });
      });
      linksOf(neuron, "reads").forEach(function (group) { add("MLP neurons it reads most (W_enc weight)", group); });
      linksOf(neuron, "writes").forEach(function (group) { add("MLP neurons it writes most (decoder weight)", group); });
    } else {
      ["read_by", "written_by"].forEach(function (relation) {
        linksOf(neuron, relation).forEach(function (group) {
          add(layerByKey[group.layer].title + " latents that " + (relation === "read_by" ? "read it most (W_enc weight)" : "write it most (decoder weight)"), group);
        });
      });
    }
    const caption = layer.kind === "sae"
      ? "Nearest latents of each other SAE by the cosine of their decoder columns, and by the Jaccard overlap of their top " + DATA.overlap_examples +
        " activating test images (only latents sharing at least one); the MLP neurons with the largest |weight| in this latent's encoder row and decoder column."
      : "The latents of each SAE with the largest |weight| on this neuron in their encoder row (they read it) and decoder column (they write it).";
    return el("section", { className: "card related" }, el("h2", {}, "Related units"), rows, el("p", { className: "caption" }, caption));
  }

  /** Scatter of the neuron's top embeddings on two principal axes, coloured by cluster; the
   *  test image under the pointer is shown on hover. */
  function mapChart(neuron, clusterOf) {
    const width = 420;
    const height = 320;
    const pad = 14;
    const chart = chartCanvas(width, height, "embedding-map");
    const ctx = chart.ctx;
    const bytes = new Int8Array(decodeBase64(neuron.map).buffer);
    const n = neuron.top.length;
    const points = [];
    for (let i = 0; i < n; i++) points.push([bytes[2 * i] * neuron.map_scale, bytes[2 * i + 1] * neuron.map_scale]);
    const extent = Math.max(maxAbs(bytes) * neuron.map_scale, 1e-9);
    // One scale for both axes, so distances on the map are not stretched.
    const scale = (Math.min(width, height) / 2 - pad) / extent;
    const px = function (p) { return [width / 2 + p[0] * scale, height / 2 - p[1] * scale]; };
    ctx.strokeStyle = "#e3e3e3";
    ctx.beginPath();
    ctx.moveTo(0, height / 2 + 0.5);
    ctx.lineTo(width, height / 2 + 0.5);
    ctx.moveTo(width / 2 + 0.5, 0);
    ctx.lineTo(width / 2 + 0.5, height);
    ctx.stroke();
    ctx.fillStyle = "#555";
    ctx.textAlign = "right";
    ctx.textBaseline = "bottom";
    ctx.fillText("PC 1 (" + pct(neuron.map_explained[0]) + " of variance) →", width - 2, height - 2);
    yTitle(ctx, "PC 2 (" + pct(neuron.map_explained[1]) + ") →", 2, height - 90);
    // Later clusters first, so the largest ones are drawn on top.
    const order = points.map(function (_, i) { return i; }).sort(function (a, b) { return clusterOf[b] - clusterOf[a] || a - b; });
    order.forEach(function (i) {
      const at = px(points[i]);
      ctx.fillStyle = clusterOf[i] < CLUSTER_COLOURS.length ? CLUSTER_COLOURS[clusterOf[i]] : OTHER_CLUSTERS;
      ctx.beginPath();
      ctx.arc(at[0], at[1], clusterOf[i] < CLUSTER_COLOURS.length ? 3.5 : 2.5, 0, 2 * Math.PI);
      ctx.fill();
    });
    hover(chart.canvas, function (event) {
      const at = pointerOn(chart.canvas, event, width, height);
      let best = -1;
      let bestDistance = 64; // within 8 CSS pixels
      points.forEach(function (p, i) {
        const q = px(p);
        const distance = (q[0] - at[0]) * (q[0] - at[0]) + (q[1] - at[1]) * (q[1] - at[1]);
        if (distance < bestDistance) { best = i; bestDistance = distance; }
      });
      if (best < 0) return null;
      const image = neuron.top[best];
      return el("div", {}, picture(imageOf(image), "gray", 84, "hover-digit", "", 0),
        el("div", {}, "test image " + image + " · label " + labels[image]),
        el("div", {}, "activation " + sig(neuron.top_activations[best], 3) + " · cluster " + (clusterOf[best] + 1)));
    });
    chart.canvas.setAttribute("data-drawn", "true");
    return chart.canvas;
  }

  /** The feature of a cluster: its average image as the MLP sees it, less the background
   *  (an all-black image), times the input weights. The background term would tint every
   *  pixel where the weights are large; without it only pixels with ink contribute. */
  function clusterFeature(members, weights) {
    const average = averageImage(members);
    const feature = new Float32Array(PIXELS);
    for (let p = 0; p < PIXELS; p++) feature[p] = (average[p] / 255 / norm.std) * weights[p];
    return { average: average, feature: feature };
  }

  function clusterCard(neuron, cluster, rank, drawn, limit) {
    const members = cluster.members.map(function (position) { return neuron.top[position]; });
    const others = cluster.members.filter(function (position) { return position !== cluster.central; });
    const shown = [cluster.central].concat(others).slice(0, 12);
    const examples = el("div", { className: "digits" });
    shown.forEach(function (position, k) {
      examples.append(digit(neuron.top[position], 48, neuron.top_activations[position], k === 0 ? "central" : ""));
    });
    // A lone example has no pairs, so no distances.
    const distances = members.length > 1
      ? " · max dist " + fmt(cluster.max_dist, 3) + " · mean dist " + fmt(cluster.mean_dist, 3)
      : "";
    const colour = rank < CLUSTER_COLOURS.length ? CLUSTER_COLOURS[rank] : OTHER_CLUSTERS;
    return el("article", { className: "cluster", "data-cluster": rank },
      el("h3", {}, el("span", { className: "swatch", style: "background:" + colour }), "Cluster " + (rank + 1)),
      el("p", { className: "cluster-facts" },
        el("b", {}, plural(members.length, "example")),
        " (" + pct(members.length / neuron.top.length) + " of the top " + neuron.top.length + ")" + distances + " · labels " + labelMix(members)),
      el("div", { className: "cluster-body" },
        el("figure", { className: "pair" }, picture(drawn.average, "gray", 112, "cluster-average", "cluster average", 0), el("figcaption", {}, "average")),
        el("figure", { className: "pair" }, picture(drawn.feature, "diverging", 112, "cluster-feature", "", limit),
          el("figcaption", {}, "feature")),
        examples));
  }

  function clustersSection(neuron, weights, unit) {
    const section = el("section", { className: "card clusters" }, el("h2", {}, "Feature clusters"));
    if (neuron.top.length === 0) {
      section.append(el("p", { className: "caption" }, "No test image activates this " + unit + ", so there is nothing to cluster."));
      return section;
    }
    const drawn = neuron.clusters.map(function (cluster) {
      return clusterFeature(cluster.members.map(function (position) { return neuron.top[position]; }), weights);
    });
    // One colour scale for every feature of this neuron, so they compare at a glance.
    const limit = drawn.reduce(function (m, d) { return Math.max(m, maxAbs(d.feature)); }, 0) || 1;
    section.append(el("p", { className: "caption" },
      plural(neuron.cluster_count, "cluster") + " among the top " + plural(neuron.top.length, "activating test image") +
      ": two images join when the cosine similarity of their neuron embeddings exceeds " + DATA.cluster_threshold +
      ". Largest first. Each shows its average image, its feature (the average as the MLP sees it, background subtracted, ⊙ the input weights: red pixels push this " +
      unit + " up) and up to 12 examples with label and activation, the central one outlined. All features share the colour scale below."),
      colourBar(limit, "feature value"));
    const list = el("div", { className: "cluster-list" });
    const shownFirst = Math.min(DATA.clusters_shown, neuron.clusters.length);
    for (let rank = 0; rank < shownFirst; rank++) list.append(clusterCard(neuron, neuron.clusters[rank], rank, drawn[rank], limit));
    section.append(list);
    if (neuron.clusters.length > shownFirst) {
      const more = el("button", { type: "button", className: "button", id: "show-all-clusters" },
        "Show all " + neuron.clusters.length + " clusters (" + (neuron.clusters.length - shownFirst) + " more)");
      more.addEventListener("click", function () {
        for (let rank = shownFirst; rank < neuron.clusters.length; rank++) list.append(clusterCard(neuron, neuron.clusters[rank], rank, drawn[rank], limit));
        more.remove();
      });
      section.append(more);
    }
    return section;
  }

  function neuronPage(layer, j) {
    const neuron = layer.neurons[j];
    const weights = weightsOf(layer, j);
    const unit = unitName(layer);
    const title = el("h1", { id: "neuron-title", "data-layer": layer.key, "data-index": j },
      layer.title + " · " + unit + " ", el("span", { id: "neuron-number" }, String(j)), badges(neuron));

    const topCount = neuron.top.length;
    const stats = el("div", { className: "stats" },
      stat("test images activating it", share(neuron.size, testCount), "neuron-size"),
      stat("training images activating it", count(neuron.train_firing)),
      stat("max dist · first " + DATA.distance_cap + " activating", fmt(neuron.max_dist, 3)),
      stat("mean dist · first " + DATA.distance_cap + " activating", fmt(neuron.mean_dist, 3)),
      stat("feature clusters · top " + topCount, String(neuron.cluster_count), "cluster-count"),
      stat("intra-cluster dist · top " + topCount, fmt(neuron.intra_dist, 3), "intra-dist"),
      stat("inter-cluster dist · top " + topCount, fmt(neuron.inter_dist, 3), "inter-dist"),
      stat("label purity", fmt(neuron.label_purity, 3), "label-purity"),
      stat("top-100 label purity", fmt(neuron.top_label_purity, 3)),
      stat("input coherence · top 100", fmt(neuron.input_coherence, 3)),
      stat("encoder participation", fmt(neuron.encoder_participation, 1)));
    const statsNote = el("p", { className: "caption" },
      "Two sets of examples: max and mean dist (the paper's Table 3) use the first " + DATA.distance_cap +
      " test images that activate this " + unit + ", in test-set order; the clusters, the intra- and inter-cluster distances and the map use its top " +
      plural(topCount, "activating test image") + " by activation. Intra-cluster: mean cosine distance over pairs within a cluster; inter-cluster: mean cosine distance between the clusters' mean directions. " +
      "Table 4's figures: label purity over all its activating test images, top-100 purity and input coherence over its 100 strongest, encoder participation from its input weights.");

    const weightLimit = maxAbs(weights);
    const weightCaption = layer.kind === "mlp"
      ? "Row " + j + " of the first layer's weights (fc1.weight), one value per pixel. Red pixels raise the neuron's pre-activation, blue ones lower it. Hover for values."
      : "The latent's encoder row pulled back to pixels through the MLP's first layer (W_enc row " + j + " × fc1.weight). A linear view: it ignores the MLP's ReLU and biases. Hover for values.";
    const weightPanel = panel("Input weights (pixel space)", weightCaption,
      picture(weights, "diverging", 252, "weights", "", weightLimit), colourBar(weightLimit || 1, "weight"));

    const topShown = neuron.top.slice(0, 12);
    const topDigits = el("div", { className: "digits" });
    topShown.forEach(function (i, k) { topDigits.append(digit(i, 48, neuron.top_activations[k])); });
    const topPanel = topCount
      ? panel("Top activating test images",
        "Left: the average of the top " + plural(topCount, "activating test image") + " (labels " + labelMix(neuron.top) +
        "). Right: the strongest " + topShown.length + ", with label and activation; click one to run it through the network.",
        el("figure", { className: "pair" }, picture(averageImage(neuron.top), "gray", 160, "top-average", "average of the top images", 0),
          el("figcaption", {}, "average of top " + topCount)),
        topDigits)
      : panel("Top activating test images", "No test image activates this " + unit + ".", el("p", { className: "empty" }, "—"));

    const logitCaption = layer.kind === "mlp"
      ? "How one unit of activation moves each class logit: column " + j + " of the second layer's weights (fc2.weight). Hover a bar for its value."
      : "How one unit of activation moves each class logit through the reconstruction: fc2.weight × decoder column " + j + ". Hover a bar for its value.";
    const logitPanel = panel("Logit effects", logitCaption, logitChart(neuron.logits));

    const exact = neuron.size > 0 && neuron.quantiles.length === neuron.size;
    const cdfPanel = panel("Activation distribution", neuron.size === 0
      ? "No test image activates this " + unit + ": all " + count(testCount) + " give exactly 0."
      : "Cumulative distribution of the activation over the " + plural(neuron.size, "test image") + (neuron.size === 1 ? " that activates it (" : " that activate it (") +
      pct(neuron.size / testCount) + " of " + count(testCount) + "): the share of them at or below each value" +
      (exact ? ", from every activation" : ", from " + neuron.quantiles.length + " quantiles") + ". The other " +
      plural(testCount - neuron.size, "test image") + " give exactly 0.",
      cdfChart((testCount - neuron.size) / testCount, neuron.quantiles, exact));

    const clusterOf = new Array(topCount).fill(0);
    neuron.clusters.forEach(function (cluster, rank) { cluster.members.forEach(function (position) { clusterOf[position] = rank; }); });
    const mapPanel = topCount > 1
      ? panel("Map of its top embeddings",
        "The neuron embeddings of its top " + plural(topCount, "activating test image") + ", scaled to unit length, on their first two principal components (" +
        pct(neuron.map_explained[0] + neuron.map_explained[1]) + " of the variance). Coloured by feature cluster (1-" + CLUSTER_COLOURS.length +
        " as in the list below, later ones grey). Hover a dot for its image.", mapChart(neuron, clusterOf))
      : panel("Map of its top embeddings", "A map needs at least two activating test images.", el("p", { className: "empty" }, "—"));

    return el("div", { className: "neuron" },
      navigation(layer, j),
      el("section", { className: "card" }, title, stats, statsNote),
      el("div", { className: "panels" }, weightPanel, topPanel, logitPanel, cdfPanel, mapPanel),
      linksPanel(layer, neuron),
      clustersSection(neuron, weights, unit));
  }

  // ---------------------------------------------------------------- input page

  // Per-input state: the class whose logit is explained (null: the prediction) and the last
  // test image shown, kept while the page is open.
  const inputState = { chosenClass: null, image: null };

  /** A drawing on a large canvas turned into a 28 x 28 input the MNIST way: the ink's bounding
   *  box scaled to fit 20 x 20 keeping its aspect (grey levels by area averaging), then placed
   *  in 28 x 28 so that its centre of mass is at the centre. Returns null for a blank canvas. */
  function mnistFromDrawing(canvas) {
    const width = canvas.width;
    const height = canvas.height;
    const ink = canvas.getContext("2d").getImageData(0, 0, width, height).data;
    let x0 = width;
    let y0 = height;
    let x1 = -1;
    let y1 = -1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (ink[4 * (y * width + x)] > 0) {
          x0 = Math.min(x0, x); x1 = Math.max(x1, x);
          y0 = Math.min(y0, y); y1 = Math.max(y1, y);
        }
      }
    }
    if (x1 < 0) return null;
    const boxWidth = x1 - x0 + 1;
    const boxHeight = y1 - y0 + 1;
    const scale = 20 / Math.max(boxWidth, boxHeight);
    const fitWidth = Math.max(1, Math.round(boxWidth * scale));
    const fitHeight = Math.max(1, Math.round(boxHeight * scale));
    const sum = new Float64Array(fitWidth * fitHeight);
    const weight = new Float64Array(fitWidth * fitHeight);
    for (let y = y0; y <= y1; y++) {
      const ty = Math.min(fitHeight - 1, Math.floor((y - y0 + 0.5) * fitHeight / boxHeight));
      for (let x = x0; x <= x1; x++) {
        const tx = Math.min(fitWidth - 1, Math.floor((x - x0 + 0.5) * fitWidth / boxWidth));
        sum[ty * fitWidth + tx] += ink[4 * (y * width + x)];
        weight[ty * fitWidth + tx] += 1;
      }
    }
    let mass = 0;
    let mx = 0;
    let my = 0;
    for (let ty = 0; ty < fitHeight; ty++) {
      for (let tx = 0; tx < fitWidth; tx++) {
        const v = sum[ty * fitWidth + tx] / weight[ty * fitWidth + tx];
        sum[ty * fitWidth + tx] = v;
        mass += v; mx += (tx + 0.5) * v; my += (ty + 0.5) * v;
      }
    }
    const dx = Math.round(SIDE / 2 - mx / mass);
    const dy = Math.round(SIDE / 2 - my / mass);
    const out = new Float32Array(PIXELS);
    for (let ty = 0; ty < fitHeight; ty++) {
      for (let tx = 0; tx < fitWidth; tx++) {
        const x = tx + dx;
        const y = ty + dy;
        if (x >= 0 && x < SIDE && y >= 0 && y < SIDE) out[y * SIDE + x] = Math.round(sum[ty * fitWidth + tx]);
      }
    }
    return out;
  }

  /** The drawing canvas: mouse, touch and pen through pointer events. `changed` gets the
   *  28 x 28 input (or null when cleared) after each stroke and, at most once a frame, while
   *  drawing. */
  function drawingPad(changed) {
    const size = 280;
    const canvas = el("canvas", { className: "draw-pad", id: "draw-canvas", width: size, height: size, "aria-label": "draw a digit here" });
    const ctx = canvas.getContext("2d");
    const clear = function () {
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, size, size);
    };
    clear();
    ctx.strokeStyle = "#fff";
    ctx.fillStyle = "#fff";
    ctx.lineWidth = 20;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    let last = null;
    let pending = false;
    const at = function (event) { return pointerOn(canvas, event, size, size); };
    const update = function () {
      pending = false;
      changed(mnistFromDrawing(canvas));
    };
    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      try { canvas.setPointerCapture(event.pointerId); } catch (error) { /* a synthetic pointer cannot be captured */ }
      last = at(event);
      ctx.beginPath();
      ctx.arc(last[0], last[1], ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!last) return;
      const next = at(event);
      ctx.beginPath();
      ctx.moveTo(last[0], last[1]);
      ctx.lineTo(next[0], next[1]);
      ctx.stroke();
      last = next;
      if (!pending) {
        pending = true;
        requestAnimationFrame(function () { if (pending) update(); });
      }
    });
    const end = function () {
      if (!last) return;
      last = null;
      update();
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    const clearButton = el("button", { type: "button", className: "button", id: "clear-drawing" }, "Clear");
    clearButton.addEventListener("click", function () {
      clear();
      changed(null);
    });
    return { canvas: canvas, clear: clearButton };
  }

  /** Horizontal bar with its value: signed bars grow from the middle. */
  function bar(value, limit, signed, attributes) {
    const width = limit > 0 ? Math.min(1, Math.abs(value) / limit) : 0;
    const fill = el("span", { className: "bar-fill " + (value < 0 ? "negative" : "positive") });
    fill.style.width = (signed ? 50 * width : 100 * width) + "%";
    if (signed) fill.style.left = value < 0 ? (50 - 50 * width) + "%" : "50%";
    return el("span", Object.assign({ className: "bar" + (signed ? " signed" : "") }, attributes || {}), fill);
  }

  function probabilityRows(result) {
    const rows = el("div", { className: "probabilities", id: "probabilities" });
    result.probabilities.forEach(function (p, c) {
      const row = el("div", { className: "prob-row" + (c === result.prediction ? " predicted" : ""), "data-class": c, "data-value": p, "data-logit": result.logits[c],
        title: "class " + c + ": probability " + pct(p) + ", logit " + sig(result.logits[c], 4) },
        el("span", { className: "prob-class" }, String(c)), bar(p, 1, false), el("span", { className: "prob-value" }, pct(p)));
      rows.append(row);
    });
    return rows;
  }

  /** Top units of one layer by their contribution to class c's logit. */
  function contributionList(layer, values, contribution, c, limit) {
    const units = [];
    for (let j = 0; j < values.length; j++) if (values[j] > 0) units.push(j);
    units.sort(function (a, b) { return contribution(b) - contribution(a) || a - b; });
    const shown = units.slice(0, limit);
    const largest = shown.reduce(function (m, j) { return Math.max(m, Math.abs(contribution(j))); }, 0);
    const list = el("ol", { className: "contributions", "data-layer": layer.key });
    shown.forEach(function (j) {
      const value = contribution(j);
      list.append(el("li", { title: unitName(layer) + " " + j + ": activation " + sig(values[j], 4) + " × effect on class " + c + " = " + sig(value, 4) },
        el("a", { href: link(layer.key, j), className: "unit-link" }, "#" + j),
        bar(value, largest, true), el("span", { className: "num" }, (value >= 0 ? "+" : "") + sig(value, 3))));
    });
    if (!shown.length) list.append(el("li", { className: "empty" }, "no active " + unitName(layer)));
    return list;
  }

  function hiddenGrid(result) {
    const grid = el("div", { className: "hidden-grid", id: "hidden-activations" });
    const limit = maxAbs(result.hidden) || 1;
    result.hidden.forEach(function (h, k) {
      const cell = el("a", { href: link(mlpLayer.key, k), className: "hidden-cell" + (h > 0 ? " active" : ""), "data-unit": k, "data-value": h,
        title: "neuron " + k + ": activation " + sig(h, 4) }, el("span", { className: "cell-number" }, String(k)), el("span", { className: "cell-value" }, h > 0 ? sig(h, 2) : "0"));
      cell.style.background = rgb(diverging(0.85 * h / limit));
      if (h / limit > 0.5) cell.classList.add("strong");
      grid.append(cell);
    });
    return grid;
  }

  function saeCard(output, c) {
    const sae = output.sae;
    const layer = sae.layer;
    const active = [];
    for (let j = 0; j < sae.m; j++) if (output.latents[j] > 0) active.push(j);
    active.sort(function (a, b) { return output.latents[b] - output.latents[a] || a - b; });
    const contributionOf = function (j) { return output.latents[j] * sae.effects[j * CLASSES + c]; };
    const largest = active.reduce(function (m, j) { return Math.max(m, Math.abs(contributionOf(j))); }, 0);
    const rows = el("tbody");
    active.forEach(function (j) {
      const value = contributionOf(j);
      rows.append(el("tr", { className: "latent-row", "data-layer": layer.key, "data-unit": j, "data-value": output.latents[j], "data-contribution": value },
        el("td", { className: "num" }, el("a", { href: link(layer.key, j) }, String(j))),
        el("td", { className: "num" }, sig(output.latents[j], 3)),
        el("td", { className: "bar-cell", title: "activation × (fc2 · decoder column " + j + ")[" + c + "] = " + sig(value, 4) }, bar(value, largest, true)),
        el("td", { className: "num" }, (value >= 0 ? "+" : "") + sig(value, 3))));
    });
    const table = el("table", { className: "latents" },
      el("thead", {}, el("tr", {}, el("th", {}, "latent"), el("th", {}, "activation"), el("th", { colSpan: 2 }, "→ logit " + c))), rows);
    return el("section", { className: "card sae-card", "data-layer": layer.key },
      el("h2", {}, layer.title),
      el("div", { className: "stats" },
        stat("active latents", share(active.length, sae.m), "active-" + layer.key),
        stat("its reconstruction predicts",
          el("span", { id: "recon-prediction-" + layer.key, "data-value": output.prediction }, String(output.prediction)),
          null),
        stat("reconstruction error (MSE)", el("span", { id: "recon-error-" + layer.key, "data-value": output.mse }, sig(output.mse, 3)))),
      el("p", { className: "caption" }, "Its active latents, strongest first, with their contribution to class " + c +
        "'s logit through the reconstruction: activation × (fc2 · decoder column). The MSE is over the " + network.hidden +
        " hidden units, as in Table 2. Its reconstruction gives class " + output.prediction + " probability " + pct(output.probabilities[output.prediction]) + "."),
      active.length ? el("div", { className: "latent-list" }, table) : el("p", { className: "empty" }, "No latent is active for this input."));
  }

  /** Everything the page shows about one input (raw pixels 0-255). */
  function inputAnalysis(raw) {
    const result = forward(normalised(raw));
    const c = inputState.chosenClass === null ? result.prediction : inputState.chosenClass;
    const choose = el("div", { className: "class-choice", role: "group", "aria-label": "explain the logit of class" });
    for (let k = 0; k < CLASSES; k++) {
      const button = el("button", { type: "button", className: "button" + (k === c ? " chosen" : ""), "data-class": k }, String(k));
      button.addEventListener("click", function () {
        inputState.chosenClass = k;
        showAnalysis(raw);
      });
      choose.append(button);
    }
    const hiddenContribution = function (k) { return result.hidden[k] * network.fc2[c * network.hidden + k]; };
    const why = el("div", { className: "why-columns" },
      el("div", {}, el("h3", {}, mlpLayer.title), contributionList(mlpLayer, result.hidden, hiddenContribution, c, 8)));
    result.saes.forEach(function (output) {
      const effect = function (j) { return output.latents[j] * output.sae.effects[j * CLASSES + c]; };
      why.append(el("div", {}, el("h3", {}, output.sae.layer.title), contributionList(output.sae.layer, output.latents, effect, c, 8)));
    });
    const prediction = el("div", { className: "prediction-row" },
      el("div", { className: "prediction" }, el("div", { className: "stat-label" }, "the MLP says"),
        el("div", { id: "prediction", "data-value": result.prediction }, String(result.prediction)),
        el("div", { className: "stat-label" }, pct(result.probabilities[result.prediction]))),
      probabilityRows(result));
    const details = el("div", { className: "analysis", "data-class": c },
      el("section", { className: "card why" },
        el("h2", {}, "Why class ", el("span", { id: "explained-class" }, String(c))),
        choose,
        el("p", { className: "caption" }, "The units that raise class " + c + "'s logit most for this input: a hidden neuron's activation × its fc2 weight; a latent's activation × (fc2 · its decoder column). Biases add the rest of the logit (" + sig(result.logits[c], 4) + " for the MLP)."),
        why),
      el("section", { className: "card" },
        el("h2", {}, "Hidden activations"),
        el("p", { className: "caption" }, "The " + network.hidden + " hidden neurons of the MLP for this input (" +
          result.hidden.filter(function (h) { return h > 0; }).length + " active); click one to open it."),
        hiddenGrid(result)),
      el("div", { className: "sae-cards" }, result.saes.map(function (output) { return saeCard(output, c); })));
    return { prediction: prediction, details: details };
  }

  // Where the input page shows its prediction (beside the picture) and the rest (below).
  let predictionHost = null;
  let analysisHost = null;

  function showAnalysis(raw) {
    if (!analysisHost) return;
    if (!raw) {
      predictionHost.replaceChildren(el("p", { className: "empty", id: "no-input" }, "Draw a digit to see what the network makes of it."));
      analysisHost.replaceChildren();
      return;
    }
    const analysis = inputAnalysis(raw);
    predictionHost.replaceChildren(analysis.prediction);
    analysisHost.replaceChildren(analysis.details);
    window.dispatchEvent(new CustomEvent("ne-input-analysed"));
  }

  function inputPage(target) {
    predictionHost = el("div", { className: "prediction-host" });
    analysisHost = el("div", { id: "input-analysis" });
    const drawing = target.index === null;
    const bar = el("nav", { className: "neuron-nav" });
    const tabs = el("span", { className: "tabs" },
      el("a", { href: "#input/" + (inputState.image === null ? 0 : inputState.image), className: drawing ? "tab" : "tab active" }, "Test images"),
      el("a", { href: "#input/draw", id: "draw-tab", className: drawing ? "tab active" : "tab" }, "Draw a digit"));
    bar.append(el("a", { href: "#", className: "button" }, "← start"), tabs);
    let picturePart;
    if (drawing) {
      const preview = el("div", { className: "preview" }, el("span", { className: "empty" }, "—"));
      const pad = drawingPad(function (raw) {
        preview.replaceChildren(raw ? picture(raw, "gray", 112, "drawn-input", "what the network sees", 0) : el("span", { className: "empty" }, "—"));
        showAnalysis(raw);
      });
      picturePart = el("section", { className: "card input-picture" },
        el("h1", {}, "Draw a digit"),
        el("div", { className: "draw-row" },
          el("div", {}, pad.canvas, el("div", { className: "draw-tools" }, pad.clear)),
          el("figure", { className: "preview-figure" }, preview, el("figcaption", {}, "as the network sees it: the ink scaled to fit 20 × 20, centred by its centre of mass in 28 × 28")),
          predictionHost),
        el("p", { className: "caption" }, "Mouse, finger or pen. The result updates as you draw."));
      showAnalysis(null);
    } else {
      const i = target.index;
      inputState.image = i;
      const previous = i > 0 ? "#input/" + (i - 1) : null;
      const next = i + 1 < testCount ? "#input/" + (i + 1) : null;
      const jump = el("input", { type: "number", min: 0, max: testCount - 1, value: i, className: "jump", id: "input-jump", "aria-label": "go to test image" });
      jump.addEventListener("change", function () {
        const image = Math.max(0, Math.min(testCount - 1, Math.round(Number(jump.value)) || 0));
        location.hash = "#input/" + image;
      });
      bar.append(el("span", { className: "stepper" },
        el("a", { href: previous || undefined, id: "prev-link", className: "button" + (previous ? "" : " disabled") }, "‹ prev"),
        jump,
        el("a", { href: next || undefined, id: "next-link", className: "button" + (next ? "" : " disabled") }, "next ›")));
      picturePart = el("section", { className: "card input-picture" },
        el("h1", {}, "Test image ", el("span", { id: "input-number" }, String(i))),
        el("div", { className: "draw-row" },
          el("figure", {}, picture(imageOf(i), "gray", 168, "input-image", "test image " + i, 0), el("figcaption", {}, "label " + labels[i])),
          predictionHost));
    }
    const page = el("div", { className: "input-page" }, bar, picturePart, analysisHost);
    if (!drawing) showAnalysis(imageOf(target.index));
    return page;
  }

  // ---------------------------------------------------------------- routing

  /** What the address asks for; an address that names nothing shows the start page with a
   *  note that says what was wrong. */
  function route() {
    const hash = decodeURIComponent(location.hash.replace(/^#/, ""));
    if (hash === "") return { page: "start", layer: layers[0] };
    const index = /^index\/([^/]+)$/.exec(hash);
    if (index) {
      if (layerByKey[index[1]]) return { page: "start", layer: layerByKey[index[1]] };
      return { page: "start", layer: layers[0], problem: "There is no layer \"" + index[1] + "\". The layers are: " + layers.map(function (l) { return l.key; }).join(", ") + "." };
    }
    const input = /^input\/(draw|\d+)$/.exec(hash);
    if (input) {
      if (input[1] === "draw") return { page: "input", index: null };
      const i = Number(input[1]);
      if (i < testCount) return { page: "input", index: i };
      return { page: "start", layer: layers[0], problem: "There is no test image " + input[1] + ": the test images are numbered 0 to " + (testCount - 1) + "." };
    }
    const neuron = /^([^/]+)\/(\d+)$/.exec(hash);
    if (neuron && layerByKey[neuron[1]]) {
      const layer = layerByKey[neuron[1]];
      const j = Number(neuron[2]);
      if (j < layer.neurons.length) return { page: "neuron", layer: layer, index: j };
      return { page: "start", layer: layer, problem: layer.title + " has " + plural(layer.neurons.length, unitName(layer)) + ", numbered 0 to " + (layer.neurons.length - 1) + ": there is no " + unitName(layer) + " " + neuron[2] + "." };
    }
    const what = neuron ? "There is no layer \"" + neuron[1] + "\" (the layers are: " + layers.map(function (l) { return l.key; }).join(", ") + ")." : "The address #" + hash + " names no page here.";
    return { page: "start", layer: layers[0], problem: what + " Showing the start page instead." };
  }

  let current = null;

  function render() {
    const target = route();
    const app = document.getElementById("app");
    if (current && current.page === "start") indexScroll[current.layer.key] = window.scrollY;
    if (target.page !== "start" && !pixels) {
      app.replaceChildren(el("p", { className: "loading" }, "Loading the test images…"));
      current = { page: "loading" };
      pixelsReady.then(safeRender, neReport);
      return;
    }
    analysisHost = null;
    predictionHost = null;
    const moved = !current || current.page !== target.page || current.index !== target.index || current.layer !== target.layer;
    // A new input starts by explaining its own prediction.
    if (moved && target.page === "input") inputState.chosenClass = null;
    const page = target.page === "neuron" ? neuronPage(target.layer, target.index)
      : target.page === "input" ? inputPage(target)
        : startPage(target.layer, target.problem);
    app.replaceChildren(page);
    document.title = target.page === "neuron"
      ? target.layer.title + " " + unitName(target.layer) + " " + target.index + " · Neuron explorer"
      : target.page === "input" ? (target.index === null ? "Draw a digit" : "Test image " + target.index) + " · Neuron explorer"
        : "Neuron explorer";
    if (moved) {
      // Back on the index: where the reader left it; anywhere else: the top.
      window.scrollTo(0, target.page === "start" ? indexScroll[target.layer.key] || 0 : 0);
    }
    current = target;
    document.body.setAttribute("data-page", target.page);
    window.dispatchEvent(new CustomEvent("ne-rendered", { detail: { page: target.page } }));
  }

  function safeRender() {
    try {
      render();
    } catch (error) {
      neReport(error);
    }
  }

  history.scrollRestoration = "manual";
  window.addEventListener("hashchange", safeRender);
  document.addEventListener("keydown", function (event) {
    if (!current || event.target.tagName === "INPUT") return;
    const step = event.key === "ArrowLeft" ? -1 : event.key === "ArrowRight" ? 1 : 0;
    if (!step) return;
    if (current.page === "neuron") {
      const target = current.index + step;
      if (target >= 0 && target < current.layer.neurons.length) location.hash = link(current.layer.key, target);
    } else if (current.page === "input" && current.index !== null) {
      const target = current.index + step;
      if (target >= 0 && target < testCount) location.hash = "#input/" + target;
    }
  });
  pixelsReady.catch(neReport);
  safeRender();
}

try {
  neExplorer();
} catch (error) {
  neReport(error);
}
