//! Output files that are never half-written: every file a command writes goes to a temporary
//! file beside its destination (same folder, so the rename stays on one file system) and is
//! renamed over the destination only once it is complete. An interrupted run leaves the old
//! file, or none, and at worst a `.NAME.partial-PID` file that the next run overwrites.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// A file being written: [`AtomicFile::commit`] puts it in place; dropped uncommitted, the
/// temporary file is removed and the destination is untouched.
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
}

fn temporary(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

impl AtomicFile {
    /// Starts writing `path` (its folder must exist).
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        let tmp = temporary(path);
        let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
            tmp,
            out: Some(BufWriter::new(file)),
        })
    }

    /// Flushes, syncs and renames the temporary file over the destination.
    pub fn commit(mut self) -> anyhow::Result<()> {
        let out = self.out.take().context("output already committed")?;
        let file = out
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("writing {}", self.path.display()))?;
        file.sync_all()
            .with_context(|| format!("writing {}", self.path.display()))?;
        std::fs::rename(&self.tmp, &self.path)
            .with_context(|| format!("moving {} to {}", self.tmp.display(), self.path.display()))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.out {
            Some(out) => out.write(buf),
            None => Err(std::io::Error::other("output already committed")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.as_mut().map_or(Ok(()), Write::flush)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename (for callers with their own
/// error types).
pub fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temporary(path);
    let written = File::create(&tmp)
        .and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: impl AsRef<[u8]>) -> anyhow::Result<()> {
    replace_file(path, bytes.as_ref()).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("texcnn-output-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn an_uncommitted_file_leaves_the_old_one_and_no_temporary() {
        let dir = dir("drop");
        let path = dir.join("out.tsv");
        std::fs::write(&path, "old\n").unwrap();
        {
            let mut file = AtomicFile::create(&path).unwrap();
            writeln!(file, "half of the new").unwrap();
            // Dropped here, as when a command fails half-way.
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);

        let mut file = AtomicFile::create(&path).unwrap();
        writeln!(file, "new").unwrap();
        file.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        write_atomic(&path, b"again").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "again");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
