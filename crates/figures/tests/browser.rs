//! The sample figures opened in headless Chromium, as a person would open them: no text may
//! overlap other text or leave the picture, measured with the browser's own fonts. Writes the
//! SVGs and screenshots at 100% zoom to `target/figures-test/` to look at. Without chromium the
//! test fails when `CI=true` and is skipped (with a plain message) otherwise.
mod common;

use common::{X_LABEL, sample_panels, sample_references, sample_tradeoff};
use ne_figures::{curve_figure, tradeoff_figure};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `target/figures-test`.
fn artefacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target folder")
        .join("figures-test");
    std::fs::create_dir_all(&dir).expect("the artefact folder is made");
    dir
}

/// Whether `chromium` runs; when it does not, says the test is skipped (a failure when `CI=true`).
fn chromium_runs() -> bool {
    let runs = Command::new("chromium")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !runs {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium not found, and CI=true requires the browser test: apt-get install chromium"
        );
        println!("SKIPPED: chromium not found");
    }
    runs
}

/// Runs headless chromium with a fresh profile on `url` with extra `args`; returns stdout.
fn chromium(url: &str, args: &[String]) -> String {
    let profile = tempfile::tempdir().expect("a fresh profile folder");
    let output = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .output()
        .expect("chromium starts");
    assert!(
        output.status.success(),
        "chromium failed on {url}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("chromium's output is UTF-8")
}

/// Lists, into `<pre id="problems">`, every `<text>` that pokes out of the SVG and every pair
/// of texts whose boxes overlap by more than a sliver (line boxes include some leading).
const CHECK_SCRIPT: &str = r#"
const svg = document.querySelector('svg');
const frame = svg.getBoundingClientRect();
const texts = [...svg.querySelectorAll('text')]
  .map(t => ({ text: t.textContent.trim(), box: t.getBoundingClientRect() }))
  .filter(t => t.text !== '');
const problems = [];
for (const t of texts) {
  const b = t.box;
  if (b.left < frame.left || b.top < frame.top || b.right > frame.right || b.bottom > frame.bottom)
    problems.push(`outside the picture: "${t.text}"`);
}
for (let i = 0; i < texts.length; i++) {
  for (let j = i + 1; j < texts.length; j++) {
    const a = texts[i].box, b = texts[j].box;
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if (w > 1 && h > 4) problems.push(`overlap: "${texts[i].text}" and "${texts[j].text}"`);
  }
}
const out = document.createElement('pre');
out.id = 'problems';
out.textContent = JSON.stringify({ texts: texts.length, problems });
document.body.appendChild(out);
"#;

/// Writes `svg` as `<name>.svg`, screenshots it at its natural size as `<name>.png`, and
/// returns what [`CHECK_SCRIPT`] found, as `(number of texts, problems)`.
fn open_in_chromium(name: &str, svg: &str) -> (usize, Vec<String>) {
    let dir = artefacts();
    let svg_path = dir.join(format!("{name}.svg"));
    std::fs::write(&svg_path, svg).expect("the SVG is written");
    let document = roxmltree::Document::parse(svg).expect("well-formed SVG");
    let size = |attribute| {
        document
            .root_element()
            .attribute(attribute)
            .expect("a size")
    };
    let png = dir.join(format!("{name}.png"));
    let _ = std::fs::remove_file(&png);
    chromium(
        &format!("file://{}", svg_path.display()),
        &[
            format!("--window-size={},{}", size("width"), size("height")),
            format!("--screenshot={}", png.display()),
        ],
    );
    let bytes = std::fs::read(&png).expect("the screenshot is written");
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG screenshot");

    let page = dir.join(format!("{name}-check.html"));
    let html = format!(
        "<!doctype html><meta charset=\"utf-8\"><body style=\"margin:0\">{svg}<script>{CHECK_SCRIPT}</script></body>"
    );
    std::fs::write(&page, html).expect("the check page is written");
    let dom = chromium(
        &format!("file://{}", page.display()),
        &["--dump-dom".to_owned()],
    );
    let start =
        dom.find("<pre id=\"problems\">").expect("the check ran") + "<pre id=\"problems\">".len();
    let end = start + dom[start..].find("</pre>").expect("the check's end");
    // The DOM is serialised as HTML: a text node escapes only these three.
    let found: serde_json::Value = serde_json::from_str(
        &dom[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
    .expect("the check's JSON");
    let texts = found["texts"].as_u64().expect("a text count") as usize;
    let problems = found["problems"]
        .as_array()
        .expect("a list of problems")
        .iter()
        .map(|problem| problem.as_str().unwrap_or_default().to_owned())
        .collect();
    (texts, problems)
}

#[test]
fn curve_figure_reads_cleanly_in_chromium() {
    if !chromium_runs() {
        return;
    }
    let svg = curve_figure(&sample_panels(), X_LABEL, "Metrics across λ_NE (3 seeds)")
        .expect("the figure is drawn");
    let (texts, problems) = open_in_chromium("curve", &svg);
    // 10 panels × (title, 2 axis labels, 7 λ ticks, ≥ 3 value ticks) at the least.
    assert!(texts > 10 * 13, "only {texts} texts were laid out");
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn tradeoff_figure_reads_cleanly_in_chromium() {
    if !chromium_runs() {
        return;
    }
    let svg = tradeoff_figure(
        &sample_tradeoff(),
        "median mean embedding distance (cosine)",
        "accuracy loss (%)",
        "Accuracy loss against mean embedding distance",
        &sample_references(),
    )
    .expect("the figure is drawn");
    let (texts, problems) = open_in_chromium("tradeoff", &svg);
    assert!(texts > 7 + 2 + 4, "only {texts} texts were laid out");
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn a_lone_panel_comparing_two_inits_reads_cleanly_in_chromium() {
    if !chromium_runs() {
        return;
    }
    // The dead-latent study's shape: one metric, two initialisations, two published values,
    // in a figure one panel wide, so both legends wrap.
    let dead = sample_panels().swap_remove(3);
    assert_eq!(dead.bands.len(), 2);
    let svg = curve_figure(&[dead], X_LABEL, "Dead latents by initialisation")
        .expect("the figure is drawn");
    let (texts, problems) = open_in_chromium("dead-latents", &svg);
    assert!(texts > 13, "only {texts} texts were laid out");
    assert!(problems.is_empty(), "{problems:#?}");
}
