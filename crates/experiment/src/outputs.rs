//! Files of a run, each written atomically (a temporary file in the same folder, then a
//! rename), so an interrupted run never leaves a half-written file that looks complete.
use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// Where progress lines go (the CLI prints them to stderr).
pub type Log<'a> = &'a (dyn Fn(&str) + Sync);

/// Start of the name of every temporary file `write_atomic` writes, so that the leftovers of an
/// interrupted run can be told from anything else in the folder.
const PARTIAL_PREFIX: &str = ".partial-";

/// Writes `bytes` to `path` atomically, creating the parent folder if needed. The file gets the
/// permissions any other tool's new file would get: read-write for all, less the umask.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(PARTIAL_PREFIX);
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

/// Removes the temporary files that interrupted `write_atomic`s left in `dir` and the folders
/// below it (links are not followed); returns how many. Only safe while nothing else writes
/// there, which the run's lock ensures.
pub fn remove_partial_files(dir: &Path) -> anyhow::Result<usize> {
    let mut removed = 0;
    let entries = match std::fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        entries => entries.with_context(|| format!("cannot list {}", dir.display()))?,
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let (path, kind) = (entry.path(), entry.file_type()?);
        if kind.is_dir() {
            removed += remove_partial_files(&path)?;
        } else if kind.is_file()
            && entry
                .file_name()
                .to_string_lossy()
                .starts_with(PARTIAL_PREFIX)
        {
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

    #[test]
    fn partial_files_are_removed_at_any_depth_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let seed = dir.path().join("seed-0");
        std::fs::create_dir_all(&seed).unwrap();
        let write = |path: &Path| std::fs::write(path, b"x").unwrap();
        write(&dir.path().join(".partial-abc123"));
        write(&seed.join(".partial-xyz"));
        write(&seed.join("mlp.safetensors"));
        write(&seed.join("partial-not-hidden"));
        assert_eq!(remove_partial_files(dir.path()).unwrap(), 2);
        let mut left: Vec<_> = walk(dir.path());
        left.sort();
        assert_eq!(
            left,
            ["seed-0/mlp.safetensors", "seed-0/partial-not-hidden"]
        );
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
