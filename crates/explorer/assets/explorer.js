// Routing and keys; it starts the page (see explorer-core.js for how the files fit).
// Routes: "#" or "#index/<layer>" for the start page, "#<layer>/<number>" for a neuron,
// "#input/<number>" for a test image, "#input/draw" for a digit drawn by hand.
"use strict";

neModule(function (NE) {
  const { testCount, layers, layerByKey, pixelsReady, pixelsLoaded, el, plural, link, unitName,
    indexScroll, startPage, neuronPage, inputState, inputPage, leaveInputPage } = NE;

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
    if (target.page !== "start" && !pixelsLoaded()) {
      app.replaceChildren(el("p", { className: "loading" }, "Loading the test images…"));
      current = { page: "loading" };
      pixelsReady.then(safeRender, neReport);
      return;
    }
    leaveInputPage();
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

  NE.safeRender = safeRender;
  safeRender();
});
