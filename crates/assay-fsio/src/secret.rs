//! Reading a secret file (a key, a token): never through a symbolic link,
//! which could point a reader at a file someone else controls, and never
//! left readable by others. A secret found with looser permissions than
//! 0600 (copied in by hand, restored from a backup) is tightened as it is
//! read, so it stops being readable by others from then on.

use std::fs::OpenOptions;
use std::io::{self, Read};
use std::path::Path;

/// The bytes of the secret at `path`, which must not be a symbolic link;
/// on Unix its mode is made 0600 if it allowed anyone else in.
pub fn read_secret(path: &Path) -> io::Result<Vec<u8>> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
    let mut file = options.open(path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return io::Error::new(
                io::ErrorKind::InvalidInput,
                "a secret is never read through a symbolic link",
            );
        }
        e
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_loose_secret_is_tightened_and_a_link_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, b"amk_secret").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(read_secret(&path).unwrap(), b"amk_secret");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);

        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let err = read_secret(&link).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
    }
}
