// Hover values, colours, pictures and charts (see explorer-core.js for how the files fit).
"use strict";

neModule(function (NE) {
  const { SIDE, PIXELS, CLASSES, labels, imageOf, maxAbs, el, sig, pct, plural } = NE;

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
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", title || PICTURE_NAMES[kind] || kind.replace(/-/g, " "));
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

  // What an untitled picture shows, for screen readers.
  const PICTURE_NAMES = {
    digit: "test image", weights: "input weights, red positive, blue negative", "index-weights": "input weights",
    "cluster-feature": "cluster feature", "unit-feature": "feature: this input ⊙ the input weights",
  };

  /** A canvas sized in CSS pixels and scaled for the screen's pixel density; it shrinks with
   *  a narrow window (CSS max-width) and keeps its aspect. `label` names it for screen readers
   *  (a chart's values are also printed beside it). */
  function chartCanvas(width, height, kind, label) {
    const ratio = window.devicePixelRatio || 1;
    const canvas = el("canvas", { className: "chart", width: Math.round(width * ratio), height: Math.round(height * ratio), "data-kind": kind, role: "img", "aria-label": label });
    canvas.style.width = width + "px";
    const ctx = canvas.getContext("2d");
    ctx.scale(ratio, ratio);
    ctx.font = "12px system-ui, sans-serif";
    return { canvas: canvas, ctx: ctx, width: width, height: height };
  }

  /** Horizontal colour bar for diverging pictures with limit ±limit, titled `what`. */
  function colourBar(limit, what) {
    const width = 200;
    const chart = chartCanvas(width + 60, 44, "colour-bar", "colour scale of " + what + ": blue −" + sig(limit, 2) + ", white 0, red +" + sig(limit, 2));
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
    const chart = chartCanvas(width, height, "logits", "bar chart of the change of each class logit per unit of activation; the values are printed below it");
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
    const chart = chartCanvas(width, height, "cdf", "cumulative distribution of the positive activations; its quantiles are printed below it");
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

  /** Histogram of the positive activations: `counts` in equal bins from 0 to `largest`. */
  function histogramChart(counts, largest) {
    const width = 420;
    const height = 260;
    const left = 64;
    const right = 16;
    const top = 16;
    const bottom = 40;
    const chart = chartCanvas(width, height, "histogram", "histogram of the positive activations in " + counts.length + " bins up to " + sig(largest, 3) + "; the busiest bins are printed below it");
    const ctx = chart.ctx;
    const most = Math.max.apply(null, counts.concat([1]));
    const yStep = Math.max(1, niceStep(most, 4));
    const yExtent = Math.ceil(most / yStep - 1e-9) * yStep;
    const xStep = niceStep(largest || 1, 4);
    const band = (width - left - right) / Math.max(counts.length, 1);
    const y = function (n) { return top + (1 - n / yExtent) * (height - top - bottom); };
    ctx.textBaseline = "middle";
    ctx.textAlign = "right";
    for (let n = 0; n <= yExtent + yStep / 2; n += yStep) {
      ctx.strokeStyle = "#e3e3e3";
      ctx.beginPath();
      ctx.moveTo(left, Math.round(y(n)) + 0.5);
      ctx.lineTo(width - right, Math.round(y(n)) + 0.5);
      ctx.stroke();
      ctx.fillStyle = "#555";
      ctx.fillText(String(Math.round(n)), left - 6, y(n));
    }
    ctx.fillStyle = "#2166ac";
    counts.forEach(function (n, b) {
      if (n > 0) ctx.fillRect(left + b * band + 0.5, y(n), Math.max(band - 1, 1), y(0) - y(n));
    });
    ctx.fillStyle = "#555";
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const x = function (v) { return left + (largest > 0 ? v / largest : 0) * (width - left - right); };
    for (let v = 0; v <= largest + 1e-9; v += xStep) ctx.fillText(tickLabel(v, xStep), x(v), height - bottom + 6);
    ctx.fillText("activation", left + (width - left - right) / 2, height - 16);
    yTitle(ctx, "test images", 4, top + (height - top - bottom) / 2);
    hover(chart.canvas, function (event) {
      const at = pointerOn(chart.canvas, event, width, height);
      const b = Math.floor((at[0] - left) / band);
      if (b < 0 || b >= counts.length) return null;
      return plural(counts[b], "test image") + " with activation in (" + sig(b * largest / counts.length, 3) + ", " + sig((b + 1) * largest / counts.length, 3) + "]";
    });
    chart.canvas.setAttribute("data-drawn", "true");
    return chart.canvas;
  }

  /** The ten class-logit effects as printed numbers, largest first in magnitude marked. */
  function logitValues(values) {
    const row = el("tr");
    const head = el("tr");
    values.forEach(function (v, c) {
      head.append(el("th", { scope: "col" }, String(c)));
      row.append(el("td", { className: "num" + (v >= 0 ? " up" : " down"), "data-class": c, "data-value": v }, (v >= 0 ? "+" : "") + sig(v, 3)));
    });
    return scrollX(el("table", { className: "logit-values", id: "logit-values" },
      el("caption", {}, "logit change per unit of activation, by class"), el("thead", {}, head), el("tbody", {}, row)));
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

  Object.assign(NE, {
    hover, pointerOn, CLUSTER_COLOURS, OTHER_CLUSTERS, diverging, rgb, picture, chartCanvas,
    colourBar, yTitle, logitChart, cdfChart, digit, labelMix, scrollX, panel, stat,
    histogramChart, logitValues
  });
});
