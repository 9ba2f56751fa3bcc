//! Files of a run, each written atomically (a temporary file in the same folder, then a
//! rename), so an interrupted run never leaves a half-written file that looks complete; and the
//! list of them that a run's folder keeps (`MANIFEST_FILE`), so that a later run can tell the
//! files runs wrote from a user's and clear the former without touching the latter.
use anyhow::Context;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The list of every file runs wrote in a run's folder (paths relative to it, `/`-separated,
/// as JSON), kept up to date as each file is written.
pub const MANIFEST_FILE: &str = ".outputs.json";

/// A run folder whose written files are being listed, while a `RunFolder` holds its lock.
struct Recording {
    dir: PathBuf,
    /// What the folder's manifest lists.
    listed: BTreeSet<String>,
    /// The files the current run wrote or reused.
    this_run: BTreeSet<String>,
}

/// Every folder being recorded in this process. `write_atomic` is called from many places, deep
/// in the pipeline; a list it consults keeps them from all carrying the folder along.
static RECORDINGS: Mutex<Vec<Recording>> = Mutex::new(Vec::new());

fn recordings() -> std::sync::MutexGuard<'static, Vec<Recording>> {
    RECORDINGS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `dir`'s manifest, or `None` if it has none.
pub(crate) fn read_manifest(dir: &Path) -> anyhow::Result<Option<BTreeSet<String>>> {
    let path = dir.join(MANIFEST_FILE);
    match std::fs::read(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        read => {
            let bytes = read.with_context(|| format!("cannot read {}", path.display()))?;
            let files = serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not a list of files; remove it", path.display()))?;
            Ok(Some(files))
        }
    }
}

fn write_manifest(dir: &Path, files: &BTreeSet<String>) -> anyhow::Result<()> {
    let mut json = serde_json::to_vec_pretty(files).expect("a list of strings");
    json.push(b'\n');
    write_unrecorded(&dir.join(MANIFEST_FILE), &json)
}

/// Starts listing the files written in `dir`, which its manifest (`listed`) already lists.
pub(crate) fn start_recording(dir: &Path, listed: BTreeSet<String>) {
    recordings().push(Recording {
        dir: dir.to_owned(),
        listed,
        this_run: BTreeSet::new(),
    });
}

pub(crate) fn stop_recording(dir: &Path) {
    recordings().retain(|r| r.dir != dir);
}

/// What `dir`'s manifest lists, and which of those files the current run wrote or reused.
pub(crate) fn recorded(dir: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let recordings = recordings();
    let recording = recordings
        .iter()
        .find(|r| r.dir == dir)
        .expect("only a locked folder is asked for");
    (recording.listed.clone(), recording.this_run.clone())
}

/// Makes `dir`'s manifest list `listed`.
pub(crate) fn set_listed(dir: &Path, listed: BTreeSet<String>) -> anyhow::Result<()> {
    let mut recordings = recordings();
    let recording = recordings
        .iter_mut()
        .find(|r| r.dir == dir)
        .expect("only a locked folder is changed");
    recording.listed = listed;
    write_manifest(dir, &recording.listed)
}

/// Records that the file at `path` belongs to the current run of the folder it is in, if that
/// folder is being recorded: written by it, or reused by it. Updates the folder's manifest.
pub fn record(path: &Path) -> anyhow::Result<()> {
    let mut recordings = recordings();
    for recording in recordings.iter_mut() {
        let Ok(relative) = path.strip_prefix(&recording.dir) else {
            continue;
        };
        let relative: Vec<_> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect();
        let relative = relative.join("/");
        recording.this_run.insert(relative.clone());
        if recording.listed.insert(relative) {
            write_manifest(&recording.dir, &recording.listed)?;
        }
    }
    Ok(())
}

/// Where progress lines go (the CLI prints them to stderr).
pub type Log<'a> = &'a (dyn Fn(&str) + Sync);

/// Start of the name of every temporary file `write_atomic` writes, so that the leftovers of an
/// interrupted run can be told from anything else in the folder.
const PARTIAL_PREFIX: &str = ".partial-";
/// How many random letters and digits follow `PARTIAL_PREFIX` in a temporary file's name.
const PARTIAL_RANDOM_CHARS: usize = 6;

/// Writes `bytes` to `path` atomically, creating the parent folder if needed, and `record`s it.
/// The file gets the permissions any other tool's new file would get: read-write for all, less
/// the umask.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_unrecorded(path, bytes)?;
    record(path)
}

fn write_unrecorded(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut builder = tempfile::Builder::new();
    builder
        .prefix(PARTIAL_PREFIX)
        .rand_bytes(PARTIAL_RANDOM_CHARS);
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut file = builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.persist(path)
        .with_context(|| format!("cannot move the new {} in place", path.display()))?;
    Ok(())
}

/// Whether `name` is that of a temporary file `write_atomic` makes: the prefix, then exactly
/// `PARTIAL_RANDOM_CHARS` letters or digits.
fn is_partial_file_name(name: &str) -> bool {
    name.strip_prefix(PARTIAL_PREFIX).is_some_and(|random| {
        random.len() == PARTIAL_RANDOM_CHARS && random.chars().all(|c| c.is_ascii_alphanumeric())
    })
}

/// The sub-folders of a run's folder that runs write into (`seed-N/` and what is below it,
/// `curve/`, `imported/<key>/`), named by the folder they are in (`""` for the run's own).
fn is_output_folder(parent: &str, name: &str) -> bool {
    let is_seed = |name: &str| {
        name.strip_prefix("seed-")
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    };
    match parent {
        "" => is_seed(name) || name == "curve" || name == "imported",
        "saelens" | "imported" => true,
        seed if is_seed(seed) => ["curve", "saelens", "activations"].contains(&name),
        _ => false,
    }
}

/// Removes the temporary files that interrupted `write_atomic`s left in the run folder `dir` and
/// the sub-folders runs write into (links are not followed); returns how many. Nothing else is
/// touched: files of other names, and every file in folders of the user's. Only safe while
/// nothing else writes there, which the run's lock ensures.
pub fn remove_partial_files(dir: &Path) -> anyhow::Result<usize> {
    remove_partial_files_in(dir, "")
}

fn remove_partial_files_in(dir: &Path, name: &str) -> anyhow::Result<usize> {
    let mut removed = 0;
    let entries = match std::fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        entries => entries.with_context(|| format!("cannot list {}", dir.display()))?,
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let (path, kind) = (entry.path(), entry.file_type()?);
        let entry_name = entry.file_name().to_string_lossy().into_owned();
        if kind.is_dir() && is_output_folder(name, &entry_name) {
            removed += remove_partial_files_in(&path, &entry_name)?;
        } else if kind.is_file() && is_partial_file_name(&entry_name) {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_whole_files_and_leave_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/metrics.json");
        write_atomic(&path, b"first, longer content").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1, "only the final file remains");
    }

    /// Whatever the umask, a written file has the mode of a file created the ordinary way.
    #[cfg(unix)]
    #[test]
    fn written_files_respect_the_umask_like_any_other() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let ordinary = dir.path().join("ordinary");
        std::fs::File::create(&ordinary).unwrap();
        let ours = dir.path().join("metrics.json");
        write_atomic(&ours, b"{}").unwrap();
        assert_eq!(mode(&ours), mode(&ordinary));
        assert_ne!(
            mode(&ours) & 0o066,
            0,
            "not private to its owner: {:o}",
            mode(&ours)
        );
    }

    /// Only temporaries by the exact name `write_atomic` gives them, and only in the folders runs
    /// write: a user's `.partial-*` files, in the run folder or in folders of their own, stay.
    #[test]
    fn only_this_tools_temporaries_are_removed_and_only_where_it_writes() {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str| {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"x").unwrap()
        };
        let ours = [
            ".partial-abc123",
            "seed-0/.partial-Xy9Zq0",
            "seed-12/curve/.partial-aaaaaa",
            "seed-0/saelens/ne/.partial-bbbbbb",
            "imported/topk/.partial-cccccc",
        ];
        let theirs = [
            "seed-0/mlp.safetensors",
            "seed-0/partial-not-hidden",
            ".partial-draft.txt",
            "seed-0/.partial-xyz",
            "notes/.partial-abc123",
            "notes/deep/.partial-draft.txt",
            "seed-0/notes/.partial-abc123",
            "seed-x/.partial-abc123",
        ];
        for file in ours.iter().chain(&theirs) {
            write(file);
        }
        assert_eq!(remove_partial_files(dir.path()).unwrap(), ours.len());
        let mut left: Vec<_> = walk(dir.path());
        left.sort();
        let mut expected = theirs.to_vec();
        expected.sort();
        assert_eq!(left, expected);
        assert_eq!(remove_partial_files(&dir.path().join("absent")).unwrap(), 0);
    }

    fn walk(dir: &Path) -> Vec<String> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                files.extend(walk(&path).into_iter().map(|f| format!("{name}/{f}")));
            } else {
                files.push(path.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
        files
    }
}
