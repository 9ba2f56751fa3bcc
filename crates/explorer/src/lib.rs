//! A static, self-contained neuron explorer written from an experiment's results.
//!
//! `write_explorer` writes a folder that a person opens from disk (`index.html`, no server):
//! a start page with the run's tables and a sortable index of every MLP hidden neuron and SAE
//! latent; one view per neuron (`index.html#mlp/5`, `#standard/17`, `#ne/17`) with its
//! pixel-space weights, top-activating images, logit effects, activation distribution, feature
//! clusters and a map of its embeddings, linked to related units of the other layers; and one
//! view per input (`#input/N` for test image N, or a digit drawn by hand) that runs it through
//! the MLP and every SAE in the page. The page is plain HTML, CSS and JavaScript drawing on
//! canvases; its data comes in two script files (`data.js`, `pixels.js`) because `file://`
//! pages cannot fetch. The test images travel gzip-compressed (base64) and the page inflates
//! them with the browser's own `DecompressionStream`.

mod input;
mod links;
mod map;
mod page_data;
mod prepare;

pub use input::{ExplorerError, ExplorerInput, MLP_KEY, SaeInput, check_sae_key};
pub use page_data::{
    BAND_EXAMPLES, BANDS, CLUSTERS_SHOWN, HISTOGRAM_BINS, NEAREST_LINKED, OVERLAP_EXAMPLES,
    WEIGHT_LINKED,
};

use page_data::build;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file of `assets/` as (name, text).
macro_rules! asset {
    ($name:literal) => {
        ($name, include_str!(concat!("../assets/", $name)))
    };
}

/// The page's static files, kept as real files in `assets/`. The scripts are plain files that
/// `index.html` loads in order (see `explorer-core.js`).
const STATIC_FILES: [(&str, &str); 8] = [
    asset!("explorer.css"),
    asset!("explorer-core.js"),
    asset!("explorer-draw.js"),
    asset!("explorer-start.js"),
    asset!("explorer-unit.js"),
    asset!("explorer-input.js"),
    asset!("explorer.js"),
    asset!("index.html"),
];

/// Writes the explorer into `dir` (created if missing) and returns the path of its
/// `index.html`. Each file is written under a temporary name in `dir` and renamed into place,
/// data first and `index.html` last, so a reader never sees a half-written file.
pub fn write_explorer(dir: &Path, input: &ExplorerInput) -> anyhow::Result<PathBuf> {
    input.validate()?;
    let io_error = |error| ExplorerError::Io {
        path: dir.to_owned(),
        error,
    };
    std::fs::create_dir_all(dir).map_err(io_error)?;
    remove_leftovers(dir).map_err(io_error)?;
    let data = build(input);

    write_atomically(dir, "pixels.js", |out| {
        let pixels: Vec<u8> = input.test.pixels.iter().copied().collect();
        // A fixed header (no name, no time stamp), so the same images give the same bytes.
        let mut gzip = flate2::GzBuilder::new().write(Vec::new(), flate2::Compression::fast());
        gzip.write_all(&pixels)?;
        let compressed = gzip.finish()?;
        out.write_all(b"window.NE_PIXELS_GZIP = \"")?;
        out.write_all(BASE64.encode(compressed).as_bytes())?;
        out.write_all(b"\";\n")
    })?;
    write_atomically(dir, "data.js", |out| {
        out.write_all(b"window.NE_DATA = ")?;
        serde_json::to_writer(&mut *out, &data)?;
        out.write_all(b";\n")
    })?;
    for (name, text) in STATIC_FILES {
        write_atomically(dir, name, |out| out.write_all(text.as_bytes()))?;
    }
    Ok(dir.join("index.html"))
}

/// Every file the explorer writes.
pub fn file_names() -> impl Iterator<Item = &'static str> {
    ["pixels.js", "data.js"]
        .into_iter()
        .chain(STATIC_FILES.iter().map(|(name, _)| *name))
}

/// The temporary file `name` is written to before it is renamed into place.
fn temporary_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(".{name}.{}.tmp", std::process::id()))
}

/// Removes the temporary files that an interrupted earlier write left in `dir` (any process's:
/// callers make sure that no other write of the same folder is under way).
fn remove_leftovers(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ours = file_names().any(|file| name.starts_with(&format!(".{file}.")));
        if ours && name.ends_with(".tmp") && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Writes `name` in `dir` through a temporary file in the same folder, then renames it; on
/// failure the temporary file is removed and the old `name`, if any, is left as it was.
fn write_atomically(
    dir: &Path,
    name: &str,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), ExplorerError> {
    let path = dir.join(name);
    let temporary = temporary_path(dir, name);
    let written = std::fs::File::create(&temporary).and_then(|file| {
        let mut out = std::io::BufWriter::new(file);
        fill(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&temporary, &path)
    });
    written.map_err(|error| {
        // Best effort: the error that matters is the one reported.
        let _ = std::fs::remove_file(&temporary);
        ExplorerError::Io { path, error }
    })
}
