//! The explorer opened in a real headless browser (Debian's `chromium`), as a person would open
//! it from disk. Asserts on the rendered DOM and the browser's console, and leaves screenshots in
//! `target/explorer-test/` to look at. Without chromium the tests fail when `CI=true` and are
//! skipped (with a plain message) otherwise.
mod common;

use common::{Fixture, HIDDEN, LATENTS, read_page_data};
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
    let site = site();
    let url = format!(
        "file://{}#{fragment}",
        site.dir
            .join("index.html")
            .canonicalize()
            .unwrap()
            .display()
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
            .find("id=\"js-errors\"")
            .expect("the error box is in the page");
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
        for kind in ["weights", "logits", "cdf", "colour-bar"] {
            assert_eq!(
                self.count(&format!("data-kind=\"{kind}\"")),
                1,
                "one {kind} picture"
            );
        }
        let top = neuron["top"].as_array().unwrap().len();
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
                .starts_with(&format!("{size} ("))
        );
    }
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
    assert!(
        page.dom.contains(&format!("href=\"#standard/{j}\"")),
        "switch to the standard SAE"
    );
    assert!(
        page.dom.contains(&format!("href=\"#ne/{j}\"")),
        "switch to the NE SAE"
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
    assert!(page.dom.contains("id=\"switch-standard\""));
    assert!(page.dom.contains("href=\"#standard/17\""));
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
