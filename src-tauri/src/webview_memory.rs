//! How much memory the window's WebKit keeps. Its defaults suit a browser:
//! a large cache of decoded images and of pages left behind. The window is
//! one page that shows a few screens of thumbnails at a time out of
//! hundreds of thousands, and reads each from the library folder in well
//! under a millisecond, so keeping what scrolled away costs memory and
//! saves nothing (BENCHMARKS.md, "Desktop app").

use tauri::webview::PlatformWebview;

/// Sets what WebKit reads from the environment when it starts, unless the
/// user set it (or its opposite) already. Runs before anything starts another
/// thread (the environment is process-wide and not safe to change beside a
/// thread reading it), so first thing in `run`; the web processes WebKit
/// starts inherit it.
///
/// - Compositing off (`WEBKIT_DISABLE_COMPOSITING_MODE`): WebKit paints the
///   page directly instead of compositing layers through OpenGL, which
///   without a GPU (a virtual machine, Xvfb) is Mesa's software renderer and
///   about a third of the web process's memory, and which a page of
///   thumbnails and text does not need. The variable rather than the view's
///   hardware-acceleration policy: WebKit reads it before the first view
///   exists, so the web process starts painting directly instead of
///   switching a live page over after tauri made the view. (Neither is why
///   the end-to-end tests once hung with compositing off: WebKitWebDriver's
///   screenshot waits for the page's next rendering update, which a still
///   page without compositing never makes; `App::screenshot` in the tests
///   keeps the page rendering while it takes one.)
/// - JavaScriptCore's small-heap mode (`JSC_forceMiniVMMode`): the heap grows
///   by about a quarter between collections instead of doubling while small.
///   Scrolling the grid makes garbage quickly (a page of items per screen,
///   read and dropped); collected sooner, it never piles up: the peak while
///   scrolling 100,000 assets fell by some 40 MiB for no measurable cost in
///   launch or scrolling (BENCHMARKS.md, "Desktop app"). WebKit offers no
///   memory-pressure settings short of a `WebContext` made before the
///   window, which wry makes itself.
/// - GDK's OpenGL off (`GDK_GL=disable`), when compositing is: the first GTK
///   app on an X display probes GLX for its visuals (and leaves the answer
///   on the root window for the next), which loads Mesa and its LLVM into
///   the app's process for good, some 30 MiB of the window's memory without
///   a GPU (always so under Xvfb, where every window is a display's first).
///   Painting without compositing, the app's process only draws the web
///   process's bitmaps and needs no OpenGL; the web process paints through
///   EGL, which this does not touch.
pub fn before_webkit_starts() {
    #[cfg(target_os = "linux")]
    {
        unless_chosen(
            "WEBKIT_DISABLE_COMPOSITING_MODE",
            "1",
            "WEBKIT_FORCE_COMPOSITING_MODE",
        );
        unless_chosen("JSC_forceMiniVMMode", "true", "JSC_forceMiniVMMode");
        if compositing_off() {
            unless_chosen("GDK_GL", "disable", "GDK_GL");
            without_egl_driver();
        }
    }
}

/// Whether WebKit will paint without compositing, as set above or by the user.
#[cfg(target_os = "linux")]
fn compositing_off() -> bool {
    std::env::var_os("WEBKIT_FORCE_COMPOSITING_MODE").is_none()
        && std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_some_and(|v| v != "0")
}

/// Keeps EGL drivers out of the app's own process when compositing is off
/// (see above: it needs no OpenGL). WebKit still opens an EGL display there
/// at times (under WebDriver, always), which loads Mesa and its LLVM as
/// GDK's probe does. libglvnd reads its list of drivers once, on the first
/// EGL call: made here with an empty list, then the list is given back to
/// the environment, so the web processes WebKit starts later (which cannot
/// run without an EGL display) load their driver as before. A user who
/// chose drivers (`__EGL_VENDOR_LIBRARY_FILENAMES` or `_DIRS`) keeps them.
#[cfg(target_os = "linux")]
fn without_egl_driver() {
    const FILES: &str = "__EGL_VENDOR_LIBRARY_FILENAMES";
    if std::env::var_os(FILES).is_some() || std::env::var_os("__EGL_VENDOR_LIBRARY_DIRS").is_some()
    {
        return;
    }
    std::env::set_var(FILES, "/nonexistent/assay-no-egl-driver.json");
    let egl = khronos_egl::Instance::new(khronos_egl::Static);
    // Any call that lists the drivers; with none, there are no client extensions.
    let _ = egl.query_string(None, khronos_egl::EXTENSIONS);
    std::env::remove_var(FILES);
}

/// Sets `name` to `value` when neither it nor `opposite` is set.
#[cfg(target_os = "linux")]
fn unless_chosen(name: &str, value: &str, opposite: &str) {
    if std::env::var_os(name).is_none() && std::env::var_os(opposite).is_none() {
        std::env::set_var(name, value);
    }
}

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
