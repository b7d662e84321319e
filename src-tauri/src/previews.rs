//! `assay://localhost/previews/…`: thumbnails and previews straight from the
//! library's `previews/` folder, so images never cross the command channel
//! as base64. Preview files are named by content, so they never change under
//! a name and the webview may cache them for good.

use std::path::{Component, Path, PathBuf};

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
    match std::fs::read(&file) {
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

#[cfg(test)]
mod tests {
    use super::resolve;
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
}
