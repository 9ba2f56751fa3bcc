//! The explorer opened in a real headless browser (Debian's `chromium`), as a person would open
//! it from disk. Asserts on the rendered DOM and the browser's console, and leaves screenshots in
//! `target/explorer-test/` to look at. Where a check needs the page's own JavaScript (drawing
//! with pointer events, measuring widths, following links), a probe page is written next to
//! `index.html`: the same page plus one script that acts and writes its findings into the DOM.
//! Without chromium the tests fail when `CI=true` and are skipped (with a plain message)
//! otherwise.
mod common;

use common::{Fixture, HIDDEN, LATENTS, TEST_IMAGES, read_page_data};
use ndarray::{Array2, Axis};
use ne_explorer::{CLUSTERS_SHOWN, write_explorer};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// `target/explorer-test`: the site and the screenshots.
fn artefacts() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target folder")
        .join("explorer-test")
}

struct Site {
    dir: PathBuf,
    data: Value,
    fixture: Fixture,
}

/// The explorer for the shared fixture, written once per test binary.
fn site() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| {
        let dir = artefacts().join("site");
        let _ = std::fs::remove_dir_all(&dir);
        let fixture = Fixture::new();
        fixture
            .with_input(|input| write_explorer(&dir, input))
            .expect("the explorer is written");
        Site {
            data: read_page_data(&dir),
            dir,
            fixture,
        }
    })
}

fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// Chromium, or `None` after saying the test is skipped (a failure when `CI=true`).
fn chromium() -> Option<PathBuf> {
    let found = find_chromium();
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium not found, and CI=true requires the browser test: apt-get install chromium"
        );
        println!("SKIPPED: chromium not found");
    }
    found
}

struct Rendered {
    dom: String,
    console: String,
}

/// Opens `index.html#<fragment>` headless in a fresh profile; returns the DOM after the page
/// has run, and saves a screenshot as `<screenshot>.png` when asked.
fn render(browser: &Path, fragment: &str, screenshot: Option<&str>) -> Rendered {
    open_page(browser, "index.html", fragment, &[], screenshot)
}

/// Opens `page#<fragment>` of the site as `render` does, with extra chromium arguments.
fn open_page(
    browser: &Path,
    page: &str,
    fragment: &str,
    extra: &[&str],
    screenshot: Option<&str>,
) -> Rendered {
    let site = site();
    let url = format!(
        "file://{}#{fragment}",
        site.dir.join(page).canonicalize().unwrap().display()
    );
    let run = |mode: &[String]| {
        let profile = tempfile::tempdir().expect("a fresh profile folder");
        let output = Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=15000",
                "--timeout=90000",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .args(mode)
            .arg(&url)
            .output()
            .expect("chromium starts");
        assert!(
            output.status.success(),
            "chromium failed on {url}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    };
    let dumped = run(&["--dump-dom".to_owned()]);
    if let Some(name) = screenshot {
        let png = artefacts().join(format!("{name}.png"));
        let _ = std::fs::remove_file(&png);
        run(&[
            "--window-size=1400,2200".to_owned(),
            format!("--screenshot={}", png.display()),
        ]);
        let bytes = std::fs::read(&png).expect("the screenshot is written");
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000,
            "a real screenshot"
        );
    }
    Rendered {
        dom: String::from_utf8(dumped.stdout).expect("the DOM is UTF-8"),
        console: String::from_utf8_lossy(&dumped.stderr).into_owned(),
    }
}

impl Rendered {
    fn count(&self, needle: &str) -> usize {
        self.dom.matches(needle).count()
    }

    /// Text of the first element with this id (no nested tags expected).
    fn text_of(&self, id: &str) -> &str {
        let start = self
            .dom
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no #{id} in the DOM"));
        let open = start + self.dom[start..].find('>').unwrap() + 1;
        let close = open + self.dom[open..].find('<').unwrap();
        &self.dom[open..close]
    }

    /// The page ran without uncaught errors, and finished (it replaced the loading note).
    fn assert_clean(&self) {
        let errors_at = self
            .dom
            .find("id=\"js-error-log\"")
            .expect("the error log is in the page");
        let open = errors_at + self.dom[errors_at..].find('>').unwrap() + 1;
        assert!(
            self.dom[open..].starts_with("</pre>"),
            "the page recorded errors: {}",
            &self.dom[open..open + self.dom[open..].find("</pre>").unwrap()]
        );
        assert!(
            !self.console.contains("Uncaught"),
            "console errors: {}",
            self.console
        );
        assert!(
            !self.dom.contains("Loading the explorer"),
            "the page did not finish"
        );
    }

    /// Asserts the neuron view of neuron `j` of `layer` is complete.
    fn assert_neuron_view(&self, layer: &Value, j: usize) {
        self.assert_clean();
        let neuron = &layer["neurons"][j];
        assert_eq!(self.text_of("neuron-number"), j.to_string());
        let key = layer["key"].as_str().unwrap();
        assert!(self.dom.contains(&format!("data-layer=\"{key}\"")));
        let clusters = neuron["cluster_count"].as_u64().unwrap() as usize;
        assert_eq!(self.text_of("cluster-count"), clusters.to_string());
        assert_eq!(
            self.count("data-kind=\"cluster-average\""),
            clusters.min(CLUSTERS_SHOWN)
        );
        assert_eq!(
            self.count("data-kind=\"cluster-feature\""),
            clusters.min(CLUSTERS_SHOWN)
        );
        for kind in ["weights", "logits", "cdf"] {
            assert_eq!(
                self.count(&format!("data-kind=\"{kind}\"")),
                1,
                "one {kind} picture"
            );
        }
        let top = neuron["top"].as_array().unwrap().len();
        // The weights' colour bar, and one shared by all the cluster features.
        assert_eq!(
            self.count("data-kind=\"colour-bar\""),
            1 + usize::from(top > 0)
        );
        assert_eq!(
            self.count("data-kind=\"embedding-map\""),
            usize::from(top > 1)
        );
        assert_eq!(
            self.count("data-kind=\"top-average\""),
            usize::from(top > 0)
        );
        assert!(
            self.count("data-kind=\"digit\"") >= top.min(12),
            "the top digits are drawn"
        );
        let canvases = self.count("<canvas");
        assert_eq!(
            self.count("data-drawn=\"true\""),
            canvases,
            "every canvas is drawn"
        );
        let size = neuron["size"].as_u64().unwrap();
        assert!(
            self.text_of("neuron-size")
                .starts_with(&format!("{size} of {TEST_IMAGES} (")),
            "{}",
            self.text_of("neuron-size")
        );
    }
}

/// Runs `body` (JavaScript calling `finish(value)` once, maybe later) in the explorer opened at
/// `#<fragment>`, `width` CSS pixels wide, once the page has rendered; returns the value. The
/// explorer runs in a frame of that width (a headless window is at least 500 pixels wide) and
/// posts the value to the page around it, which the test reads. The files are written next to
/// `index.html`: `probe-<name>.html` (the explorer and the probe script) and `frame-<name>.html`.
fn probe(browser: &Path, name: &str, fragment: &str, width: u32, body: &str) -> Value {
    let dir = &site().dir;
    let index = std::fs::read_to_string(dir.join("index.html")).unwrap();
    let script = format!("probe-{name}.js");
    let page = index.replace(
        "</body>",
        &format!("<script src=\"{script}\"></script>\n</body>"),
    );
    assert_ne!(
        page, index,
        "index.html has a </body> to put the probe before"
    );
    std::fs::write(dir.join(format!("probe-{name}.html")), page).unwrap();
    std::fs::write(
        dir.join(&script),
        format!(
            "(function () {{
  function finish(value) {{
    var errors = document.getElementById('js-error-log').textContent;
    parent.postMessage(JSON.stringify({{ value: value, errors: errors }}), '*');
  }}
  function once(event) {{
    return new Promise(function (resolve) {{ window.addEventListener(event, resolve, {{ once: true }}); }});
  }}
  // Goes to `hash` as a click on a link would, but without the browser's round trip between
  // setting the address and the hashchange event: under virtual time that gap can look idle
  // and end the run early. The page renders during the dispatch (its test images are loaded by
  // then: every probe that navigates starts on a page that needs them).
  function go(hash) {{
    var rendered = once('ne-rendered');
    history.pushState(null, '', hash);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    return rendered;
  }}
  function run() {{
    try {{
{body}
    }} catch (error) {{
      finish({{ probe_error: String((error && error.stack) || error) }});
    }}
  }}
  // The first render may wait for the test images; it marks <body data-page> when done.
  if (document.body.hasAttribute('data-page')) run();
  else once('ne-rendered').then(run);
}})();
"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join(format!("frame-{name}.html")),
        format!(
            "<!DOCTYPE html>
<html><body style=\"margin: 0\"><pre id=\"js-errors\"></pre>
<iframe src=\"probe-{name}.html#{fragment}\" style=\"width: {width}px; height: 900px; border: 0\"></iframe>
<script>
window.addEventListener('message', function (event) {{
  var out = document.createElement('pre');
  out.id = 'probe-result';
  out.textContent = event.data;
  document.body.append(out);
}});
</script></body></html>
"
        ),
    )
    .unwrap();
    let rendered = open_page(browser, &format!("frame-{name}.html"), "", &[], None);
    let start = rendered
        .dom
        .find("<pre id=\"probe-result\">")
        .unwrap_or_else(|| panic!("probe {name} wrote no result"));
    let text = &rendered.dom[start + "<pre id=\"probe-result\">".len()..];
    let text = &text[..text.find("</pre>").unwrap()];
    let json = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let posted: Value = serde_json::from_str(&json).expect("the probe wrote JSON");
    assert_eq!(
        posted["errors"], "",
        "probe {name}: the page recorded errors"
    );
    assert!(
        !rendered.console.contains("Uncaught"),
        "probe {name}: console errors: {}",
        rendered.console
    );
    let value = posted["value"].clone();
    assert!(value.get("probe_error").is_none(), "probe {name}: {value}");
    value
}

#[test]
fn mlp_neuron_view_renders_in_headless_chromium() {
    let Some(browser) = chromium() else { return };
    let layer = &site().data["layers"][0];
    // The neuron with the most clusters shows the most.
    let j = (0..HIDDEN)
        .max_by_key(|&j| {
            (
                layer["neurons"][j]["cluster_count"].as_u64(),
                std::cmp::Reverse(j),
            )
        })
        .unwrap();
    let page = render(&browser, &format!("mlp/{j}"), Some("mlp-neuron"));
    page.assert_neuron_view(layer, j);
    assert!(page.dom.contains("MLP hidden layer · neuron"));
    // A neuron has no matched unit in an SAE: its tabs lead to the SAEs' indexes.
    for key in ["standard", "ne"] {
        assert!(
            page.dom
                .contains(&format!("href=\"#index/{key}\" id=\"switch-{key}\"")),
            "switch to the {key} index"
        );
    }
    // Related units: the latents of each SAE that read and write it most.
    assert_eq!(
        page.count("class=\"chip unit-link\""),
        2 * 2 * ne_explorer::WEIGHT_LINKED
    );
}

#[test]
fn sae_latent_view_renders_in_headless_chromium() {
    let Some(browser) = chromium() else { return };
    let layer = &site().data["layers"][2];
    let j = 17;
    assert!(
        layer["neurons"][j]["size"].as_u64().unwrap() > 0,
        "latent 17 fires"
    );
    let page = render(&browser, &format!("ne/{j}"), Some("ne-latent"));
    page.assert_neuron_view(layer, j);
    assert!(page.dom.contains("SAE + NE loss · latent"));
    // The standard SAE's tab leads to the latent nearest by decoder direction, shown first.
    let groups = layer["neurons"][j]["links"].as_array().unwrap();
    let nearest = groups
        .iter()
        .find(|g| g["relation"] == "decoder_cosine" && g["layer"] == "standard")
        .expect("a decoder-cosine group for the standard SAE");
    let matched = nearest["units"][0][0].as_u64().unwrap();
    assert!(
        page.dom.contains(&format!(
            "href=\"#standard/{matched}\" id=\"switch-standard\""
        )),
        "the tab leads to standard latent {matched}"
    );
    assert!(page.dom.contains("href=\"#index/mlp\" id=\"switch-mlp\""));
    assert!(
        page.dom.contains("href=\"#ne/16\"") && page.dom.contains("href=\"#ne/18\""),
        "prev and next"
    );
}

#[test]
fn dead_latent_view_renders_without_errors() {
    let Some(browser) = chromium() else { return };
    let layer = &site().data["layers"][1];
    let page = render(&browser, "standard/0", None);
    page.assert_neuron_view(layer, 0);
    assert_eq!(page.text_of("cluster-count"), "0");
    assert!(page.dom.contains("class=\"badge dead\""));
    // Labels say what there is, not "top 0 activating test images".
    assert!(!page.dom.contains("top 0"), "no 'top 0' label");
    assert!(
        !page.dom.contains("first 25 activating"),
        "no 'first 25' label"
    );
    assert!(page.dom.contains("feature clusters · no activating"));
    assert!(
        page.dom
            .contains("id=\"prev-link\" class=\"button disabled\""),
        "no previous latent"
    );
}

#[test]
fn start_page_shows_the_tables_and_indexes_every_neuron() {
    let Some(browser) = chromium() else { return };
    let data = &site().data;
    let page = render(&browser, "index/standard", Some("start-page"));
    page.assert_clean();
    assert!(page.dom.contains("Table 2") && page.dom.contains("Table 3"));
    // Paper row and ours (mean ± std over the run's seeds).
    assert!(page.dom.contains(">0.33<") && page.dom.contains(">2600<"));
    assert!(page.dom.contains(">0.310 ± 0.031<"), "our standard MSE");
    assert!(page.dom.contains("ours (2 seeds)"));
    assert!(
        page.dom.contains("Provenance: trained here. "),
        "the layer's provenance"
    );
    // Table 4: ours only, for the MLP and both SAEs, from the summary's figures.
    assert!(page.dom.contains("Table 4"));
    assert_eq!(page.count("data-table4="), 3);
    assert!(
        page.dom.contains(">0.620 ± 0.062<"),
        "the standard SAE's label purity"
    );
    assert!(page.dom.contains(">64 ± 0<"), "the MLP's units counted");
    for column in [
        "label_purity",
        "top_label_purity",
        "input_coherence",
        "encoder_participation",
    ] {
        assert!(
            page.dom.contains(&format!("data-sort=\"{column}\"")),
            "an index column for {column}"
        );
    }
    assert_eq!(
        page.count("data-neuron="),
        LATENTS,
        "one row per standard latent"
    );
    assert_eq!(page.count("data-kind=\"index-weights\""), LATENTS);
    let dead = data["layers"][1]["neurons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["train_firing"] == 0)
        .count();
    assert!(dead >= 1);
    assert_eq!(
        page.count("class=\"badge dead\""),
        dead,
        "dead latents are marked"
    );
    for key in ["mlp", "standard", "ne"] {
        assert!(page.dom.contains(&format!("href=\"#index/{key}\"")));
    }
    let mlp = render(&browser, "", None);
    mlp.assert_clean();
    assert_eq!(
        mlp.count("data-neuron="),
        HIDDEN,
        "the MLP's neurons by default"
    );
}

/// `a` agrees with `b` to 1e-4, relative to `b` where `|b|` exceeds 1.
fn assert_close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-4 * b.abs().max(1.0),
        "{what}: the page has {a}, Rust {b}"
    );
}

fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_f64().expect("a number"))
        .collect()
}

fn softmax(logits: &[f64]) -> Vec<f64> {
    let top = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exp: Vec<f64> = logits.iter().map(|l| (l - top).exp()).collect();
    let total: f64 = exp.iter().sum();
    exp.iter().map(|e| e / total).collect()
}

/// The class with the largest value, if it leads the runner-up by more than rounding noise.
fn clear_winner(values: &[f64]) -> Option<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    (values[order[0]] - values[order[1]] > 1e-3).then_some(order[0])
}

#[test]
fn input_view_shows_the_prediction_of_test_image_0() {
    let Some(browser) = chromium() else { return };
    let fixture = &site().fixture;
    let page = render(&browser, "input/0", Some("input-0"));
    page.assert_clean();
    assert_eq!(fixture.test.labels[0], 7);
    let rust = fixture
        .mlp
        .predict(fixture.test.images.slice(ndarray::s![..1, ..]))
        .unwrap();
    assert_eq!(rust[0], 7, "the fixture's MLP reads test image 0 as a 7");
    assert_eq!(page.text_of("prediction"), "7");
    assert_eq!(page.text_of("input-number"), "0");
    assert_eq!(page.count("class=\"hidden-cell"), HIDDEN);
    assert_eq!(page.count("class=\"card sae-card\""), 2);
}

#[test]
fn the_pages_forward_pass_agrees_with_rust() {
    let Some(browser) = chromium() else { return };
    let images = [0usize, 1, 2, 3, 17, 123];
    let found = probe(
        &browser,
        "forward",
        "input/5",
        1200,
        &format!(
            "var images = {images:?};
    var results = [];
    function collect() {{
      var saes = {{}};
      document.querySelectorAll('.sae-card').forEach(function (card) {{
        var key = card.getAttribute('data-layer');
        var latents = {{}};
        card.querySelectorAll('.latent-row').forEach(function (row) {{
          latents[row.getAttribute('data-unit')] = Number(row.getAttribute('data-value'));
        }});
        saes[key] = {{
          latents: latents,
          mse: Number(document.getElementById('recon-error-' + key).getAttribute('data-value')),
          prediction: Number(document.getElementById('recon-prediction-' + key).getAttribute('data-value'))
        }};
      }});
      var values = function (selector, attribute) {{
        return Array.from(document.querySelectorAll(selector), function (e) {{ return Number(e.getAttribute(attribute)); }});
      }};
      return {{
        prediction: Number(document.getElementById('prediction').textContent),
        hidden: values('#hidden-activations [data-unit]', 'data-value'),
        probabilities: values('#probabilities [data-class]', 'data-value'),
        logits: values('#probabilities [data-class]', 'data-logit'),
        saes: saes
      }};
    }}
    function next(k) {{
      if (k === images.length) return finish(results);
      go('#input/' + images[k]).then(function () {{ results.push(collect()); next(k + 1); }});
    }}
    next(0);"
        ),
    );
    let fixture = &site().fixture;
    let x = fixture.test.images.select(Axis(0), &images);
    let hidden = fixture.mlp.hidden(x.view());
    let logits = fixture.mlp.logits_from_hidden(hidden.view());
    let to_f64 = |a: &Array2<f32>| a.mapv(f64::from);
    let (hidden, logits) = (to_f64(&hidden), to_f64(&logits));
    let results = found.as_array().unwrap();
    assert_eq!(results.len(), images.len());
    for (row, (&image, page)) in images.iter().zip(results).enumerate() {
        let what = |part: &str| format!("test image {image}, {part}");
        let page_hidden = numbers(&page["hidden"]);
        assert_eq!(page_hidden.len(), HIDDEN);
        for (k, &h) in page_hidden.iter().enumerate() {
            assert_close(h, hidden[[row, k]], &what(&format!("hidden {k}")));
        }
        let rust_logits = logits.row(row).to_vec();
        for (c, (&l, &p)) in numbers(&page["logits"])
            .iter()
            .zip(&numbers(&page["probabilities"]))
            .enumerate()
        {
            assert_close(l, rust_logits[c], &what(&format!("logit {c}")));
            assert_close(
                p,
                softmax(&rust_logits)[c],
                &what(&format!("probability {c}")),
            );
        }
        if let Some(winner) = clear_winner(&rust_logits) {
            assert_eq!(page["prediction"], winner, "{}", what("prediction"));
        }
        for (key, sae) in [("standard", &fixture.standard), ("ne", &fixture.ne)] {
            let h32 = hidden.row(row).mapv(|v| v as f32).insert_axis(Axis(0));
            let latents = sae.encode(h32.view());
            let recon = sae.decode(latents.view());
            let recon_logits = fixture.mlp.logits_from_hidden(recon.view());
            let page_sae = &page["saes"][key];
            let shown = page_sae["latents"].as_object().unwrap();
            for (j, &a) in latents.row(0).iter().enumerate() {
                let on_page = shown
                    .get(&j.to_string())
                    .map_or(0.0, |v| v.as_f64().unwrap());
                assert_close(on_page, f64::from(a), &what(&format!("{key} latent {j}")));
            }
            let mse = (&recon - &h32).mapv(|d| f64::from(d * d)).mean().unwrap();
            assert_close(
                page_sae["mse"].as_f64().unwrap(),
                mse,
                &what(&format!("{key} MSE")),
            );
            let recon_logits: Vec<f64> =
                recon_logits.row(0).iter().map(|&v| f64::from(v)).collect();
            if let Some(winner) = clear_winner(&recon_logits) {
                assert_eq!(page_sae["prediction"], winner, "{}", what(key));
            }
        }
    }
}

#[test]
fn a_digit_drawn_with_pointer_events_is_classified() {
    let Some(browser) = chromium() else { return };
    // A "7" drawn with a pen: a bar across the top, then a stroke down to the left.
    let found = probe(
        &browser,
        "draw",
        "input/draw",
        1200,
        "var canvas = document.getElementById('draw-canvas');
    var rect = canvas.getBoundingClientRect();
    function at(x, y, type) {
      canvas.dispatchEvent(new PointerEvent(type, {
        clientX: rect.left + x * rect.width, clientY: rect.top + y * rect.height,
        pointerId: 7, pointerType: 'pen', isPrimary: true, buttons: type === 'pointerup' ? 0 : 1, bubbles: true
      }));
    }
    var path = [[0.3, 0.25], [0.7, 0.25], [0.62, 0.45], [0.55, 0.62], [0.5, 0.8]];
    at(path[0][0], path[0][1], 'pointerdown');
    for (var k = 1; k < path.length; k++) {
      for (var step = 1; step <= 8; step++) {
        var t = step / 8;
        at(path[k - 1][0] + t * (path[k][0] - path[k - 1][0]), path[k - 1][1] + t * (path[k][1] - path[k - 1][1]), 'pointermove');
      }
    }
    at(0.5, 0.8, 'pointerup');
    var preview = document.querySelector('[data-kind=\"drawn-input\"]');
    var ink = preview.getContext('2d').getImageData(0, 0, 28, 28).data;
    var mass = 0, mx = 0, my = 0, x0 = 28, x1 = -1, y0 = 28, y1 = -1;
    for (var p = 0; p < 784; p++) {
      var v = ink[4 * p], x = p % 28, y = Math.floor(p / 28);
      if (v > 0) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
      mass += v; mx += (x + 0.5) * v; my += (y + 0.5) * v;
    }
    var prediction = document.getElementById('prediction').textContent;
    document.getElementById('clear-drawing').click();
    finish({
      prediction: prediction,
      box: [x1 - x0 + 1, y1 - y0 + 1],
      centre: [mx / mass, my / mass],
      cleared: document.getElementById('prediction') === null && document.getElementById('no-input') !== null
    });",
    );
    let prediction = found["prediction"].as_str().unwrap();
    assert!(
        prediction.len() == 1 && prediction.chars().all(|c| c.is_ascii_digit()),
        "a digit is predicted: {found}"
    );
    // The MNIST way: the longer side of the ink fits 20 pixels, centred by mass in 28 x 28.
    let box_sides = numbers(&found["box"]);
    assert!(
        (18.0..=20.0).contains(&box_sides[0].max(box_sides[1])),
        "{found}"
    );
    for c in numbers(&found["centre"]) {
        assert!((c - 14.0).abs() <= 1.0, "centre of mass {found}");
    }
    assert_eq!(found["cleared"], true, "Clear empties the input");
}

#[test]
fn every_related_unit_link_and_tab_leads_to_a_page_that_exists() {
    let Some(browser) = chromium() else { return };
    let data = &site().data;
    let mlp = &data["layers"][0];
    let j = (0..HIDDEN)
        .max_by_key(|&j| mlp["neurons"][j]["cluster_count"].as_u64())
        .unwrap();
    let clusters = mlp["neurons"][j]["cluster_count"].as_u64().unwrap();
    assert!(
        clusters as usize > CLUSTERS_SHOWN,
        "some neuron has more clusters than shown"
    );
    let found = probe(
        &browser,
        "links",
        "ne/5",
        1200,
        &format!(
            "var starts = ['#ne/17', '#standard/3', '#mlp/{j}'];
    var visits = [];
    var shownAll = null;
    function page() {{
      var title = document.getElementById('neuron-title');
      return {{
        page: document.body.getAttribute('data-page'),
        layer: title && title.getAttribute('data-layer'),
        index: title && Number(title.getAttribute('data-index')),
        problem: document.getElementById('route-problem') !== null
      }};
    }}
    function follow(targets, k) {{
      if (k === targets.length) return Promise.resolve();
      return go(targets[k]).then(function () {{
        visits.push({{ href: targets[k], found: page() }});
        return follow(targets, k + 1);
      }});
    }}
    function start(s) {{
      if (s === starts.length) return finish({{ visits: visits, shown_all: shownAll }});
      go(starts[s]).then(function () {{
        if (starts[s] === '#mlp/{j}') {{
          document.getElementById('show-all-clusters').click();
          shownAll = document.querySelectorAll('.cluster').length;
        }}
        var targets = Array.from(document.querySelectorAll('.related a.unit-link, a[id^=switch-]'), function (a) {{ return a.getAttribute('href'); }});
        return follow(targets, 0).then(function () {{ start(s + 1); }});
      }});
    }}
    start(0);"
        ),
    );
    assert_eq!(found["shown_all"], clusters, "show all draws every cluster");
    let visits = found["visits"].as_array().unwrap();
    // Two SAE latents: 3 x 3 nearest (in the other SAE by direction and by examples, in its
    // own by direction) and 2 x 5 weights each; the neuron: 4 x 5 latents; and three tabs per
    // page.
    let expected = 2 * (3 * ne_explorer::NEAREST_LINKED + 2 * ne_explorer::WEIGHT_LINKED)
        + 4 * ne_explorer::WEIGHT_LINKED
        + 3 * 3;
    assert!(
        visits.len() <= expected && visits.len() >= expected - 2 * ne_explorer::NEAREST_LINKED,
        "{} links followed (at most {expected}; fewer only where few latents share examples)",
        visits.len()
    );
    for visit in visits {
        let href = visit["href"].as_str().unwrap();
        let found = &visit["found"];
        assert_eq!(found["problem"], false, "{href} is a page that exists");
        if let Some(layer) = href.strip_prefix("#index/") {
            assert_eq!(found["page"], "start", "{href}");
            assert!(
                data["layers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|l| l["key"] == layer)
            );
            continue;
        }
        let (layer, index) = href[1..].split_once('/').expect("#layer/number");
        assert_eq!(found["page"], "neuron", "{href}");
        assert_eq!(found["layer"], layer, "{href}");
        assert_eq!(
            found["index"].as_u64().unwrap().to_string(),
            index,
            "{href}"
        );
    }
}

#[test]
fn nothing_is_wider_than_a_narrow_window() {
    let Some(browser) = chromium() else { return };
    let pages = [
        (375, ""),
        (375, "mlp/3"),
        (375, "ne/17"),
        (375, "input/0"),
        (375, "input/draw"),
        (600, ""),
        (600, "ne/17"),
        (600, "input/0"),
    ];
    for (n, (width, fragment)) in pages.into_iter().enumerate() {
        let found = probe(
            &browser,
            &format!("width-{n}"),
            fragment,
            width,
            "var root = document.documentElement;
    // What sticks out: boxes past the right edge, or boxes whose own content overflows them.
    var wide = Array.from(document.querySelectorAll('body *')).filter(function (e) {
      if (e.closest('.scroll-x')) return false;
      var sticksOut = e.getBoundingClientRect().right > root.clientWidth + 0.5;
      var overflows = e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible';
      return sticksOut || overflows;
    }).slice(-5).map(function (e) {
      return e.tagName + '.' + e.className + ' ' + e.scrollWidth + ' wide in ' + e.clientWidth;
    });
    finish({ width: root.clientWidth, overflow: root.scrollWidth - root.clientWidth, wide: wide });",
        );
        assert_eq!(found["width"], width, "the window is {width} px wide");
        assert_eq!(
            found["overflow"], 0,
            "#{fragment} at {width} px scrolls sideways: {found}"
        );
    }
}

#[test]
fn the_index_keeps_its_scroll_position() {
    let Some(browser) = chromium() else { return };
    let found = probe(
        &browser,
        "scroll",
        "standard/4",
        1200,
        "var before, onPage;
    go('#index/standard').then(function () {
      window.scrollTo(0, 1500);
      before = window.scrollY;
      return go('#standard/5');
    }).then(function () {
      onPage = window.scrollY;
      return go('#index/standard');
    }).then(function () {
      finish({ before: before, on_page: onPage, after: window.scrollY });
    });",
    );
    assert_eq!(found["before"], 1500, "the index is long enough to scroll");
    assert_eq!(found["on_page"], 0, "a unit page opens at its top");
    assert_eq!(
        found["after"], 1500,
        "back on the index where the reader left it"
    );
}

#[test]
fn an_address_that_names_nothing_says_what_was_wrong() {
    let Some(browser) = chromium() else { return };
    for (fragment, says) in [
        ("nonsense/5", "There is no layer \"nonsense\""),
        ("standard/600", "there is no latent 600"),
        ("input/99999", "There is no test image 99999"),
    ] {
        let page = render(&browser, fragment, None);
        page.assert_clean();
        let problem = page.text_of("route-problem");
        assert!(problem.contains(says), "#{fragment}: {problem}");
        assert!(
            page.dom.contains("id=\"neuron-index\""),
            "the start page is shown"
        );
    }
}

#[test]
fn a_malformed_address_shows_the_notice_and_an_error_box_clears() {
    let Some(browser) = chromium() else { return };
    for fragment in ["%", "ne/17%", "%E0%A4%A"] {
        let page = render(&browser, fragment, None);
        page.assert_clean();
        assert!(
            page.text_of("route-problem")
                .contains("not a well-formed address"),
            "#{fragment}"
        );
        assert!(page.dom.contains("id=\"neuron-index\""), "#{fragment}");
    }
    let found = probe(
        &browser,
        "errors",
        "ne/3",
        1200,
        "var box = document.getElementById('js-errors');
    var seen = {};
    go('#ne/17%').then(function () {
      seen.malformed_notice = document.getElementById('route-problem') !== null;
      seen.malformed_box = !box.hidden;
      neRecordError('an error for the test');
      seen.shown = !box.hidden;
      return go('#ne/4');
    }).then(function () {
      seen.after_good_render = !box.hidden;
      neRecordError('another');
      box.querySelector('button.dismiss').click();
      seen.after_dismiss = !box.hidden;
      // The errors were the test's own: the log the harness checks starts clean again.
      document.getElementById('js-error-log').textContent = '';
      finish(seen);
    });",
    );
    assert_eq!(found["malformed_notice"], true, "{found}");
    assert_eq!(found["malformed_box"], false, "no error for a malformed %");
    assert_eq!(found["shown"], true);
    assert_eq!(
        found["after_good_render"], false,
        "cleared by the next page"
    );
    assert_eq!(found["after_dismiss"], false, "dismissed");
}

#[test]
fn why_class_lists_what_raises_and_lowers_the_logit_and_prints_bias_and_logit() {
    let Some(browser) = chromium() else { return };
    let images = [0usize, 3, 11];
    let found = probe(
        &browser,
        "why",
        "input/1",
        1200,
        &format!(
            "var images = {images:?};
    var results = [];
    function read() {{
      var layers = {{}};
      document.querySelectorAll('.why-layer').forEach(function (node) {{
        var terms = node.querySelector('.logit-terms');
        var list = function (direction) {{
          return Array.from(node.querySelectorAll('ol[data-direction=' + direction + '] li[data-unit]'), function (li) {{
            return [Number(li.getAttribute('data-unit')), Number(li.getAttribute('data-contribution'))];
          }});
        }};
        layers[terms.getAttribute('data-layer')] = {{
          raise: list('raise'), lower: list('lower'),
          bias: Number(terms.getAttribute('data-bias')), logit: Number(terms.getAttribute('data-logit')),
          features: node.querySelectorAll('canvas[data-kind=unit-feature][data-drawn=true]').length
        }};
      }});
      return {{ class: Number(document.querySelector('.analysis').getAttribute('data-class')), layers: layers }};
    }}
    function next(k) {{
      if (k === images.length) return finish(results);
      go('#input/' + images[k]).then(function () {{ results.push(read()); next(k + 1); }});
    }}
    next(0);"
        ),
    );
    let fixture = &site().fixture;
    let x = fixture.test.images.select(Axis(0), &images);
    let hidden = fixture.mlp.hidden(x.view());
    let logits = fixture.mlp.logits_from_hidden(hidden.view());
    let mut lowered = 0;
    for (row, page) in found.as_array().unwrap().iter().enumerate() {
        let c = page["class"].as_u64().unwrap() as usize;
        let mlp = &page["layers"]["mlp"];
        let contributions: Vec<(usize, f64)> = (0..HIDDEN)
            .filter(|&k| hidden[[row, k]] > 0.0)
            .map(|k| {
                let value = hidden[[row, k]] * fixture.mlp.fc2.weight[[c, k]];
                (k, f64::from(value))
            })
            .collect();
        for (direction, sign) in [("raise", 1.0), ("lower", -1.0)] {
            let mut expected: Vec<(usize, f64)> = contributions
                .iter()
                .copied()
                .filter(|&(_, v)| v * sign > 0.0)
                .collect();
            expected.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
            let shown = mlp[direction].as_array().unwrap();
            assert_eq!(shown.len(), expected.len().min(6), "{direction}: {page}");
            for (item, (k, v)) in shown.iter().zip(&expected) {
                assert_eq!(
                    item[0].as_u64().unwrap() as usize,
                    *k,
                    "{direction}: {page}"
                );
                assert_close(item[1].as_f64().unwrap(), *v, direction);
            }
            if direction == "lower" {
                lowered += shown.len();
            }
        }
        assert_close(
            mlp["bias"].as_f64().unwrap(),
            f64::from(fixture.mlp.fc2.bias[c]),
            "bias",
        );
        assert_close(
            mlp["logit"].as_f64().unwrap(),
            f64::from(logits[[row, c]]),
            "logit",
        );
        assert_ne!(mlp["bias"], mlp["logit"]);
        // Each SAE: its bias plus all its latents' contributions make its logit.
        for key in ["standard", "ne"] {
            let sae = &page["layers"][key];
            let listed =
                sae["raise"].as_array().unwrap().len() + sae["lower"].as_array().unwrap().len();
            assert_eq!(
                sae["features"].as_u64().unwrap() as usize,
                listed,
                "a feature per unit"
            );
        }
    }
    assert!(
        lowered > 0,
        "the fixture's MLP has neurons that lower a logit"
    );
}

#[test]
fn the_embedding_map_has_one_scale_for_every_unit() {
    let Some(browser) = chromium() else { return };
    let found = probe(
        &browser,
        "map-scale",
        "ne/17",
        1200,
        "var scales = [];
    function read() { scales.push(document.querySelector('canvas[data-kind=embedding-map]').getAttribute('data-scale')); }
    read();
    go('#standard/17').then(function () { read(); return go('#mlp/3'); }).then(function () { read(); finish(scales); });",
    );
    let scales = found.as_array().unwrap();
    assert!(scales.iter().all(|s| s.is_string()), "{found}");
    assert!(scales.iter().all(|s| *s == scales[0]), "{found}");
}

#[test]
fn pages_have_names_for_screen_readers_and_print_their_values() {
    let Some(browser) = chromium() else { return };
    let found = probe(
        &browser,
        "a11y",
        "ne/17",
        1200,
        "var unit = {
      unnamed: Array.from(document.querySelectorAll('canvas')).filter(function (c) {
        return !(c.getAttribute('aria-label') || '').trim() || (c.getAttribute('role') !== 'img' && c.id !== 'draw-canvas');
      }).length,
      canvases: document.querySelectorAll('canvas').length,
      logits: Array.from(document.querySelectorAll('#logit-values td'), function (td) { return Number(td.getAttribute('data-value')); })
    };
    go('#index/standard').then(function () {
      var headers = Array.from(document.querySelectorAll('#neuron-index th[data-sort]'));
      finish({ unit: unit, headers: headers.length,
        focusable: headers.filter(function (th) { var b = th.querySelector('button'); return b && b.tabIndex >= 0; }).length,
        sorted: headers.map(function (th) { return th.getAttribute('aria-sort'); }) });
    });",
    );
    assert_eq!(
        found["unit"]["unnamed"], 0,
        "every canvas is named: {found}"
    );
    assert!(found["unit"]["canvases"].as_u64().unwrap() > 10);
    let logits = numbers(&found["unit"]["logits"]);
    let data = numbers(&site().data["layers"][2]["neurons"][17]["logits"]);
    assert_eq!(logits, data, "the logit effects are printed");
    let headers = found["headers"].as_u64().unwrap();
    assert!(headers >= 12);
    assert_eq!(found["focusable"], headers, "every sort header is a button");
    let sorted = found["sorted"].as_array().unwrap();
    assert_eq!(sorted[0], "ascending", "by number at first");
    assert!(sorted[1..].iter().all(|s| s == "none"), "{found}");
}

#[test]
fn keys_routes_titles_and_the_way_back_to_the_index() {
    let Some(browser) = chromium() else { return };
    let found = probe(
        &browser,
        "keys",
        "ne/17",
        1200,
        "var seen = { titles: {} };
    function key(options) { document.body.dispatchEvent(new KeyboardEvent('keydown', Object.assign({ key: 'ArrowRight', bubbles: true }, options))); }
    key({ altKey: true });
    key({ shiftKey: true });
    setTimeout(function () {
      seen.after_modified = location.hash;
      var rendered = once('ne-rendered');
      key({});
      rendered.then(function () {
        seen.after_plain = location.hash;
        return go('#ne/017');
      }).then(function () {
        seen.normalised_unit = location.hash + ' ' + document.getElementById('neuron-number').textContent;
        return go('#input/00005');
      }).then(function () {
        seen.normalised_input = location.hash;
        seen.titles.input = document.title;
        return go('#ne/40');
      }).then(function () {
        seen.titles.unit = document.title;
        return go(document.getElementById('back-to-index').getAttribute('href'));
      }).then(function () {
        var row = document.querySelector('#neuron-index tr[data-neuron=\"40\"]');
        var rect = row.getBoundingClientRect();
        seen.row_visible = rect.top >= 0 && rect.bottom <= window.innerHeight;
        seen.row_marked = row.classList.contains('here');
        seen.scrolled = window.scrollY;
        seen.titles.index = document.title;
        return go('#');
      }).then(function () {
        seen.titles.start = document.title;
        finish(seen);
      });
    }, 100);",
    );
    assert_eq!(
        found["after_modified"], "#ne/17",
        "Alt or Shift + → is not ours"
    );
    assert_eq!(found["after_plain"], "#ne/18", "→ steps");
    assert_eq!(found["normalised_unit"], "#ne/17 17");
    assert_eq!(found["normalised_input"], "#input/5");
    assert_eq!(found["row_visible"], true, "{found}");
    assert_eq!(found["row_marked"], true, "{found}");
    assert!(found["scrolled"].as_f64().unwrap() > 0.0, "{found}");
    let titles: Vec<&str> = found["titles"]
        .as_object()
        .unwrap()
        .values()
        .map(|t| t.as_str().unwrap())
        .collect();
    let mut distinct = titles.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), titles.len(), "a title per page: {titles:?}");
}

#[test]
fn the_index_searches_filters_and_sorts_its_rows_only() {
    let Some(browser) = chromium() else { return };
    let found = probe(
        &browser,
        "index",
        "index/standard",
        1200,
        "var table = document.getElementById('neuron-index');
    table.neMark = true;
    function rows() { return Array.from(document.querySelectorAll('#neuron-index tbody tr'), function (r) { return Number(r.getAttribute('data-neuron')); }); }
    function set(id, value) {
      var node = document.getElementById(id);
      if (node.type === 'checkbox') node.checked = value; else node.value = value;
      node.dispatchEvent(new Event(node.type === 'checkbox' || node.tagName === 'SELECT' ? 'change' : 'input'));
    }
    var seen = {};
    document.querySelector('th[data-sort=size] button').click();
    seen.sorted = rows();
    seen.same_table = document.getElementById('neuron-index') === table && table.neMark === true;
    set('index-search', '17'); seen.search_unit = rows();
    set('index-search', 'digit 7'); seen.search_digit = rows();
    set('index-search', ''); set('index-digit', '3'); seen.digit = rows();
    set('index-digit', ''); set('index-min-size', '110'); seen.min_size = rows();
    set('index-min-size', '0'); set('few-inputs', true); seen.few_inputs = rows();
    set('few-inputs', false); set('hide-dead', true); seen.alive = rows();
    seen.shown = document.getElementById('index-shown').textContent;
    finish(seen);",
    );
    let neurons = site().data["layers"][1]["neurons"].as_array().unwrap();
    let units = |key: &str| -> Vec<usize> {
        found[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect()
    };
    assert_eq!(found["same_table"], true, "sorting replaces the rows only");
    let sorted = units("sorted");
    assert_eq!(sorted.len(), LATENTS);
    let size = |j: usize| neurons[j]["size"].as_u64().unwrap();
    assert!(
        sorted.windows(2).all(|w| size(w[0]) >= size(w[1])),
        "by size, largest first"
    );
    assert_eq!(units("search_unit"), [17]);
    let with_digit = |d: u64| -> Vec<usize> {
        let mut all: Vec<usize> = (0..LATENTS)
            .filter(|&j| neurons[j]["top_digit"].as_u64() == Some(d))
            .collect();
        all.sort_by_key(|&j| (std::cmp::Reverse(size(j)), j));
        all
    };
    assert_eq!(units("search_digit"), with_digit(7));
    assert!(!with_digit(7).is_empty());
    assert_eq!(units("digit"), with_digit(3));
    let min_size = units("min_size");
    assert_eq!(
        min_size.len(),
        (0..LATENTS).filter(|&j| size(j) >= 110).count()
    );
    assert!(min_size.iter().all(|&j| size(j) >= 110));
    let few = (0..LATENTS)
        .filter(|&j| neurons[j]["encoder_participation"].as_f64().unwrap() <= 3.0)
        .count();
    assert_eq!(units("few_inputs").len(), few);
    let alive = (0..LATENTS)
        .filter(|&j| neurons[j]["train_firing"] != 0)
        .count();
    assert_eq!(units("alive").len(), alive);
    assert!(alive < LATENTS);
    assert_eq!(
        found["shown"],
        format!("showing {alive} of {LATENTS} latents")
    );
}

#[test]
fn a_unit_page_says_where_the_input_it_was_opened_from_falls() {
    let Some(browser) = chromium() else { return };
    let data = &site().data;
    let fixture = &site().fixture;
    let j = 17;
    let latent = &data["layers"][2]["neurons"][j];
    let top: Vec<usize> = latent["top"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    // A test image that latent 17 does not rank among its top: its cluster is not given.
    let image = (0..TEST_IMAGES).find(|i| !top.contains(i)).unwrap();
    let found = probe(
        &browser,
        "arrival",
        &format!("input/{image}"),
        1200,
        &format!(
            "go('#ne/{j}').then(function () {{
      var note = document.getElementById('arrival');
      var bands = document.querySelectorAll('#activation-bands .band').length;
      var histogram = document.querySelectorAll('canvas[data-kind=histogram][data-drawn=true]').length;
      finish({{ cluster: note && note.getAttribute('data-cluster'), text: note && note.textContent, bands: bands, histogram: histogram }});
    }});"
        ),
    );
    // By brute force here: the embedding is W_enc row ⊙ (h - b_dec), and the input joins the
    // cluster of its most similar top example if that similarity passes the threshold.
    let images = fixture.test.images.select(Axis(0), &[image]);
    let embed = |x: &Array2<f32>| -> Vec<Vec<f32>> {
        let h = fixture.mlp.hidden(x.view());
        h.rows()
            .into_iter()
            .map(|row| {
                (0..HIDDEN)
                    .map(|k| fixture.ne.w_enc[[j, k]] * (row[k] - fixture.ne.b_dec[k]))
                    .collect()
            })
            .collect()
    };
    let own = &embed(&images)[0];
    let cosine = |a: &[f32], b: &[f32]| {
        let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        dot / (norm(a) * norm(b))
    };
    let tops = embed(&fixture.test.images.select(Axis(0), &top));
    let (best, similarity) = tops
        .iter()
        .map(|e| cosine(own, e))
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();
    let rank = latent["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["members"].as_array().unwrap().iter().any(|m| m == best))
        .unwrap();
    let expected = if similarity > 0.9 {
        rank.to_string()
    } else {
        "none".to_owned()
    };
    assert_eq!(found["cluster"], expected, "{found}");
    let text = found["text"].as_str().unwrap();
    assert!(text.contains(&format!("test image {image}")), "{text}");
    assert!(
        text.contains(&format!("test image {}", top[best])),
        "{text}"
    );
    assert_eq!(found["bands"], ne_explorer::BANDS as u64);
    assert_eq!(found["histogram"], 1);
}
