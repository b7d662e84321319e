//! How much memory the window's WebKit keeps. Its defaults suit a browser:
//! a large cache of decoded images and of pages left behind. The window is
//! one page that shows a few screens of thumbnails at a time out of
//! hundreds of thousands, and reads each from the library folder in well
//! under a millisecond, so keeping what scrolled away costs memory and
//! saves nothing (BENCHMARKS.md, "Desktop app").

use tauri::webview::PlatformWebview;

/// Asks WebKit to cache as a document viewer does (nothing kept once off
/// screen), with no page cache.
pub fn economise(webview: PlatformWebview) {
    #[cfg(target_os = "linux")]
    {
        use webkit2gtk::{CacheModel, SettingsExt, WebContextExt, WebViewExt};
        let view = webview.inner();
        if let Some(context) = view.context() {
            context.set_cache_model(CacheModel::DocumentViewer);
        }
        if let Some(settings) = WebViewExt::settings(&view) {
            settings.set_enable_page_cache(false);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = webview;
}
