// One neuron's or latent's page (see explorer-core.js for how the files fit).
"use strict";

neModule(function (NE) {
  const { PIXELS, DATA, decodeBase64, labels, testCount, norm, layers, layerByKey, saeLayers,
    weightsOf, imageOf, averageImage, maxAbs, el, fmt, sig, pct, count, plural, share, link,
    unitName, badges, hover, pointerOn, CLUSTER_COLOURS, OTHER_CLUSTERS, picture, chartCanvas,
    colourBar, yTitle, logitChart, cdfChart, digit, labelMix, panel, stat } = NE;

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

  Object.assign(NE, {
    neuronPage
  });
});
