//! Permissions of what Plugboard keeps on disk: the data directory is the owner's alone (0700),
//! and so are the SQLite database, its `-wal` and `-shm` files and the master key (0600). They
//! hold sealed credentials, API key hashes and the audit trail, so no other local user should
//! read them. Ones found looser (made by an older version, or by hand) are tightened at start-up
//! with a warning.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// Mode of directories Plugboard creates or tightens.
pub const DIR_MODE: u32 = 0o700;

/// Mode of files Plugboard creates or tightens.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) with [`DIR_MODE`]. An existing `dir` that is Plugboard's
/// own (`owned`: the data directory) and open to others is tightened, with a warning; other
/// existing directories (the parent of a database placed elsewhere) are left alone, and so is
/// a shared directory with the sticky bit such as `/tmp`.
pub fn ensure_dir(dir: &Path, owned: bool) -> anyhow::Result<()> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    if !dir.exists() {
        create_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
    } else if owned {
        tighten(dir, DIR_MODE)?;
    }
    Ok(())
}

/// Prepares a SQLite database at `path` before it is opened: its directory (see
/// [`ensure_dir`]) and the file itself, created empty with [`FILE_MODE`] (SQLite gives the
/// `-wal` and `-shm` files it makes the database's mode); existing files are tightened.
pub fn prepare_sqlite(path: &Path, data_dir: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        ensure_dir(dir, dir == data_dir)?;
    }
    if !path.exists() {
        create_file(path).with_context(|| format!("creating {}", path.display()))?;
    }
    tighten_sqlite(path)
}

/// Tightens the database and its `-wal` and `-shm` files, those that exist (again after
/// opening: SQLite keeps the mode of a `-shm` file it finds).
pub fn tighten_sqlite(path: &Path) -> anyhow::Result<()> {
    for file in sqlite_files(path) {
        if file.exists() {
            tighten(&file, FILE_MODE)?;
        }
    }
    Ok(())
}

/// Tightens `path` (the master key file) to [`FILE_MODE`] if it exists and is open to others.
pub fn tighten_file(path: &Path) -> anyhow::Result<()> {
    if path.exists() {
        tighten(path, FILE_MODE)?;
    }
    Ok(())
}

/// The database file and its `-wal` and `-shm` companions.
fn sqlite_files(path: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [path.to_path_buf(), with("-wal"), with("-shm")]
}

#[cfg(unix)]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
}

#[cfg(not(unix))]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn create_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(path)
        .map(drop)
}

#[cfg(not(unix))]
fn create_file(path: &Path) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map(drop)
}

/// Removes the group's and others' permissions from `path` if it has any, with a warning.
#[cfg(unix)]
fn tighten(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let metadata =
        std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    let current = metadata.permissions().mode() & 0o7777;
    // A sticky directory is shared by design (`/tmp`): it is not Plugboard's to close.
    if current & 0o077 == 0 || (metadata.is_dir() && current & 0o1000 != 0) {
        return Ok(());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("restricting the permissions of {}", path.display()))?;
    tracing::warn!(
        path = %path.display(),
        was = format!("{current:o}"),
        now = format!("{mode:o}"),
        "{} was readable by other users: restricted it to its owner",
        path.display()
    );
    Ok(())
}

#[cfg(not(unix))]
fn tighten(_: &Path, _: u32) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o7777
    }

    #[test]
    fn new_files_are_the_owners_and_loose_ones_are_tightened() {
        let root = tempfile::tempdir().expect("tempdir");
        let data = root.path().join("a/b");
        let db = data.join("plugboard.db");
        prepare_sqlite(&db, &data).expect("prepare");
        assert_eq!(mode(&data), DIR_MODE);
        assert_eq!(mode(&db), FILE_MODE);

        for (path, loose) in [(&data, 0o755), (&db, 0o644)] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(loose)).expect("chmod");
        }
        let wal = data.join("plugboard.db-wal");
        std::fs::write(&wal, b"").expect("wal");
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        prepare_sqlite(&db, &data).expect("prepare");
        assert_eq!(
            [mode(&data), mode(&db), mode(&wal)],
            [DIR_MODE, FILE_MODE, FILE_MODE]
        );
    }

    #[test]
    fn a_directory_that_is_not_plugboards_is_left_alone() {
        let root = tempfile::tempdir().expect("tempdir");
        let shared = root.path().join("shared");
        std::fs::create_dir(&shared).expect("mkdir");
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        prepare_sqlite(&shared.join("x.db"), root.path()).expect("prepare");
        assert_eq!(mode(&shared), 0o755);
        assert_eq!(mode(&shared.join("x.db")), FILE_MODE);

        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
        ensure_dir(&shared, true).expect("sticky");
        assert_eq!(mode(&shared), 0o1777);
    }
}
