//! `assay://localhost/previews/…`: thumbnails and previews straight from the
//! library's `previews/` folder, so images never cross the command channel
//! as base64. Preview files are named by content, so they never change under
//! a name and the webview may cache them for good.
//!
//! A grid cell asks for its thumbnail's cell-size rendition
//! (`HEX-thumb-cell.jpg` beside `HEX-thumb.jpg`, `assay_preview::cell_name`):
//! made here from the thumbnail on first request and kept beside it, so
//! every asset sharing a thumbnail (a catalog grown by copies included) and
//! every later launch reads it as a file. The webview keeps each picture it
//! shows decoded at the picture's own size, so the smaller rendition is what
//! keeps a scrolled grid's memory down (BENCHMARKS.md, "Desktop app").

use std::path::{Component, Path, PathBuf};

use assay_core::preview;
use tauri::http::{header, Response, StatusCode};

/// The file under `root/previews/` that a request path names, or `None` for
/// anything else (other folders, `..`, absolute paths).
pub fn resolve(root: &Path, request_path: &str) -> Option<PathBuf> {
    let relative = Path::new(request_path.trim_start_matches('/'));
    let mut parts = relative.components();
    if parts.next() != Some(Component::Normal("previews".as_ref())) {
        return None;
    }
    if !parts.all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(root.join(relative))
}

fn status(code: StatusCode) -> Response<Vec<u8>> {
    let mut response = Response::new(Vec::new());
    *response.status_mut() = code;
    response
}

/// The answer while no library is open.
pub fn not_found() -> Response<Vec<u8>> {
    status(StatusCode::NOT_FOUND)
}

pub fn respond(root: &Path, request_path: &str) -> Response<Vec<u8>> {
    let Some(file) = resolve(root, request_path) else {
        return status(StatusCode::FORBIDDEN);
    };
    match std::fs::read(&file).or_else(|e| cell_rendition(&file).ok_or(e)) {
        Ok(bytes) => {
            let mut response = Response::new(bytes);
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("image/jpeg"),
            );
            headers.insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
            response
        }
        Err(_) => status(StatusCode::NOT_FOUND),
    }
}

/// The cell rendition `file` names, made from the thumbnail beside it and
/// kept for the next request; `None` when `file` names no rendition or its
/// thumbnail is missing. A thumbnail that cannot be scaled is served as it
/// is (the cell scales it), and a rendition that cannot be kept (a
/// read-only library) is served all the same.
fn cell_rendition(file: &Path) -> Option<Vec<u8>> {
    let name = file.file_name()?.to_str()?;
    let thumbnail = std::fs::read(file.with_file_name(preview::thumbnail_of_cell(name)?)).ok()?;
    let Ok(cell) = preview::render_cell(&thumbnail) else {
        return Some(thumbnail);
    };
    // Written aside and renamed, so a reader never sees half a file; two
    // requests racing write the same bytes. A file left by a crash is an
    // orphan the next import sweeps.
    let aside = file.with_file_name(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    if std::fs::write(&aside, &cell)
        .and_then(|()| std::fs::rename(&aside, file))
        .is_err()
    {
        let _ = std::fs::remove_file(&aside);
    }
    Some(cell)
}

#[cfg(test)]
mod tests {
    use super::{resolve, respond};
    use assay_core::preview;
    use std::path::Path;

    #[test]
    fn only_files_under_previews_are_served() {
        let root = Path::new("/lib");
        assert_eq!(
            resolve(root, "/previews/ab/cd.jpg"),
            Some(root.join("previews/ab/cd.jpg"))
        );
        assert_eq!(resolve(root, "/library.db"), None);
        assert_eq!(resolve(root, "/previews/../library.db"), None);
        assert_eq!(resolve(root, "//etc/passwd"), None);
        assert_eq!(resolve(root, "/keys/ada.key"), None);
    }

    /// A camera photo's thumbnail, as import makes it.
    fn thumbnail() -> Vec<u8> {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/files");
        let bytes = std::fs::read(corpus.join("exif-py/jpg/hdr/canon_hdr_YES.jpg")).unwrap();
        let decoded = preview::decode(&bytes, "image/jpeg").unwrap();
        preview::render_thumbnail(decoded, 1).unwrap()
    }

    fn size(jpeg: &[u8]) -> (u32, u32) {
        let decoded = preview::decode(jpeg, "image/jpeg").unwrap();
        (decoded.full_width, decoded.full_height)
    }

    #[test]
    fn a_cell_rendition_is_made_on_first_request_and_kept() {
        let root = tempfile::tempdir().unwrap();
        let shard = root.path().join("previews/ab");
        std::fs::create_dir_all(&shard).unwrap();
        let thumb = thumbnail();
        std::fs::write(shard.join("ab12-thumb.jpg"), &thumb).unwrap();
        let (tw, th) = size(&thumb);
        assert_eq!(tw.max(th), preview::THUMBNAIL_EDGE);

        let first = respond(root.path(), "/previews/ab/ab12-thumb-cell.jpg");
        assert_eq!(first.status(), 200);
        let (w, h) = size(first.body());
        assert!(
            w <= preview::CELL_BOX.0 && h <= preview::CELL_BOX.1,
            "{w}x{h}"
        );
        assert!(
            w == preview::CELL_BOX.0 || h == preview::CELL_BOX.1,
            "{w}x{h} fills the cell"
        );
        let kept = std::fs::read(shard.join("ab12-thumb-cell.jpg")).unwrap();
        assert_eq!(&kept, first.body());
        let entries = std::fs::read_dir(&shard).unwrap().count();
        assert_eq!(entries, 2, "nothing but the thumbnail and its rendition");

        // The thumbnail itself is served as it was.
        let whole = respond(root.path(), "/previews/ab/ab12-thumb.jpg");
        assert_eq!(whole.body(), &thumb);
    }

    #[test]
    fn a_rendition_of_nothing_is_not_found() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("previews/ab")).unwrap();
        for path in [
            "/previews/ab/none-thumb-cell.jpg",
            "/previews/ab/none-thumb.jpg",
            "/previews/ab/none-thumb-cell-cell.jpg",
        ] {
            assert_eq!(respond(root.path(), path).status(), 404, "{path}");
        }
        assert_eq!(respond(root.path(), "/keys/a-cell.jpg").status(), 403);
    }

    #[test]
    fn a_damaged_thumbnail_is_served_as_it_is() {
        let root = tempfile::tempdir().unwrap();
        let shard = root.path().join("previews/ab");
        std::fs::create_dir_all(&shard).unwrap();
        std::fs::write(shard.join("x-thumb.jpg"), b"not a jpeg").unwrap();
        let answer = respond(root.path(), "/previews/ab/x-thumb-cell.jpg");
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.body(), b"not a jpeg");
        assert!(!shard.join("x-thumb-cell.jpg").exists());
    }
}
