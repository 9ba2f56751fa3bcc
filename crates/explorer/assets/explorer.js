// Routing and keys; it starts the page (see explorer-core.js for how the files fit).
// Routes: "#" or "#index/<layer>" for the start page, "#<layer>/<number>" for a neuron,
// "#input/<number>" for a test image, "#input/draw" for a digit drawn by hand.
"use strict";

neModule(function (NE) {
  const { testCount, layers, layerByKey, pixelsReady, pixelsLoaded, el, plural, link, unitName,
    indexScroll, startPage, neuronPage, inputState, inputPage, leaveInputPage } = NE;

  // ---------------------------------------------------------------- routing

  const layerList = function () { return layers.map(function (l) { return l.key; }).join(", "); };

  /** What the address asks for; an address that names nothing shows the start page with a
   *  note that says what was wrong. `address` is the page's own way of writing it (numbers
   *  without leading zeros), which the address bar is set to. */
  function route() {
    const raw = location.hash.replace(/^#/, "");
    let hash;
    try {
      hash = decodeURIComponent(raw);
    } catch (error) {
      return { page: "start", layer: layers[0], problem: "The address #" + raw + " is not a well-formed address (a % must start an escape such as %20). Showing the start page instead." };
    }
    if (hash === "") return { page: "start", layer: layers[0] };
    const index = /^index\/([^/]+)(?:\/(\d+))?$/.exec(hash);
    if (index) {
      const layer = layerByKey[index[1]];
      if (!layer) return { page: "start", layer: layers[0], problem: "There is no layer \"" + index[1] + "\". The layers are: " + layerList() + "." };
      if (index[2] === undefined) return { page: "start", layer: layer, address: "#index/" + layer.key };
      const at = Number(index[2]);
      if (at < layer.neurons.length) return { page: "start", layer: layer, at: at, address: "#index/" + layer.key + "/" + at };
      return { page: "start", layer: layer, address: "#index/" + layer.key };
    }
    const input = /^input\/(draw|\d+)$/.exec(hash);
    if (input) {
      if (input[1] === "draw") return { page: "input", index: null };
      const i = Number(input[1]);
      if (i < testCount) return { page: "input", index: i, address: "#input/" + i };
      return { page: "start", layer: layers[0], problem: "There is no test image " + input[1] + ": the test images are numbered 0 to " + (testCount - 1) + "." };
    }
    const neuron = /^([^/]+)\/(\d+)$/.exec(hash);
    if (neuron && layerByKey[neuron[1]]) {
      const layer = layerByKey[neuron[1]];
      const j = Number(neuron[2]);
      if (j < layer.neurons.length) return { page: "neuron", layer: layer, index: j, address: link(layer.key, j) };
      return { page: "start", layer: layer, problem: layer.title + " has " + plural(layer.neurons.length, unitName(layer)) + ", numbered 0 to " + (layer.neurons.length - 1) + ": there is no " + unitName(layer) + " " + neuron[2] + "." };
    }
    const what = neuron ? "There is no layer \"" + neuron[1] + "\" (the layers are: " + layerList() + ")." : "The address #" + hash + " names no page here.";
    return { page: "start", layer: layers[0], problem: what + " Showing the start page instead." };
  }

  /** The tab's title: what the page shows. */
  function pageTitle(target) {
    const what = target.page === "neuron" ? target.layer.title + " " + unitName(target.layer) + " " + target.index
      : target.page === "input" ? (target.index === null ? "Draw a digit" : "Test image " + target.index)
        : target.problem || location.hash.replace(/^#/, "") === "" ? null
          : target.layer.title + " index";
    return what ? what + " · Neuron explorer" : "Neuron explorer";
  }

  let current = null;

  function render() {
    const target = route();
    const app = document.getElementById("app");
    if (target.address && target.address !== location.hash) history.replaceState(null, "", target.address);
    if (current && current.page === "start") indexScroll[current.layer.key] = window.scrollY;
    if (target.page !== "start" && !pixelsLoaded()) {
      app.replaceChildren(el("p", { className: "loading" }, "Loading the test images…"));
      current = { page: "loading" };
      pixelsReady.then(safeRender, neReport);
      return;
    }
    // A unit page opened from an input page can say where that input falls among its clusters.
    NE.arrival = current && current.page === "input" && target.page === "neuron" ? NE.lastInput()
      : current && current.page === "neuron" && target.page === "neuron" ? NE.arrival : null;
    leaveInputPage();
    const moved = !current || current.page !== target.page || current.index !== target.index || current.layer !== target.layer;
    // A new input starts by explaining its own prediction.
    if (moved && target.page === "input") inputState.chosenClass = null;
    const page = target.page === "neuron" ? neuronPage(target.layer, target.index)
      : target.page === "input" ? inputPage(target)
        : startPage(target.layer, target.problem, target.at);
    app.replaceChildren(page);
    document.title = pageTitle(target);
    if (target.page === "start" && target.at !== undefined) {
      // Back from a unit: its row, in the middle of the window.
      const row = document.querySelector("#neuron-index tr[data-neuron=\"" + target.at + "\"]");
      if (row) row.scrollIntoView({ block: "center" });
    } else if (moved) {
      // Back on the index: where the reader left it; anywhere else: the top.
      window.scrollTo(0, target.page === "start" ? indexScroll[target.layer.key] || 0 : 0);
    }
    current = target;
    document.body.setAttribute("data-page", target.page);
    window.neClearErrors();
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
    // Arrows with a modifier belong to the browser (Alt+← is Back) or the system.
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (!current || ["INPUT", "SELECT", "TEXTAREA"].includes(event.target.tagName)) return;
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

  NE.safeRender = safeRender;
  safeRender();
});
