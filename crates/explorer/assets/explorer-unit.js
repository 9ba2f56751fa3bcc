// One neuron's or latent's page (see explorer-core.js for how the files fit).
"use strict";

neModule(function (NE) {
  const { PIXELS, DATA, decodeBase64, labels, testCount, norm, layers, layerByKey, saeLayers, weightsOf,
    imageOf, averageImage, normalised, maxAbs, forward, el, fmt, sig, pct, count, plural, share, link, unitName, badges,
    strongestWords, firstWords, clusterOfInput, hover, pointerOn, CLUSTER_COLOURS, OTHER_CLUSTERS, picture,
    chartCanvas, colourBar, yTitle, logitChart, cdfChart, histogramChart, logitValues, digit, labelMix, panel,
    stat } = NE;

  /** The link groups of a neuron with this relation, in layer order. */
  function linksOf(neuron, relation) {
    return neuron.links.filter(function (group) { return group.relation === relation; });
  }

  /** The layer tabs of a unit page: the current layer, the matched latent of every other SAE
   *  (nearest decoder direction), and the index of a layer with no matched unit. */
  function navigation(layer, j) {
    const bar = el("nav", { className: "neuron-nav" });
    bar.append(el("a", { href: "#index/" + layer.key + "/" + j, className: "button", id: "back-to-index", title: "the index, at this " + unitName(layer) }, "← all " + unitName(layer) + "s"));
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
      linksOf(neuron, "decoder_cosine").filter(function (g) { return g.layer === layer.key; }).forEach(function (group) {
        add("Nearest in this SAE by decoder direction (cosine)", group);
      });
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
      ? "Nearest latents of this SAE and of each other SAE by the cosine of their decoder columns, and by the Jaccard overlap of their top " + DATA.overlap_examples +
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
    const chart = chartCanvas(width, height, "embedding-map", "map of the embeddings of " + neuron.top.length + " test images in " + plural(neuron.cluster_count, "feature cluster") + "; hover a dot for its image");
    const ctx = chart.ctx;
    const bytes = new Int8Array(decodeBase64(neuron.map).buffer);
    const n = neuron.top.length;
    const points = [];
    for (let i = 0; i < n; i++) points.push([bytes[2 * i] * neuron.map_scale, bytes[2 * i + 1] * neuron.map_scale]);
    // One fixed scale for every unit and both axes (the embeddings have unit length, so the
    // centred points lie within about ±1): a unit whose embeddings are nearly parallel draws
    // a tight knot, one whose embeddings spread draws a wide cloud. Points beyond the scale
    // are drawn on its edge.
    const scale = (Math.min(width, height) / 2 - pad) / MAP_EXTENT;
    const clamp = function (v) { return Math.max(-MAP_EXTENT, Math.min(MAP_EXTENT, v)); };
    const px = function (p) { return [width / 2 + clamp(p[0]) * scale, height / 2 - clamp(p[1]) * scale]; };
    chart.canvas.setAttribute("data-scale", String(scale));
    ctx.strokeStyle = "#e3e3e3";
    ctx.beginPath();
    ctx.moveTo(0, height / 2 + 0.5);
    ctx.lineTo(width, height / 2 + 0.5);
    ctx.moveTo(width / 2 + 0.5, 0);
    ctx.lineTo(width / 2 + 0.5, height);
    ctx.stroke();
    // Ticks at ±0.5 and ±1 on both axes.
    ctx.fillStyle = "#999";
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    [-1, -0.5, 0.5, 1].forEach(function (v) {
      ctx.fillRect(width / 2 + v * scale, height / 2 - 3, 1, 7);
      ctx.fillRect(width / 2 - 3, height / 2 - v * scale, 7, 1);
      ctx.fillText(String(v), width / 2 + v * scale, height / 2 + 5);
    });
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

  // Half the side of the embedding map, in the map's units (see mapChart).
  const MAP_EXTENT = 1.05;

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
        " (" + pct(members.length / neuron.top.length) + " of " + (neuron.top.length === neuron.size ? "all " : "the top ") + neuron.top.length + ")" + distances + " · labels " + labelMix(members)),
      el("div", { className: "cluster-body" },
        el("figure", { className: "pair" }, picture(drawn.average, "gray", 112, "cluster-average", "cluster average", 0), el("figcaption", {}, "average")),
        el("figure", { className: "pair" }, picture(drawn.feature, "diverging", 112, "cluster-feature", "", limit),
          el("figcaption", {}, "feature")),
        examples));
  }

  /** Where the input the reader came from (an input page) falls among this unit's clusters. */
  function arrivalNote(layer, j) {
    const arrival = NE.arrival;
    if (!arrival) return null;
    const found = clusterOfInput(layer, j, arrival.raw);
    if (!found) return null;
    const activation = embeddingActivation(layer, j, arrival.raw);
    const where = found.rank === null
      ? "joins none of its clusters: its most similar top example, test image " + found.example + ", has cosine similarity " + sig(found.similarity, 3) +
        ", not above " + DATA.cluster_threshold
      : "falls into cluster " + (found.rank + 1) + ": cosine similarity " + sig(found.similarity, 3) + " with its member test image " + found.example;
    return el("p", { className: "notice arrival", id: "arrival", "data-cluster": found.rank === null ? "none" : found.rank },
      el("a", { href: arrival.href }, arrival.name), ", which you came from, " +
      (activation > 0 ? "activates this " + unitName(layer) + " at " + sig(activation, 3) : "does not activate this " + unitName(layer)) + " and its embedding " + where + ".");
  }

  /** Unit j's activation for an input (raw pixels). */
  function embeddingActivation(layer, j, raw) {
    const result = forward(normalised(raw));
    if (layer.kind === "mlp") return result.hidden[j];
    return result.saes.find(function (output) { return output.sae.layer === layer; }).latents[j];
  }

  function clustersSection(layer, j, weights) {
    const neuron = layer.neurons[j];
    const unit = unitName(layer);
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
    const arrival = arrivalNote(layer, j);
    if (arrival) section.append(arrival);
    section.append(el("p", { className: "caption" },
      plural(neuron.cluster_count, "cluster") + " among its " + strongestWords(neuron.top.length, neuron.size) +
      ": two images join when the cosine similarity of their neuron embeddings exceeds " + DATA.cluster_threshold +
      ". Largest first. Each shows its average image, its feature (the average as the MLP sees it, background subtracted, ⊙ the input weights: red pixels push this " +
      unit + " up) and up to 12 examples with label and activation, the central one outlined. All features share the colour scale below."),
      colourBar(limit, "feature value"));
    const list = el("div", { className: "cluster-list" });
    const arrivedIn = arrival ? Number(arrival.getAttribute("data-cluster")) : NaN;
    const card = function (rank) {
      const node = clusterCard(neuron, neuron.clusters[rank], rank, drawn[rank], limit);
      if (rank === arrivedIn) node.classList.add("arrived");
      return node;
    };
    const shownFirst = Math.min(DATA.clusters_shown, neuron.clusters.length);
    for (let rank = 0; rank < shownFirst; rank++) list.append(card(rank));
    section.append(list);
    if (neuron.clusters.length > shownFirst) {
      const more = el("button", { type: "button", className: "button", id: "show-all-clusters" },
        "Show all " + neuron.clusters.length + " clusters (" + (neuron.clusters.length - shownFirst) + " more)");
      more.addEventListener("click", function () {
        for (let rank = shownFirst; rank < neuron.clusters.length; rank++) list.append(card(rank));
        more.remove();
      });
      section.append(more);
    }
    return section;
  }

  /** Test images from every range of the unit's activations, strongest band first. */
  function bandsPanel(neuron) {
    const section = el("section", { className: "card bands", id: "activation-bands" }, el("h2", {}, "Examples across its activation range"));
    const n = neuron.bands.length;
    neuron.bands.forEach(function (band, b) {
      const digits = el("div", { className: "digits" });
      band.examples.forEach(function (i, k) { digits.append(digit(i, 40, band.activations[k])); });
      const from = Math.round(100 * b / n);
      const to = Math.round(100 * (b + 1) / n);
      const range = band.activations.length ? sig(band.activations[band.activations.length - 1], 3) + "–" + sig(band.activations[0], 3) : "";
      section.append(el("div", { className: "band", "data-band": b },
        el("div", { className: "band-label" }, el("b", {}, b === 0 ? "strongest " + to + "%" : "ranks " + from + "–" + to + "%"), el("br"), "shown: " + range),
        digits));
    });
    section.append(el("p", { className: "caption" }, "Its " + plural(neuron.size, "activating test image") + " ranked by activation and cut into " + n +
      " bands of equal count, strongest first; from each, " + plural(neuron.bands[0].examples.length, "image") + " at evenly spaced ranks, with label and activation. The top examples above show only the strongest; these show what weaker activations respond to."));
    return section;
  }

  /** "median 1.2 · 90% at or below 3.4 · largest 5.6" from the shipped quantiles. */
  function quantileWords(quantiles) {
    if (!quantiles.length) return "";
    if (quantiles.length === 1) return "Its one activation: " + sig(quantiles[0], 3) + ".";
    const at = function (p) { return quantiles[Math.round(p * (quantiles.length - 1))]; };
    return "Smallest " + sig(quantiles[0], 3) + " · quarter at or below " + sig(at(0.25), 3) + " · median " + sig(at(0.5), 3) +
      " · three quarters at or below " + sig(at(0.75), 3) + " · largest " + sig(quantiles[quantiles.length - 1], 3) + ".";
  }

  function neuronPage(layer, j) {
    const neuron = layer.neurons[j];
    const weights = weightsOf(layer, j);
    const unit = unitName(layer);
    const title = el("h1", { id: "neuron-title", "data-layer": layer.key, "data-index": j },
      layer.title + " · " + unit + " ", el("span", { id: "neuron-number" }, String(j)), badges(neuron));

    const topCount = neuron.top.length;
    const size = neuron.size;
    const first = firstWords(DATA.distance_cap, size).replace(" test images", "").replace(" test image", "");
    const strongest = strongestWords(topCount, size).replace(" test images", "").replace(" test image", "");
    const tableTop = strongestWords(Math.min(DATA.table4_top, size), size).replace(" test images", "").replace(" test image", "");
    // A figure measured on fewer test images than Table 4 counts says so.
    const few = size > 0 && size < DATA.min_figure_count ? " (from " + plural(size, "image") + ")" : "";
    const stats = el("div", { className: "stats" },
      stat("test images activating it", share(size, testCount), "neuron-size"),
      stat("training images activating it", count(neuron.train_firing)),
      stat("max dist · " + first + few, fmt(neuron.max_dist, 3), "max-dist"),
      stat("mean dist · " + first + few, fmt(neuron.mean_dist, 3)),
      stat("feature clusters · " + strongest + few, String(neuron.cluster_count), "cluster-count"),
      stat("intra-cluster dist · " + strongest, fmt(neuron.intra_dist, 3), "intra-dist"),
      stat("inter-cluster dist · " + strongest, fmt(neuron.inter_dist, 3), "inter-dist"),
      stat("label purity · " + (size > 1 ? "all " + count(size) + " activating" : size ? "one activating" : "no activating image") + few, fmt(neuron.label_purity, 3), "label-purity"),
      stat("label purity · " + tableTop, fmt(neuron.top_label_purity, 3), "top-label-purity"),
      stat("input coherence · " + tableTop, fmt(neuron.input_coherence, 3)),
      stat("top digit", neuron.top_digit === null ? "—" : String(neuron.top_digit), "top-digit"),
      stat("encoder participation", fmt(neuron.encoder_participation, 1)));
    const statsNote = size === 0
      ? el("p", { className: "caption", id: "stats-note" }, "No test image activates this " + unit + ", so it has no distances, clusters, label purity or map; its encoder participation comes from its input weights.")
      : el("p", { className: "caption", id: "stats-note" },
      "Two sets of examples: max and mean dist (the paper's Table 3) use its " + firstWords(DATA.distance_cap, size) +
      ", in test-set order; the clusters, the intra- and inter-cluster distances and the map use its " +
      strongestWords(topCount, size) + " by activation. Intra-cluster: mean cosine distance over pairs within a cluster; inter-cluster: mean cosine distance between the clusters' mean directions. " +
      "Table 4's figures: label purity over all its activating test images (its top digit is the one that gets the largest share), top purity and input coherence over its " +
      DATA.table4_top + " strongest, encoder participation from its input weights (how many inputs it effectively reads)." +
      (few ? " Fewer than " + DATA.min_figure_count + " test images activate it, so its figures come from a small sample (Table 4's medians leave it out)." : ""));

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
        "Left: the average of its " + strongestWords(topCount, size) + " (labels " + labelMix(neuron.top) +
        "). Right: " + (topCount === 1 ? "the image" : topShown.length === topCount ? "all " + topShown.length : "the strongest " + topShown.length) + ", with label and activation; click one to run it through the network.",
        el("figure", { className: "pair" }, picture(averageImage(neuron.top), "gray", 160, "top-average", "average of the top images", 0),
          el("figcaption", {}, topCount === 1 ? "its only image" : "average of " + topCount)),
        topDigits)
      : panel("Top activating test images", "No test image activates this " + unit + ".", el("p", { className: "empty" }, "—"));

    const logitCaption = layer.kind === "mlp"
      ? "How one unit of activation moves each class logit: column " + j + " of the second layer's weights (fc2.weight)."
      : "How one unit of activation moves each class logit through the reconstruction: fc2.weight × decoder column " + j + ".";
    const logitPanel = panel("Logit effects", logitCaption, logitChart(neuron.logits), logitValues(neuron.logits));

    const exact = size > 0 && neuron.quantiles.length === size;
    const cdfPanel = panel("Activation distribution", size === 0
      ? "No test image activates this " + unit + ": all " + count(testCount) + " give exactly 0."
      : "Cumulative distribution of the activation over the " + plural(size, "test image") + (size === 1 ? " that activates it (" : " that activate it (") +
      pct(size / testCount) + " of " + count(testCount) + "): the share of them at or below each value" +
      (exact ? ", from every activation" : ", from " + neuron.quantiles.length + " quantiles") + ". The other " +
      plural(testCount - size, "test image") + " give exactly 0.",
      cdfChart((testCount - size) / testCount, neuron.quantiles, exact),
      el("p", { className: "chart-values", id: "quantile-values" }, quantileWords(neuron.quantiles)));
    const largest = neuron.quantiles.length ? neuron.quantiles[neuron.quantiles.length - 1] : 0;
    const histogramPanel = size
      ? panel("Activation histogram", "How many of its " + plural(size, "activating test image") + " fall in each of " + neuron.histogram.length +
        " equal bins from 0 to its largest activation, " + sig(largest, 3) + ". Hover a bar for its count.",
      histogramChart(neuron.histogram, largest))
      : null;

    const clusterOf = new Array(topCount).fill(0);
    neuron.clusters.forEach(function (cluster, rank) { cluster.members.forEach(function (position) { clusterOf[position] = rank; }); });
    const mapPanel = topCount > 1
      ? panel("Map of its top embeddings",
        "The neuron embeddings of its " + strongestWords(topCount, size) + ", scaled to unit length, on their first two principal components (" +
        pct(neuron.map_explained[0] + neuron.map_explained[1]) + " of the variance), on the same scale for every unit, so a tight knot means nearly parallel embeddings" +
        (neuron.max_dist === null ? "" : " (max dist " + fmt(neuron.max_dist, 3) + ", mean dist " + fmt(neuron.mean_dist, 3) + ")") +
        ". Coloured by feature cluster (1-" + CLUSTER_COLOURS.length + " as in the list below, later ones grey). Hover a dot for its image.", mapChart(neuron, clusterOf))
      : panel("Map of its top embeddings", "A map needs at least two activating test images.", el("p", { className: "empty" }, "—"));

    return el("div", { className: "neuron" },
      navigation(layer, j),
      el("section", { className: "card" }, title, stats, statsNote),
      el("div", { className: "panels" }, weightPanel, topPanel, logitPanel, cdfPanel, histogramPanel, mapPanel),
      neuron.bands.length ? bandsPanel(neuron) : null,
      linksPanel(layer, neuron),
      clustersSection(layer, j, weights));
  }

  Object.assign(NE, {
    neuronPage
  });
});
