// One input's page: a test image or a digit drawn by hand, through the MLP and every SAE
// (see explorer-core.js for how the files fit).
"use strict";

neModule(function (NE) {
  const { SIDE, PIXELS, CLASSES, DATA, labels, testCount, norm, mlpLayer, weightsOf, imageOf, normalised,
    maxAbs, network, forward, el, sig, pct, plural, share, link, unitName, clusterOfInput, pointerOn,
    diverging, rgb, picture, stat } = NE;

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

  /** One listed unit of the "why class" columns: its feature for this input (the input as the
   *  MLP sees it, background subtracted, ⊙ its pixel-space weights), its contribution, and
   *  (filled in just after the page is drawn, see `findClusters`) the feature cluster of its
   *  top examples this input falls into. */
  function contributionItem(layer, j, value, largest, raw, activation, c) {
    const weights = weightsOf(layer, j);
    const feature = new Float32Array(PIXELS);
    for (let p = 0; p < PIXELS; p++) feature[p] = (raw[p] / 255 / norm.std) * weights[p];
    const cluster = el("span", { className: "in-cluster" }, "…");
    const item = el("li", { "data-unit": j, "data-contribution": value,
      title: unitName(layer) + " " + j + ": activation " + sig(activation, 4) + " × effect on class " + c + " = " + sig(value, 4) },
    picture(feature, "diverging", 28, "unit-feature", unitName(layer) + " " + j + "'s feature for this input", maxAbs(feature)),
    el("a", { href: link(layer.key, j), className: "unit-link" }, "#" + j),
    bar(value, largest, true), el("span", { className: "num" }, (value >= 0 ? "+" : "") + sig(value, 3)),
    cluster);
    clusterJobs.push(function () {
      const found = clusterOfInput(layer, j, raw);
      cluster.textContent = found === null ? "no clusters" : found.rank === null ? "no cluster" : "cluster " + (found.rank + 1);
      item.setAttribute("data-cluster", found === null || found.rank === null ? "none" : found.rank);
      if (found !== null) item.title += "; nearest top example: test image " + found.example + ", cosine similarity " + sig(found.similarity, 3);
    });
    return item;
  }

  // Which cluster the input falls into, per listed unit: it compares the input's embedding with
  // those of each unit's top examples (an SAE latent's need the MLP run on each), so it runs
  // after the page is drawn, a few units at a time, and stops when another input replaces it.
  let clusterJobs = [];
  let clusterRun = 0;

  function findClusters() {
    const run = ++clusterRun;
    const jobs = clusterJobs;
    clusterJobs = [];
    const step = function () {
      if (run !== clusterRun) return;
      jobs.splice(0, 3).forEach(function (job) { job(); });
      if (jobs.length) setTimeout(step, 0);
      else window.dispatchEvent(new CustomEvent("ne-input-clusters"));
    };
    setTimeout(step, 0);
  }

  /** The active units of one layer that raise class c's logit most and those that lower it
   *  most, by size, each with its feature and cluster; then the bias and the logit they make. */
  function contributionLists(layer, values, contribution, c, limit, bias, logit, raw) {
    const raise = [];
    const lower = [];
    for (let j = 0; j < values.length; j++) {
      if (!(values[j] > 0)) continue;
      if (contribution(j) > 0) raise.push(j);
      else if (contribution(j) < 0) lower.push(j);
    }
    const bySize = function (a, b) { return Math.abs(contribution(b)) - Math.abs(contribution(a)) || a - b; };
    raise.sort(bySize);
    lower.sort(bySize);
    const shown = raise.slice(0, limit).concat(lower.slice(0, limit));
    const largest = shown.reduce(function (m, j) { return Math.max(m, Math.abs(contribution(j))); }, 0);
    const list = function (units, direction, total) {
      const node = el("ol", { className: "contributions", "data-layer": layer.key, "data-direction": direction });
      units.slice(0, limit).forEach(function (j) { node.append(contributionItem(layer, j, contribution(j), largest, raw, values[j], c)); });
      if (!units.length) node.append(el("li", { className: "empty" }, "no active " + unitName(layer) + " " + direction + "s it"));
      return el("div", {}, el("h4", {}, direction === "raise" ? "raise it most" : "lower it most",
        el("small", {}, " (" + (units.length > limit ? limit + " of " : "") + plural(units.length, unitName(layer)) + ", " + (direction === "raise" ? "+" : "") + sig(total, 3) + " in all)")), node);
    };
    const total = function (units) { return units.reduce(function (s, j) { return s + contribution(j); }, 0); };
    return el("div", { className: "why-layer" },
      list(raise, "raise", total(raise)), list(lower, "lower", total(lower)),
      el("p", { className: "logit-terms", "data-layer": layer.key, "data-bias": bias, "data-logit": logit },
        "bias " + (bias >= 0 ? "+" : "") + sig(bias, 3) + " · logit " + sig(logit, 4)));
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
      el("div", {}, el("h3", {}, mlpLayer.title),
        contributionLists(mlpLayer, result.hidden, hiddenContribution, c, WHY_LISTED, network.b2[c], result.logits[c], raw)));
    result.saes.forEach(function (output) {
      const effect = function (j) { return output.latents[j] * output.sae.effects[j * CLASSES + c]; };
      why.append(el("div", {}, el("h3", {}, output.sae.layer.title),
        contributionLists(output.sae.layer, output.latents, effect, c, WHY_LISTED, output.sae.bias[c], output.logits[c], raw)));
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
        el("p", { className: "caption", id: "why-caption" }, "The active units that raise class " + c + "'s logit most for this input and those that lower it most, by size: a hidden neuron's activation × its fc2 weight; a latent's activation × (fc2 · its decoder column). " +
          "Each shows its feature for this input (the input as the MLP sees it, background subtracted, ⊙ the unit's pixel-space weights: red pushes the unit up) and which of the unit's feature clusters the input falls into (the cluster of its most similar top example, if more similar than " + DATA.cluster_threshold + "). " +
          "All the active units' contributions plus the bias make the logit: for the MLP the bias is fc2's (" + sig(network.b2[c], 3) + ") and the logit " + sig(result.logits[c], 4) +
          "; for an SAE the bias is fc2's plus fc2 · b_dec, and the logit that of its reconstruction."),
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

  // The input the page shows now, for a unit page opened from it.
  let lastInput = null;

  function showAnalysis(raw) {
    if (!analysisHost) return;
    lastInput = raw ? { raw: raw, name: inputState.image === null || location.hash === "#input/draw" ? "your drawing" : "test image " + inputState.image,
      href: location.hash === "#input/draw" ? "#input/draw" : "#input/" + inputState.image } : null;
    if (!raw) {
      clusterRun += 1;
      predictionHost.replaceChildren(el("p", { className: "empty", id: "no-input" }, "Draw a digit to see what the network makes of it."));
      analysisHost.replaceChildren();
      return;
    }
    const analysis = inputAnalysis(raw);
    predictionHost.replaceChildren(analysis.prediction);
    analysisHost.replaceChildren(analysis.details);
    findClusters();
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
          el("figure", { className: "preview-figure" }, preview, el("figcaption", {}, "as the network sees it")),
          predictionHost),
        el("p", { className: "caption", id: "draw-caption" }, "Mouse, finger or pen. The result updates as you draw. The network sees your ink the MNIST way (the preview): scaled to fit 20 × 20 and centred by its centre of mass in 28 × 28."));
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

  // Units listed per direction and layer in "why class".
  const WHY_LISTED = 6;

  /** Forgets the input page's hosts when another page replaces it. */
  function leaveInputPage() {
    clusterRun += 1;
    clusterJobs = [];
    analysisHost = null;
    predictionHost = null;
  }

  Object.assign(NE, {
    inputState, inputPage, leaveInputPage,
    lastInput: function () { return lastInput; }
  });
});
