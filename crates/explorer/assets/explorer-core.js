// The neuron explorer: a start page (run tables and a sortable neuron index), one view per
// neuron and one per input, all drawn from window.NE_DATA (data.js) and window.NE_PIXELS_GZIP
// (pixels.js: the test images, gzip-compressed, inflated here with DecompressionStream).
//
// Plain scripts loaded in order by index.html (a page opened from file:// cannot load modules),
// each adding its part to window.NE:
//   explorer-core.js   the data, the network's forward pass in the page, DOM helpers, wording
//   explorer-draw.js   hover values, colours, pictures and charts
//   explorer-start.js  the start page: the run's tables and the neuron index
//   explorer-unit.js   one neuron's or latent's page
//   explorer-input.js  one input's page: a test image or a digit drawn by hand
//   explorer.js        routing and keys; it starts the page
"use strict";

/** Records an error with its stack in #js-errors: scripts loaded from file:// are masked as
 *  "Script error." in window.onerror, so the explorer reports its own errors here. */
function neReport(error) {
  window.neRecordError("Error: " + ((error && error.stack) || error));
}

/** The explorer's parts, added to by each file in load order. */
window.NE = { failed: false };

/** Runs one file's part with the parts loaded before it. An error is reported, and the later
 *  parts do not run (the page keeps its loading note, with the error above it). */
function neModule(part) {
  if (window.NE.failed) return;
  try {
    part(window.NE);
  } catch (error) {
    window.NE.failed = true;
    neReport(error);
  }
}

neModule(function (NE) {
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
      // The logits' part that no latent adds: fc2's bias + fc2 · b_dec.
      sae.bias = new Float64Array(CLASSES);
      for (let c = 0; c < CLASSES; c++) {
        let sum = net.b2[c];
        for (let k = 0; k < hidden; k++) sum += net.fc2[c * hidden + k] * sae.bDec[k];
        sae.bias[c] = sum;
      }
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
  /** The MLP's hidden activations for normalised pixels `x`. */
  function hiddenOf(x) {
    const d = network.hidden;
    const h = new Float64Array(d);
    for (let k = 0; k < d; k++) {
      let sum = network.b1[k];
      const row = k * PIXELS;
      for (let p = 0; p < PIXELS; p++) sum += network.fc1[row + p] * x[p];
      h[k] = Math.max(sum, 0);
    }
    return h;
  }

  function forward(x) {
    const d = network.hidden;
    const h = hiddenOf(x);
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

  /** The `shown` strongest of a unit's `size` activating test images, in words: "top 100
   *  activating test images", "all 24 …", "one activating test image", "no activating test
   *  image". */
  function strongestWords(shown, size) {
    if (size === 0) return "no activating test image";
    if (size === 1) return "one activating test image";
    if (shown >= size) return "all " + count(size) + " activating test images";
    return "top " + count(shown) + " activating test images";
  }

  /** The first `cap` of a unit's `size` activating test images (test-set order), in words. */
  function firstWords(cap, size) {
    if (size === 0) return "no activating test image";
    if (size === 1) return "one activating test image";
    if (cap >= size) return "all " + count(size) + " activating test images";
    return "first " + count(cap) + " activating test images";
  }

  /** Unit j's neuron embedding of an input (raw pixels 0-255): its input weights ⊙ what it
   *  receives (the normalised pixels for an MLP neuron; the hidden layer less the decoder bias
   *  for a latent), as the Rust side forms them. `hidden`, if given, is the MLP's hidden layer
   *  for this input. */
  function embeddingOf(layer, j, raw, hidden) {
    const x = normalised(raw);
    if (layer.kind === "mlp") {
      const out = new Float64Array(PIXELS);
      for (let p = 0; p < PIXELS; p++) out[p] = network.fc1[j * PIXELS + p] * x[p];
      return out;
    }
    const sae = network.saes.find(function (s) { return s.layer === layer; });
    const h = hidden || hiddenOf(x);
    const d = network.hidden;
    const out = new Float64Array(d);
    for (let k = 0; k < d; k++) out[k] = sae.wEnc[j * d + k] * (h[k] - sae.bDec[k]);
    return out;
  }

  // Hidden activations of test images, kept once computed (cluster lookups need many).
  const hiddenCache = new Map();

  /** Unit j's embedding of test image i. */
  function testEmbeddingOf(layer, j, i) {
    if (layer.kind === "mlp") return embeddingOf(layer, j, imageOf(i));
    if (!hiddenCache.has(i)) hiddenCache.set(i, hiddenOf(normalised(imageOf(i))));
    return embeddingOf(layer, j, imageOf(i), hiddenCache.get(i));
  }

  function cosine(a, b) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let k = 0; k < a.length; k++) { ab += a[k] * b[k]; aa += a[k] * a[k]; bb += b[k] * b[k]; }
    return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
  }

  /** Where an input (raw pixels) falls among unit j's feature clusters: clusters join
   *  embeddings whose cosine similarity exceeds the threshold, so it joins the cluster of its
   *  most similar top example if that similarity does, and stands alone otherwise. Returns
   *  { rank (null: alone), similarity, example (test image) }, or null for a unit with no
   *  clusters. */
  function clusterOfInput(layer, j, raw) {
    const neuron = layer.neurons[j];
    if (!neuron.top.length) return null;
    const own = embeddingOf(layer, j, raw);
    const rankOf = new Array(neuron.top.length).fill(0);
    neuron.clusters.forEach(function (cluster, rank) { cluster.members.forEach(function (position) { rankOf[position] = rank; }); });
    let best = -1;
    let bestSimilarity = -Infinity;
    neuron.top.forEach(function (i, position) {
      const similarity = cosine(own, testEmbeddingOf(layer, j, i));
      if (similarity > bestSimilarity) { best = position; bestSimilarity = similarity; }
    });
    return {
      rank: bestSimilarity > DATA.cluster_threshold ? rankOf[best] : null,
      similarity: bestSimilarity,
      example: neuron.top[best],
    };
  }

  /** Badges of a unit: dead (no training image activates it), or silent on the test set. */
  function badges(neuron) {
    if (neuron.train_firing === 0) return el("span", { className: "badge dead", title: "no training image activates it" }, "dead");
    if (neuron.size === 0) return el("span", { className: "badge silent", title: "it fires on training images only" }, "no test images");
    return null;
  }

  /** Whether the test images are inflated (pages that show them wait for `pixelsReady`). */
  function pixelsLoaded() {
    return pixels !== null;
  }

  Object.assign(NE, {
    SIDE, PIXELS, CLASSES, DATA, decodeBase64, labels, testCount, norm, layers, layerByKey,
    mlpLayer, saeLayers, pixelsReady, pixelsLoaded, weightsOf, imageOf, averageImage, normalised,
    median, maxAbs, network, forward, el, fmt, sig, pct, count, plural, share, meanStd, fmtCount,
    link, unitName, badges,
    strongestWords, firstWords, embeddingOf, clusterOfInput
  });
});
