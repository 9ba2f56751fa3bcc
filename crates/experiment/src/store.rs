//! A run's folder and the models saved in it. One run at a time may use a folder (a lock file,
//! held through the operating system's file lock, so that it is released however the run
//! ends). Every model file carries a stamp of what made it: the config's digest, the training
//! data, the seed and the model's own name. A model is reused only when its stamp is exactly the
//! current run's, and is checked against the data and the other models before anything uses it.
use crate::outputs::{self, Log, remove_partial_files, write_atomic};
use crate::{Config, DataConfig};
use anyhow::{Context, bail};
use ne_mnist::{CLASSES, IMAGE_PIXELS, Mnist};
use ne_models::{Mlp, ModelError, Sae};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Name of the lock file in a run's folder.
pub const LOCK_FILE: &str = ".lock";

/// The lock on a run's folder, held until it is dropped. Dropping removes the lock file; if the
/// process dies instead, the operating system releases the lock, and the file left behind is
/// recognised as stale by the next run.
/// While it is held, every file written in the folder is listed in its manifest
/// (`outputs::MANIFEST_FILE`).
#[derive(Debug)]
pub struct RunFolder {
    dir: PathBuf,
    lock_path: PathBuf,
    _lock: File,
}

impl RunFolder {
    /// Creates `dir` if needed and takes its lock, or fails naming the process that holds it.
    /// Then removes the temporary files that interrupted runs left there, which only a holder
    /// of the lock may do.
    pub fn open(dir: &Path, log: Log) -> anyhow::Result<Self> {
        if std::fs::metadata(dir).is_ok_and(|meta| !meta.is_dir()) {
            bail!(
                "{}: not a folder; name a folder (new or not) to write the run into",
                dir.display()
            );
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let lock_path = dir.join(LOCK_FILE);
        // A lock file is removed by the run that releases it, so it may vanish between being
        // opened and being locked; a lock taken on a file that is no longer in place is retried.
        for _ in 0..3 {
            let mut lock = open_lock_file(&lock_path)?;
            match lock.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => bail!(
                    "{} is in use by another run ({}); wait for it to end or choose another \
                     output folder",
                    dir.display(),
                    holder(&mut lock)
                ),
                Err(TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("cannot lock {}", lock_path.display()));
                }
            }
            if !is_at(&lock, &lock_path) {
                continue;
            }
            let previous = holder(&mut lock);
            if previous != UNKNOWN_HOLDER {
                log(&format!(
                    "{}: the run of {previous} ended without releasing it; taking it over",
                    lock_path.display()
                ));
            }
            lock.set_len(0)
                .and_then(|()| lock.rewind())
                .and_then(|()| write!(lock, "{}", std::process::id()))
                .with_context(|| format!("cannot write {}", lock_path.display()))?;
            let removed = remove_partial_files(dir)?;
            if removed > 0 {
                log(&format!(
                    "{}: removed {removed} temporary file(s) an interrupted run left",
                    dir.display()
                ));
            }
            let listed = outputs::read_manifest(dir)?.unwrap_or_default();
            outputs::start_recording(dir, listed);
            return Ok(Self {
                dir: dir.to_owned(),
                lock_path,
                _lock: lock,
            });
        }
        bail!("cannot lock {}: it keeps changing", lock_path.display())
    }
}

impl RunFolder {
    /// Makes way for a new run, so that the folder never holds the outputs of two runs: removes
    /// every file earlier runs wrote here but, when `resume` names the new run's seeds, their
    /// models and training records (which are reused only with this run's stamp), and the SAEs
    /// `evaluate` brought in (which carry the config and seed they were measured against).
    /// Files runs did not write are never touched. A folder with outputs but no manifest (made
    /// before runs kept one) is refused, unless `force`, which clears them too.
    pub fn start_run(&self, resume: Option<&[u64]>, force: bool, log: Log) -> anyhow::Result<()> {
        let (mut listed, _) = outputs::recorded(&self.dir);
        if outputs::read_manifest(&self.dir)?.is_none() {
            let found = unlisted_outputs(&self.dir)?;
            if !found.is_empty() && !force {
                bail!(
                    "{} holds the outputs of an earlier run ({}{}) but no list of the files runs \
                     wrote there ({}), made before runs kept one; choose another output folder, \
                     or pass --force to clear metrics.json, report.md, curve/, explorer/ and \
                     seed-N/ first",
                    self.dir.display(),
                    found[..found.len().min(3)].join(", "),
                    if found.len() > 3 { ", ..." } else { "" },
                    outputs::MANIFEST_FILE
                );
            }
            listed.extend(found);
        }
        let keep = |file: &str| {
            file.starts_with(&format!("{}/", crate::interop::IMPORTED_DIR))
                || resume.is_some_and(|seeds| is_model_of(file, seeds))
        };
        let (kept, stale): (BTreeSet<String>, BTreeSet<String>) =
            listed.into_iter().partition(|f| keep(f));
        self.remove(&stale, log)?;
        outputs::set_listed(&self.dir, kept)
    }

    /// Ends a run that `start_run` began: removes the files earlier runs left that this one
    /// neither wrote nor reused (models of seeds or λ_NE it no longer has).
    pub fn finish_run(&self, log: Log) -> anyhow::Result<()> {
        let (listed, this_run) = outputs::recorded(&self.dir);
        let imported = format!("{}/", crate::interop::IMPORTED_DIR);
        let (kept, stale): (BTreeSet<String>, BTreeSet<String>) = listed
            .into_iter()
            .partition(|f| this_run.contains(f) || f.starts_with(&imported));
        self.remove(&stale, log)?;
        outputs::set_listed(&self.dir, kept)
    }

    /// Removes `files` (relative to the folder) and then the folders they leave empty.
    fn remove(&self, files: &BTreeSet<String>, log: Log) -> anyhow::Result<()> {
        let mut removed = 0;
        for file in files {
            let path = self.dir.join(file);
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                result => result.with_context(|| format!("cannot remove {}", path.display()))?,
            }
            removed += 1;
            for parent in path.ancestors().skip(1) {
                if parent == self.dir || std::fs::remove_dir(parent).is_err() {
                    break;
                }
            }
        }
        if removed > 0 {
            log(&format!(
                "{}: removed {removed} file(s) an earlier run wrote that this run does not \
                 write",
                self.dir.display()
            ));
        }
        Ok(())
    }
}

/// Whether `file` (relative to a run's folder) is a model or training record of one of `seeds`:
/// `seed-N/<name>` or `seed-N/curve/<name>`.
fn is_model_of(file: &str, seeds: &[u64]) -> bool {
    let parts: Vec<&str> = file.split('/').collect();
    let seed = parts[0]
        .strip_prefix("seed-")
        .and_then(|n| n.parse::<u64>().ok());
    let in_place = parts.len() == 2 || (parts.len() == 3 && parts[1] == "curve");
    let name = parts[parts.len() - 1];
    seed.is_some_and(|s| seeds.contains(&s))
        && in_place
        && (name.ends_with(".safetensors") || name.ends_with(".training.json"))
}

/// The files under the entries of `dir` that runs write (metrics.json, report.md, curve/,
/// explorer/, seed-N/), relative to it; links are not followed.
fn unlisted_outputs(dir: &Path) -> anyhow::Result<Vec<String>> {
    fn walk(path: &Path, relative: &str, found: &mut Vec<String>) -> anyhow::Result<()> {
        let kind = std::fs::symlink_metadata(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .file_type();
        if kind.is_dir() {
            let entries = std::fs::read_dir(path)
                .with_context(|| format!("cannot list {}", path.display()))?;
            let mut names = Vec::new();
            for entry in entries {
                let entry = entry.with_context(|| format!("cannot list {}", path.display()))?;
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
            names.sort();
            for name in names {
                walk(&path.join(&name), &format!("{relative}/{name}"), found)?;
            }
        } else if kind.is_file() {
            found.push(relative.to_owned());
        }
        Ok(())
    }
    let mut found = Vec::new();
    for name in ["metrics.json", "report.md", "curve", "explorer"] {
        if std::fs::symlink_metadata(dir.join(name)).is_ok() {
            walk(&dir.join(name), name, &mut found)?;
        }
    }
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    let mut seeds = Vec::new();
    for entry in entries {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let is_seed = name
            .strip_prefix("seed-")
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if is_seed {
            seeds.push(name);
        }
    }
    seeds.sort();
    for name in seeds {
        walk(&dir.join(&name), &name, &mut found)?;
    }
    Ok(found)
}

impl Drop for RunFolder {
    fn drop(&mut self) {
        outputs::stop_recording(&self.dir);
        // Removed while still locked; the lock itself goes when the file is closed just after.
        let _ = std::fs::remove_file(&self.lock_path);
    }
}

/// Opens (creating if needed) the lock file at `path` for reading and writing, without
/// following a link: a lock file that is a link, or anything but a regular file, is refused, so
/// that writing the process id can never change a file elsewhere.
fn open_lock_file(path: &Path) -> anyhow::Result<File> {
    let refuse = || {
        anyhow::anyhow!(
            "{}: not a regular file (a link, folder or device?); refusing to use it as the \
             folder's lock. Remove it if no run is using the folder",
            path.display()
        )
    };
    let mut options = File::options();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        libc::O_NOFOLLOW | libc::O_NONBLOCK,
    );
    let lock = match options.open(path) {
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(refuse()),
        opened => opened.with_context(|| format!("cannot open {}", path.display()))?,
    };
    let is_file = lock
        .metadata()
        .with_context(|| format!("cannot read {}", path.display()))?
        .is_file();
    if !is_file {
        return Err(refuse());
    }
    Ok(lock)
}

const UNKNOWN_HOLDER: &str = "a process that left no id";

/// Who holds (or held) a lock file, from the process id written in it.
fn holder(lock: &mut File) -> String {
    let mut text = String::new();
    let _ = lock.rewind().and_then(|()| lock.read_to_string(&mut text));
    match text.trim().parse::<u32>() {
        Ok(pid) => format!("process {pid}"),
        Err(_) => UNKNOWN_HOLDER.to_owned(),
    }
}

/// Whether the open `file` is the one at `path` now.
fn is_at(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        // Elsewhere an open file cannot be removed, so the one at `path` is the one opened.
        let _ = (file, path);
        true
    }
}

/// Where a seed's models come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelSource {
    /// Train every model afresh.
    Train,
    /// Reuse the models an earlier run of the same config saved; train the others.
    Resume,
    /// Only the models a finished run of the same config saved; train nothing, write nothing.
    Saved,
}

/// A model that can be saved as safetensors.
pub trait SavedModel: Sized {
    fn to_safetensors(&self) -> Vec<u8>;
    fn from_safetensors(bytes: &[u8]) -> Result<Self, ModelError>;
}

impl SavedModel for Mlp {
    fn to_safetensors(&self) -> Vec<u8> {
        Mlp::to_safetensors(self)
    }
    fn from_safetensors(bytes: &[u8]) -> Result<Self, ModelError> {
        Mlp::from_safetensors(bytes)
    }
}

impl SavedModel for Sae {
    fn to_safetensors(&self) -> Vec<u8> {
        Sae::to_safetensors(self)
    }
    fn from_safetensors(bytes: &[u8]) -> Result<Self, ModelError> {
        Sae::from_safetensors(bytes)
    }
}

/// What made a saved model, kept in its safetensors metadata under `STAMP_KEY`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// `Config::digest` of the run's config.
    pub config: String,
    /// `data_id` of the examples it was trained and measured on.
    pub data: String,
    pub seed: u64,
    /// The model's name, which is also its file's: `mlp`, `sae-ne`, `curve/sae-ne-lambda-30`...
    pub model: String,
    /// SHA-256 of the record its training left (`<name>.training.json`), for models that keep
    /// one: the record written just before the model is the one that belongs to it.
    pub record: Option<String>,
    /// SHA-256 of the model's tensors as saved without the stamp (its `to_safetensors`),
    /// checked at load, so that a model damaged or edited since it was saved is not reused.
    pub weights: String,
}

/// The metadata key of the stamp. One key holding JSON, because safetensors writes several
/// metadata keys in no fixed order, and the same model must give the same bytes.
const STAMP_KEY: &str = "ne_experiment";

impl Stamp {
    /// `bytes` (a safetensors file) with this stamp in its metadata.
    pub fn apply(&self, bytes: &[u8]) -> Vec<u8> {
        let file = safetensors::SafeTensors::deserialize(bytes)
            .expect("the models write valid safetensors");
        let json = serde_json::to_string(self).expect("a stamp is plain data");
        let metadata = HashMap::from([(STAMP_KEY.to_owned(), json)]);
        safetensors::serialize(file.tensors(), Some(metadata))
            .expect("tensors read from valid safetensors serialise again")
    }

    /// The stamp of a safetensors file, if it has one.
    pub fn of(bytes: &[u8]) -> Option<Self> {
        let (_, metadata) = safetensors::SafeTensors::read_metadata(bytes).ok()?;
        let json = metadata.metadata().as_ref()?.get(STAMP_KEY)?;
        serde_json::from_str(json).ok()
    }

    /// Whether both stamps name the same config, data, seed and model (records aside).
    fn same_origin(&self, other: &Stamp) -> bool {
        (&self.config, &self.data, self.seed, &self.model)
            == (&other.config, &other.data, other.seed, &other.model)
    }

    /// In words, digests cut to their first 12 digits.
    fn describe(&self) -> String {
        let short = |digest: &str| digest.chars().take(12).collect::<String>();
        format!(
            "config {} and data {} for seed {} as {}",
            short(&self.config),
            short(&self.data),
            self.seed,
            self.model
        )
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// The examples models are trained and measured on, for their stamps. The shipped MNIST is
/// fixed by its checksums and by the config's limits, which its digest covers; examples from
/// another folder, which may change between runs, are identified by the SHA-256 of both splits'
/// images and labels: a model is measured on the test split, so a run read back (`explore
/// --from`, `evaluate`) must see the test images its metrics were measured on.
pub fn data_id(config: &DataConfig, data: &Mnist) -> String {
    if config.dir.as_os_str().is_empty() {
        return "shipped".to_owned();
    }
    let mut hash = Sha256::new();
    for split in [&data.train, &data.test] {
        hash.update((split.len() as u64).to_le_bytes());
        for row in split.pixels.rows() {
            hash.update(row.as_slice().expect("pixel rows are contiguous"));
        }
        hash.update(split.labels.as_slice().expect("labels are contiguous"));
    }
    format!("{:x}", hash.finalize())
}

/// The model files of one seed of a run, in `<out>/seed-<seed>/`.
pub struct SeedStore<'a> {
    dir: PathBuf,
    config_digest: String,
    data_id: String,
    seed: u64,
    source: ModelSource,
    log: Log<'a>,
}

impl<'a> SeedStore<'a> {
    pub fn new(
        dir: PathBuf,
        config: &Config,
        data: &Mnist,
        seed: u64,
        source: ModelSource,
        log: Log<'a>,
    ) -> Self {
        Self {
            dir,
            config_digest: config.digest(),
            data_id: data_id(&config.data, data),
            seed,
            source,
            log,
        }
    }

    /// The model `name` (file `<name>.safetensors`): the saved one when the source allows it,
    /// its stamp is this run's and it passes `check`; else trained and saved at once, so that an
    /// interrupted run keeps every model it finished. With `ModelSource::Saved`, a missing or
    /// unusable file is an error naming it.
    pub fn model<M: SavedModel>(
        &self,
        name: &str,
        check: impl FnOnce(&M, &Path) -> anyhow::Result<()>,
        train: impl FnOnce() -> anyhow::Result<M>,
    ) -> anyhow::Result<M> {
        let (model, _) = self.stored(name, false, check, || Ok((train()?, None)))?;
        Ok(model)
    }

    /// Like `model`, for a model whose training also leaves a record (`<name>.training.json`,
    /// written just before the model): the saved model is reused only with its own record.
    pub fn model_with_record<M: SavedModel, R: Serialize + DeserializeOwned>(
        &self,
        name: &str,
        check: impl FnOnce(&M, &Path) -> anyhow::Result<()>,
        train: impl FnOnce() -> anyhow::Result<(M, R)>,
    ) -> anyhow::Result<(M, R)> {
        let (model, record) = self.stored(name, true, check, || {
            let (model, record) = train()?;
            Ok((model, Some(serde_json::to_vec(&record)?)))
        })?;
        let record = record.expect("a model with a record comes with its record");
        let path = self.record_path(name);
        let record = serde_json::from_slice(&record)
            .with_context(|| format!("{} is not a training record", path.display()))?;
        Ok((model, record))
    }

    fn record_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.training.json"))
    }

    /// The model `name` and, when `with_record`, its record's bytes: saved or trained.
    fn stored<M: SavedModel>(
        &self,
        name: &str,
        with_record: bool,
        check: impl FnOnce(&M, &Path) -> anyhow::Result<()>,
        train: impl FnOnce() -> anyhow::Result<(M, Option<Vec<u8>>)>,
    ) -> anyhow::Result<(M, Option<Vec<u8>>)> {
        let path = self.dir.join(format!("{name}.safetensors"));
        let mut stamp = Stamp {
            config: self.config_digest.clone(),
            data: self.data_id.clone(),
            seed: self.seed,
            model: name.to_owned(),
            record: None,
            weights: String::new(),
        };
        if self.source != ModelSource::Train {
            match self.saved(&path, &stamp, with_record, check) {
                Ok(Some(saved)) => {
                    outputs::record(&path)?;
                    if with_record {
                        outputs::record(&self.record_path(name))?;
                    }
                    if self.source == ModelSource::Resume {
                        (self.log)(&format!("resuming: loaded {}", path.display()));
                    }
                    return Ok(saved);
                }
                Ok(None) if self.source == ModelSource::Saved => {
                    bail!("{} is missing: that run did not finish", path.display())
                }
                Ok(None) => {}
                Err(error) if self.source == ModelSource::Saved => return Err(error),
                Err(error) => (self.log)(&format!(
                    "seed {}: not reusing {error:#}; training it again",
                    self.seed
                )),
            }
        }
        let (model, record) = train()?;
        if let Some(record) = &record {
            write_atomic(&self.record_path(name), record)?;
            stamp.record = Some(sha256_hex(record));
        }
        let bytes = model.to_safetensors();
        stamp.weights = sha256_hex(&bytes);
        write_atomic(&path, &stamp.apply(&bytes))?;
        Ok((model, record))
    }

    /// The saved model at `path` with its record, `None` if there is none, or why it cannot be
    /// used.
    fn saved<M: SavedModel>(
        &self,
        path: &Path,
        expected: &Stamp,
        with_record: bool,
        check: impl FnOnce(&M, &Path) -> anyhow::Result<()>,
    ) -> anyhow::Result<Option<(M, Option<Vec<u8>>)>> {
        let Some(bytes) = read_if_present(path)? else {
            return Ok(None);
        };
        let stamp = match Stamp::of(&bytes) {
            Some(found) if found.same_origin(expected) => found,
            Some(found) => bail!(
                "{}: it was made by {}, not by this run's {}",
                path.display(),
                found.describe(),
                expected.describe()
            ),
            None => bail!(
                "{}: it has no stamp of the run that made it (made before models were stamped, \
                 damaged, or not written by a run); run `cargo xtask reproduce` again",
                path.display()
            ),
        };
        let model = M::from_safetensors(&bytes)
            .with_context(|| format!("{}: cannot load", path.display()))?;
        if sha256_hex(&model.to_safetensors()) != stamp.weights {
            bail!(
                "{}: its weights are not those saved with its stamp (damaged or edited since)",
                path.display()
            );
        }
        check(&model, path)?;
        if !with_record {
            return Ok(Some((model, None)));
        }
        let record_path = self.record_path(&expected.model);
        let record = read_if_present(&record_path)?;
        match (&record, &stamp.record) {
            (Some(record), Some(digest)) if sha256_hex(record) == *digest => {
                Ok(Some((model, Some(record.clone()))))
            }
            (None, _) => bail!(
                "{}: its training record {} is missing",
                path.display(),
                record_path.display()
            ),
            _ => bail!(
                "{}: {} is not the record of its training",
                path.display(),
                record_path.display()
            ),
        }
    }
}

/// The bytes of `path`, or `None` if there is no such file.
fn read_if_present(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        read => {
            Ok(Some(read.with_context(|| {
                format!("cannot read {}", path.display())
            })?))
        }
    }
}

/// Checks a loaded MLP against the data and the config: an image's pixels in, `[mlp] hidden`
/// units, one output per digit.
pub fn check_mlp(config: &Config, mlp: &Mlp, path: &Path) -> anyhow::Result<()> {
    mlp.check_sizes(IMAGE_PIXELS, config.mlp.hidden, CLASSES)
        .with_context(|| {
            format!(
                "{} does not fit this run, whose MLP maps {IMAGE_PIXELS} pixels to [mlp] hidden \
                 = {} units and those to {CLASSES} digits",
                path.display(),
                config.mlp.hidden
            )
        })
}

/// Checks a loaded SAE against the config and the MLP whose `mlp_hidden` units it reads.
pub fn check_sae(config: &Config, mlp_hidden: usize, sae: &Sae, path: &Path) -> anyhow::Result<()> {
    sae.check_sizes(mlp_hidden, config.sae.latents)
        .with_context(|| {
            format!(
                "{} does not fit this run, whose SAE reads the MLP's {mlp_hidden} hidden units \
                 into [sae] latents = {} latents",
                path.display(),
                config.sae.latents
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};
    use ne_mnist::{Split, normalise};
    use std::sync::Mutex;

    fn tiny_mnist() -> Mnist {
        let split = |n: usize| {
            let pixels = Array2::from_shape_fn((n, IMAGE_PIXELS), |(i, j)| ((i + j) % 256) as u8);
            Split {
                images: normalise(pixels.view()),
                pixels,
                labels: Array1::from_shape_fn(n, |i| (i % 10) as u8),
            }
        };
        Mnist {
            train: split(20),
            test: split(10),
        }
    }

    fn sae(scale: f32) -> Sae {
        let matrix = |rows, cols| {
            Array2::from_shape_fn((rows, cols), |(i, j)| scale * (i * cols + j) as f32)
        };
        Sae {
            w_enc: matrix(32, 8),
            b_enc: Array1::zeros(32),
            w_dec: matrix(8, 32),
            b_dec: Array1::zeros(8),
        }
    }

    /// A model whose stamp is intact but whose weights changed after it was saved is not
    /// reused: resuming trains it again and says why; reading a finished run refuses it.
    #[test]
    fn a_model_damaged_under_an_intact_stamp_is_not_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (config, data) = (Config::paper(), tiny_mnist());
        let lines = Mutex::new(Vec::new());
        let log = |line: &str| lines.lock().unwrap().push(line.to_owned());
        let store = |source| SeedStore::new(dir.path().to_owned(), &config, &data, 0, source, &log);
        let accept = |_: &Sae, _: &Path| Ok(());
        let saved = store(ModelSource::Train)
            .model("sae-ne", accept, || Ok(sae(1.0)))
            .unwrap();
        let reused = store(ModelSource::Resume)
            .model("sae-ne", accept, || Ok(sae(2.0)))
            .unwrap();
        assert_eq!(reused, saved, "an intact model is reused");

        let path = dir.path().join("sae-ne.safetensors");
        let bytes = std::fs::read(&path).unwrap();
        let stamp = Stamp::of(&bytes).unwrap();
        let mut damaged = Sae::from_safetensors(&bytes).unwrap();
        damaged.w_dec.row_mut(0).fill(0.5);
        std::fs::write(&path, stamp.apply(&damaged.to_safetensors())).unwrap();
        let error = format!(
            "{:#}",
            store(ModelSource::Saved)
                .model("sae-ne", accept, || Ok(sae(2.0)))
                .unwrap_err()
        );
        assert!(
            error.contains("sae-ne.safetensors") && error.contains("damaged"),
            "{error}"
        );
        let retrained = store(ModelSource::Resume)
            .model("sae-ne", accept, || Ok(sae(2.0)))
            .unwrap();
        assert_eq!(retrained, sae(2.0));
        let lines = lines.into_inner().unwrap();
        assert!(
            lines
                .iter()
                .any(|l| l.contains("not reusing") && l.contains("damaged")),
            "{lines:#?}"
        );
    }

    /// A lock file that is a link is refused, and neither the file it points to nor a missing
    /// target is written.
    #[cfg(unix)]
    #[test]
    fn a_linked_lock_file_is_refused_and_its_target_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let notes = dir.path().join("notes.txt");
        std::fs::write(&notes, "my notes").unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let quiet = |_: &str| {};
        for target in [notes.clone(), dir.path().join("absent")] {
            let lock = out.join(LOCK_FILE);
            let _ = std::fs::remove_file(&lock);
            std::os::unix::fs::symlink(&target, &lock).unwrap();
            let error = format!("{:#}", RunFolder::open(&out, &quiet).unwrap_err());
            assert!(error.contains("not a regular file"), "{error}");
            assert!(std::fs::symlink_metadata(&lock).unwrap().is_symlink());
        }
        assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes");
        assert!(!dir.path().join("absent").exists());
        // A file where the run's folder should be is named as such.
        let error = format!("{:#}", RunFolder::open(&notes, &quiet).unwrap_err());
        assert!(error.contains("notes.txt: not a folder"), "{error}");
        // A folder in the lock's place is refused too.
        std::fs::remove_file(out.join(LOCK_FILE)).unwrap();
        std::fs::create_dir(out.join(LOCK_FILE)).unwrap();
        assert!(RunFolder::open(&out, &quiet).is_err());
    }

    /// Models of examples from a folder of the user's are tied to both splits: once a test
    /// label changes, a finished run's models are refused (their metrics were measured on the
    /// old test set) and resuming trains them again.
    #[test]
    fn models_are_tied_to_the_test_data_too() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::paper();
        config.data.dir = PathBuf::from("my-digits");
        let mut data = tiny_mnist();
        let quiet = |_: &str| {};
        let accept = |_: &Sae, _: &Path| Ok(());
        let saved = |data: &Mnist, source| {
            SeedStore::new(dir.path().to_owned(), &config, data, 0, source, &quiet).model(
                "sae-ne",
                accept,
                || Ok(sae(1.0)),
            )
        };
        saved(&data, ModelSource::Train).unwrap();
        let id = data_id(&config.data, &data);
        data.test.labels[3] = (data.test.labels[3] + 1) % 10;
        assert_ne!(data_id(&config.data, &data), id);
        let error = saved(&data, ModelSource::Saved).unwrap_err();
        assert!(
            format!("{error:#}").contains("not by this run's"),
            "{error:#}"
        );
    }
}
