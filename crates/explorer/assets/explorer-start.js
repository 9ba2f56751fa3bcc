// The start page: the run's tables and the neuron index (see explorer-core.js).
"use strict";

neModule(function (NE) {
  const { DATA, testCount, layers, weightsOf, median, maxAbs, el, fmt, pct, count, plural, meanStd,
    fmtCount, link, unitName, badges, picture, scrollX } = NE;

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
      el("p", { className: "table-caption" }, "Table 4 · what the NE loss does not optimise (" + modelsLabel(runs) + "; the paper has no such table)"),
      scrollX(el("table", { className: "metrics", id: "table4" }, el("thead", {}, head), body)),
      el("p", { className: "caption" }, "Medians over the units with at least 10 activating test images. Label purity: the largest share of a unit's summed activation that one digit gets (0.1: no preference, 1: one digit). Top-100 purity: the share of the most common digit among its 100 strongest test images. Input coherence: the mean cosine similarity between the raw images of those 100. Encoder participation: (Σ w²)² / Σ w⁴ of its input weights, how many inputs it effectively reads."));
  }

  // What the tables call the measured models: a run's own over its seeds, or others by name.
  function modelsLabel(runs) {
    const label = DATA.models_label || "ours";
    return label === "ours" ? "ours (" + plural(runs, "seed") + ")" : label;
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
      const oursRow = el("tr", { className: "ours" }, el("td", {}, modelsLabel(runs)));
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
      (DATA.models_label || "ours") === "ours"
        ? el("li", {}, "Models shown: seed ", el("b", {}, String(DATA.seed)), " of " + plural(runs.length, "seed") + " in this run.")
        : el("li", {}, "Models shown: ", el("b", {}, DATA.models_label), ". " + layers.filter(function (l) { return l.provenance; }).map(function (l) { return l.title + ": " + l.provenance; }).join("; ") + "."),
      el("li", {}, "MLP test accuracy: ", el("b", {}, pct(shown.mlp_test_accuracy)), " for this seed, ",
        pct(meanAccuracy) + " over the run (paper: " + pct(DATA.paper.mlp_test_accuracy) + ")."),
      el("li", {}, "Test images: " + count(testCount) + ". Feature clusters: among each neuron's top " + DATA.cluster_examples +
        " activating test images, neuron embeddings with cosine similarity above " + DATA.cluster_threshold + " are joined."),
      el("li", {}, "Distances (max / mean dist) are over the embeddings of a neuron's first " + DATA.distance_cap +
        " activating test images in test-set order, as in the paper's Table 3. L1 is per example; the paper's appears to be summed over a batch of 128."),
      el("li", {}, "Run any test image, or a digit you draw, through the MLP and the SAEs: ",
        el("a", { href: "#input/0" }, "test image 0"), " · ", el("a", { href: "#input/draw" }, "draw a digit"), "."));
  }

  // The neuron index's sort and filters, and its scroll position per layer, kept while the
  // page is open.
  const indexState = { key: "index", descending: false, hideDead: false, minSize: 0, digit: "", search: "", fewInputs: false };
  const indexScroll = {};
  // Units that read at most this many inputs (encoder participation): the shortcut an NE loss
  // can take, a latent that copies one or two MLP neurons has near-parallel embeddings.
  const FEW_INPUTS = 3;
  const INDEX_COLUMNS = [
    ["index", "#", "its number"],
    ["size", "Size", "test images activating it"],
    ["top_digit", "Digit", "the digit whose test images get the largest share of its summed activation"],
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
  // Figures measured on the unit's activating test images: flagged when there are few.
  const SAMPLED = ["cluster_count", "max_dist", "mean_dist", "intra_dist", "inter_dist", "label_purity", "top_label_purity", "input_coherence"];

  function sortValue(neuron, j, key) {
    return key === "index" ? j : neuron[key];
  }

  /** A figure of the index; one from fewer than `DATA.min_figure_count` test images is flagged. */
  function figureCell(neuron, key, text) {
    const measured = neuron[key] !== null && neuron[key] !== undefined;
    const few = measured && SAMPLED.includes(key) && neuron.size > 0 && neuron.size < DATA.min_figure_count;
    return el("td", { className: "num" + (few ? " few" : ""), title: few ? "from only " + plural(neuron.size, "test image") : undefined },
      text, few ? el("small", { className: "few-count" }, " n=" + neuron.size) : null);
  }

  // Each layer's index rows, drawn once and reordered on every sort and filter.
  const rowCache = {};

  function indexRow(layer, j) {
    const n = layer.neurons[j];
    const weights = weightsOf(layer, j);
    const cells = {
      index: el("a", { href: link(layer.key, j) }, String(j)),
      size: String(n.size),
      top_digit: n.top_digit === null ? "—" : String(n.top_digit),
      cluster_count: String(n.cluster_count),
      max_dist: fmt(n.max_dist, 3), mean_dist: fmt(n.mean_dist, 3), intra_dist: fmt(n.intra_dist, 3), inter_dist: fmt(n.inter_dist, 3),
      label_purity: fmt(n.label_purity, 3), top_label_purity: fmt(n.top_label_purity, 3), input_coherence: fmt(n.input_coherence, 3),
      encoder_participation: fmt(n.encoder_participation, 1),
      train_firing: String(n.train_firing),
    };
    const row = el("tr", { className: n.train_firing === 0 ? "dead" : "", "data-neuron": j },
      el("td", {}, picture(weights, "diverging", 42, "index-weights", unitName(layer) + " " + j + "'s input weights", maxAbs(weights))),
      INDEX_COLUMNS.map(function (column) { return figureCell(n, column[0], cells[column[0]]); }),
      el("td", {}, badges(n)));
    row.addEventListener("click", function (event) {
      if (event.target.closest("a")) return;
      location.hash = link(layer.key, j);
    });
    return row;
  }

  /** What the search box asks for: a digit ("digit 7", "d7") or unit numbers ("17", "3, 40"). */
  function parseSearch(text) {
    const digit = /^\s*(?:d|digit)\s*(\d)\s*$/i.exec(text);
    if (digit) return { digit: Number(digit[1]) };
    const units = text.split(/[\s,]+/).filter(function (s) { return s !== ""; });
    if (!units.length) return {};
    if (units.every(function (s) { return /^\d+$/.test(s); })) return { units: units.map(Number) };
    return { invalid: true };
  }

  /** The rows that pass the filters, in the chosen order. */
  function indexOrder(layer) {
    const search = parseSearch(indexState.search);
    const digit = indexState.digit === "" ? null : Number(indexState.digit);
    const order = layer.neurons.map(function (_, j) { return j; }).filter(function (j) {
      const n = layer.neurons[j];
      if (indexState.hideDead && n.train_firing === 0) return false;
      if (n.size < indexState.minSize) return false;
      if (digit !== null && n.top_digit !== digit) return false;
      if (indexState.fewInputs && !(n.encoder_participation <= FEW_INPUTS)) return false;
      if (search.invalid) return false;
      if (search.digit !== undefined && n.top_digit !== search.digit) return false;
      if (search.units && !search.units.includes(j)) return false;
      return true;
    });
    order.sort(function (a, b) {
      const va = sortValue(layer.neurons[a], a, indexState.key);
      const vb = sortValue(layer.neurons[b], b, indexState.key);
      const missingA = va === null || va === undefined;
      const missingB = vb === null || vb === undefined;
      if (missingA || missingB) return missingA - missingB || a - b; // missing values last
      return (indexState.descending ? vb - va : va - vb) || a - b;
    });
    return order;
  }

  /** "5 latents read ≤ 3 MLP neurons: median max dist 0.02, against 0.31 for the others." */
  function fewInputsSummary(layer) {
    const inputs = layer.kind === "mlp" ? "pixels" : "MLP neurons";
    const few = layer.neurons.filter(function (n) { return n.size > 0 && n.encoder_participation <= FEW_INPUTS; });
    const rest = layer.neurons.filter(function (n) { return n.size > 0 && !(n.encoder_participation <= FEW_INPUTS); });
    const medianOf = function (units, key) { return fmt(median(units.map(function (n) { return n[key]; })), 3); };
    const firing = plural(few.length, unitName(layer)) + " that fire on a test image read ≤ " + FEW_INPUTS + " " + inputs + " (encoder participation ≤ " + FEW_INPUTS + ")";
    if (!few.length) return firing + ".";
    return firing + ": median max dist " + medianOf(few, "max_dist") + ", mean dist " + medianOf(few, "mean_dist") +
      ", against " + medianOf(rest, "max_dist") + " and " + medianOf(rest, "mean_dist") + " for the other " + plural(rest.length, unitName(layer)) + ".";
  }

  function neuronIndex(layer, at) {
    const wrap = el("div", { className: "neuron-index" });
    const dead = layer.neurons.filter(function (n) { return n.train_firing === 0; }).length;
    const silent = layer.neurons.filter(function (n) { return n.train_firing > 0 && n.size === 0; }).length;
    const tabs = el("nav", { className: "tabs", "aria-label": "layer" });
    layers.forEach(function (other) {
      tabs.append(el("a", { href: "#index/" + other.key, className: other === layer ? "tab active" : "tab", "aria-current": other === layer ? "page" : undefined },
        other.title + " (" + other.neurons.length + ")"));
    });
    const firing = layer.neurons.filter(function (n) { return n.size > 0; });
    const column = function (key) { return firing.map(function (n) { return n[key]; }); };
    const unit = unitName(layer);
    wrap.append(tabs, el("p", { className: "layer-summary" },
      (layer.provenance ? "Provenance: " + layer.provenance + ". " : "") +
      plural(layer.neurons.length, unit) + ", " + dead + " dead (no training image activates them, " +
      pct(dead / layer.neurons.length) + ")" + (silent ? ", " + silent + " firing on training images only" : "") +
      ". Medians over those that fire on a test image: size " + fmtCount(median(column("size"))) +
      ", max dist " + fmt(median(column("max_dist")), 3) + ", mean dist " + fmt(median(column("mean_dist")), 3) +
      ", clusters " + fmtCount(median(column("cluster_count"))) + ". " + fewInputsSummary(layer) +
      " Figures from fewer than " + DATA.min_figure_count + " test images are marked n=…. Click a column to sort, a row to open it."));

    const body = el("tbody");
    const shown = el("span", { className: "shown-count", id: "index-shown", "aria-live": "polite" });
    const head = el("tr", {}, el("th", {}, "Weights"));
    const headers = {};
    const rows = rowCache[layer.key] || (rowCache[layer.key] = []);
    const rowOf = function (j) { return rows[j] || (rows[j] = indexRow(layer, j)); };
    // Sorting or filtering replaces the rows only, not the page.
    const update = function () {
      const order = indexOrder(layer);
      body.replaceChildren.apply(body, order.map(rowOf));
      shown.textContent = "showing " + count(order.length) + " of " + plural(layer.neurons.length, unit);
      rows.forEach(function (row, j) { if (row) row.classList.toggle("here", j === at); });
      INDEX_COLUMNS.forEach(function (column) {
        const active = indexState.key === column[0];
        headers[column[0]].th.setAttribute("aria-sort", active ? (indexState.descending ? "descending" : "ascending") : "none");
        headers[column[0]].th.className = "sortable" + (active ? " sorted" : "");
        headers[column[0]].mark.textContent = active ? (indexState.descending ? " ▼" : " ▲") : "";
      });
    };
    INDEX_COLUMNS.forEach(function (column) {
      const mark = el("span", { "aria-hidden": "true" });
      const button = el("button", { type: "button", className: "sort", title: "sort by " + column[2] }, column[1], mark);
      const th = el("th", { "data-sort": column[0] }, button);
      button.addEventListener("click", function () {
        if (indexState.key === column[0]) indexState.descending = !indexState.descending;
        else {
          indexState.key = column[0];
          indexState.descending = column[0] !== "index";
        }
        update();
      });
      headers[column[0]] = { th: th, mark: mark };
      head.append(th);
    });
    head.append(el("th", {}, "Status"));

    const control = function (node, key, read) {
      node.addEventListener(node.type === "checkbox" || node.tagName === "SELECT" ? "change" : "input", function () {
        indexState[key] = read(node);
        update();
      });
      return node;
    };
    const search = control(el("input", { type: "search", id: "index-search", value: indexState.search, placeholder: "17, 3 40 or digit 7", "aria-label": "find units by number, or by top digit (digit 7)" }),
      "search", function (n) { return n.value; });
    const digit = control(el("select", { id: "index-digit", "aria-label": "top digit" },
      el("option", { value: "" }, "any"), Array.from({ length: 10 }, function (_, d) { return el("option", { value: String(d) }, String(d)); })),
    "digit", function (n) { return n.value; });
    digit.value = indexState.digit;
    const minSize = control(el("input", { type: "number", id: "index-min-size", min: 0, value: indexState.minSize, className: "jump", "aria-label": "at least this many activating test images" }),
      "minSize", function (n) { return Math.max(0, Number(n.value) || 0); });
    const hideDead = control(el("input", { type: "checkbox", checked: indexState.hideDead, id: "hide-dead" }), "hideDead", function (n) { return n.checked; });
    const fewInputs = control(el("input", { type: "checkbox", checked: indexState.fewInputs, id: "few-inputs" }), "fewInputs", function (n) { return n.checked; });
    wrap.append(el("div", { className: "index-filters", role: "search" },
      el("label", {}, "find ", search),
      el("label", {}, "top digit ", digit),
      el("label", {}, "at least ", minSize, " test images"),
      el("label", {}, hideDead, " hide dead"),
      el("label", { title: "encoder participation ≤ " + FEW_INPUTS }, fewInputs, " only those reading ≤ " + FEW_INPUTS + (layer.kind === "mlp" ? " pixels" : " MLP neurons")),
      shown));
    wrap.append(scrollX(el("table", { className: "index", id: "neuron-index", "data-layer": layer.key },
      el("thead", {}, head), body)));
    update();
    return wrap;
  }

  function startPage(layer, problem, at) {
    const config = (DATA.metrics || {}).config;
    return el("div", { className: "start" },
      problem ? el("p", { className: "notice", id: "route-problem" }, problem) : null,
      el("section", { className: "card" },
        el("h1", {}, "This run"),
        runFacts(),
        el("div", { className: "tables" },
          el("div", {}, metricsTable("Table 2 · reconstruction and sparsity (test set)", METRIC_COLUMNS.table2)),
          el("div", {}, metricsTable("Table 3 · embedding distances, size, dead latents", METRIC_COLUMNS.table3))),
        el("p", { className: "caption", id: "table3-terms" }, "Table 3: max and mean dist are medians over the latents of the max and mean pairwise cosine distance between the neuron embeddings of a latent's first " +
          DATA.distance_cap + " activating test images; size is the median, over the latents that fire on a test image, of how many test images activate each (all of them, not capped); dead % is the share of latents that no training image activates."),
        table4(),
        config ? el("details", {}, el("summary", {}, "Run configuration"),
          el("pre", { className: "config" }, JSON.stringify(config, null, 2))) : null),
      el("section", { className: "card" },
        el("h1", {}, "Neurons"),
        neuronIndex(layer, at)));
  }

  Object.assign(NE, {
    indexScroll, startPage
  });
});
