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
    hideDead.addEventListener("change", function () { indexState.hideDead = hideDead.checked; NE.safeRender(); });
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
        NE.safeRender();
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

  Object.assign(NE, {
    indexScroll, startPage
  });
});
