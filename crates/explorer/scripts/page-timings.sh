#!/usr/bin/env bash
# How fast the explorer is in headless Chromium on this machine: the start page's first render
# and the update of the input view for test images and for a stroke drawn by hand. Not a test:
# it prints figures. Usage: page-timings.sh [EXPLORER_DIR] (default results/reproduce/explorer).
#
# The page runs under Chromium's virtual time (so nothing waits on idle timers), which also
# freezes the page's own clocks; the figures come from the real time stamps Chromium puts on
# the console lines the probe writes. First paint is counted from the page's first script (just
# after <head>) to the first frame after the start page is rendered, so it includes reading and
# parsing data.js but not starting the browser. An input update is counted from the hashchange
# (dispatched by the probe, as a click on "next" would cause it) to the DOM updated ("script")
# and laid out. Painting is not counted: waiting for a frame does not work under virtual time.
set -euo pipefail
source_dir="${1:-results/reproduce/explorer}"
[[ -f "$source_dir/index.html" ]] || { echo "no explorer in $source_dir (run cargo xtask reproduce first)" >&2; exit 1; }
browser="$(command -v chromium || command -v chromium-browser || true)"
[[ -n "$browser" ]] || { echo "chromium not found" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$source_dir"/*.html "$source_dir"/*.js "$source_dir"/*.css "$work/"
du -cb "$source_dir"/index.html "$source_dir"/*.js "$source_dir"/*.css | awk '
  { printf "%-50s %8.2f MB\n", $2, $1 / 1e6 }'

sed -i 's#<head>#<head><script>console.log("ne-timing start")</script>#' "$work/index.html"
sed -i 's#</body>#<script src="timing-probe.js"></script></body>#' "$work/index.html"
cat > "$work/timing-probe.js" <<'JS'
(function () {
  var INPUTS = 50;
  function mark(name) { console.log("ne-timing " + name); }
  // Style and layout now, as the next frame would need them. (Waiting for the frame itself,
  // with requestAnimationFrame, can look idle under virtual time and end the run early.)
  function laidOut() { return document.body.offsetHeight; }
  function once(event) {
    return new Promise(function (resolve) { window.addEventListener(event, resolve, { once: true }); });
  }
  // A link's hashchange, dispatched here for the same reason.
  function go(hash) {
    var rendered = once("ne-rendered");
    history.pushState(null, "", hash);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
    return rendered;
  }
  function showInput(k) {
    if (k === INPUTS) return draw();
    mark("update-start");
    go("#input/" + (k + 1)).then(function () {
      mark("update-rendered");
      laidOut();
      mark("update-end");
      setTimeout(function () { showInput(k + 1); }, 0);
    });
  }
  function draw() {
    go("#input/draw").then(function () {
      var canvas = document.getElementById("draw-canvas");
      var rect = canvas.getBoundingClientRect();
      function at(x, y, type) {
        canvas.dispatchEvent(new PointerEvent(type, { clientX: rect.left + x * rect.width, clientY: rect.top + y * rect.height,
          pointerId: 1, pointerType: "mouse", isPrimary: true, buttons: 1, bubbles: true }));
      }
      at(0.3, 0.25, "pointerdown");
      at(0.7, 0.25, "pointermove");
      at(0.5, 0.8, "pointermove");
      mark("draw-start");
      at(0.5, 0.8, "pointerup");
      laidOut();
      mark("draw-end");
      mark("done");
    });
  }
  laidOut();
  mark("first-paint");
  var rendered = once("ne-rendered");
  location.hash = "#input/0"; // waits for the test images
  rendered.then(function () { laidOut(); mark("images-ready"); setTimeout(function () { showInput(0); }, 0); });
})();
JS

"$browser" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$work/profile" --enable-logging=stderr \
  --v=0 --virtual-time-budget=600000 --window-size=1200,900 --dump-dom "file://$work/index.html" \
  2>"$work/log" >/dev/null
grep -q "\"ne-timing done\"" "$work/log" || { echo "the probe did not finish: $(grep -c "ne-timing update-end" "$work/log") inputs done" >&2; grep -i "error" "$work/log" >&2; exit 1; }
grep -o '[0-9]\{6\}\.[0-9]\{6\}:INFO:CONSOLE[^"]*"ne-timing [a-z-]*' "$work/log" | awk '
  function seconds(stamp) { return substr(stamp, 1, 2) * 3600 + substr(stamp, 3, 2) * 60 + substr(stamp, 5) }
  { t = seconds($1); split($0, parts, "ne-timing "); name = parts[2] }
  name == "start" { start = t }
  name == "first-paint" { printf "start page rendered and laid out (first paint but for rasterising): %.0f ms\n", 1000 * (t - start) }
  name == "images-ready" { printf "test images inflated and #input/0 shown: %.0f ms after start\n", 1000 * (t - start) }
  name == "update-start" { begun = t }
  name == "update-rendered" { script += 1000 * (t - begun) }
  name == "update-end" { n += 1; d[n] = 1000 * (t - begun); sum += d[n] }
  name == "draw-start" { drawn = t }
  name == "draw-end" { draw = 1000 * (t - drawn) }
  END {
    for (i = 2; i <= n; i++) { v = d[i]; for (j = i - 1; j >= 1 && d[j] > v; j--) d[j + 1] = d[j]; d[j + 1] = v }
    printf "input view update to layout (next test image, %d of them): median %.1f ms, max %.1f ms, mean %.1f ms (of which script %.1f ms)\n", n, d[int((n + 1) / 2)], d[n], sum / n, script / n
    printf "input view update to layout after a drawn stroke: %.1f ms\n", draw
  }'
