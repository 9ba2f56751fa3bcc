//! Files of a run, each written atomically (a temporary file in the same folder, then a
//! rename), so an interrupted run never leaves a half-written file that looks complete.
use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// Start of the name of every temporary file `write_atomic` writes, so that the leftovers of an
/// interrupted run can be told from anything else in the folder.
const PARTIAL_PREFIX: &str = ".partial-";
/// How many random letters and digits follow `PARTIAL_PREFIX` in a temporary file's name.
const PARTIAL_RANDOM_CHARS: usize = 6;

/// Writes `bytes` to `path` atomically, creating the parent folder if needed. The file gets the
/// permissions any other tool's new file would get: read-write for all, less the umask.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
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
