//! The Assay desktop shell: registers the commands, the preview protocol and
//! the state, and starts the window. Every rule lives in `assay-core`.

mod background_previews;
mod commands;
mod error;
mod live;
mod media_server;
mod previews;
mod progress;
mod reveal;
mod startup;
mod state;
mod watcher;
mod webview_memory;

use std::path::PathBuf;

use assay_core::Library;
use tauri::Manager;
use tauri_specta::{collect_commands, collect_events, Builder};

pub use error::AppError;
use state::AppState;

/// The command list, shared by the app and the bindings export.
pub fn specta_builder() -> Builder<tauri::Wry> {
    Builder::<tauri::Wry>::new()
        .commands(collect_commands![
            commands::library::startup,
            commands::library::library_info,
            commands::library::open_library,
            commands::library::add_user,
            commands::library::set_up,
            commands::library::unlock,
            commands::library::change_passphrase,
            commands::library::lock,
            commands::assets::grid_page,
            commands::assets::grid_count,
            commands::assets::asset,
            commands::assets::provenance,
            commands::assets::show_in_folder,
            commands::assets::prepare_playback,
            commands::duplicates::duplicates,
            commands::duplicates::stack_assets,
            commands::duplicates::unstack,
            commands::duplicates::keep_apart,
            commands::duplicates::mark_duplicates,
            commands::import::import_paths,
            commands::import::cancel_job,
            commands::fixity::check_files,
            commands::review::edit_assets,
            commands::review::undo_last_edit,
            commands::review::undo_last_decision,
            commands::review::submit,
            commands::review::approve,
            commands::review::reject,
            commands::review::release,
            commands::review::permits,
            commands::review::queue,
            commands::review::license_tags,
            commands::review::editable_fields,
            commands::fields::field_specs,
            commands::fields::check_field,
            commands::export::export_manifest,
            commands::export::export_xmp,
            commands::export::export_audit,
            commands::export::build_dataset,
            commands::report::report,
            commands::settings::watched_folders,
            commands::settings::add_watched_folder,
            commands::settings::remove_watched_folder,
            commands::settings::users,
            commands::settings::creators,
            commands::settings::add_creator,
            commands::settings::roles,
            commands::market::markets,
            commands::market::connect_market,
            commands::market::market_activity,
            commands::market::sync_market,
        ])
        .events(collect_events![live::LibraryChanged, watcher::WatchFailed])
        // Sizes and counts are u64 in the core; libraries stay far below 2^53.
        .dangerously_cast_bigints_to_number()
        // One type per Rust type: the front end builds and reads the same shapes.
        .disable_serde_phases()
}

/// Writes the TypeScript bindings to `path` (the committed copy lives in
/// `ui/src/lib/bindings.ts`; a test fails when it drifts).
pub fn export_bindings(path: &std::path::Path) -> Result<(), AppError> {
    specta_builder()
        .export(
            specta_typescript::Typescript::default()
                .header("// Generated from the Rust commands by `cargo run -p assay-app --bin assay-bindings`. Do not edit.\n"),
            path,
        )
        .map_err(|e| AppError::new("bindings", e.to_string()))
}

pub fn run() -> Result<(), AppError> {
    webview_memory::before_webkit_starts();
    let config = startup::config_dir();
    let start = startup::choose(
        std::env::var_os("ASSAY_LIBRARY").map(PathBuf::from),
        config.as_deref().and_then(startup::remembered),
        Library::default_root()?,
    );
    let builder = specta_builder();
    tauri::Builder::default()
        // The folder pickers; nothing else of the plugin is allowed (capabilities/default.json).
        .plugin(tauri_plugin_dialog::init())
        .manage(AppState::new(start, config))
        .invoke_handler(builder.invoke_handler())
        .setup(move |app| {
            builder.mount_events(app);
            live::start(app.handle().clone());
            background_previews::start(app.handle().clone());
            // Without it the window still browses; only playback says why not.
            match media_server::start(app.handle().clone()) {
                Ok(media) => {
                    app.manage(media);
                }
                Err(e) => eprintln!("assay-app: {}", e.message),
            }
            watcher::restart(app.handle());
            for window in app.webview_windows().values() {
                // Only memory is at stake: a window that refuses still works.
                if let Err(e) = window.with_webview(webview_memory::economise) {
                    eprintln!("assay-app: WebKit's cache settings: {e}");
                }
            }
            Ok(())
        })
        .register_asynchronous_uri_scheme_protocol("assay", |ctx, request, responder| {
            let library = ctx.app_handle().state::<AppState>().library();
            let path = request.uri().path().to_owned();
            // A page of thumbnails is some 200 requests: the blocking pool
            // reads them, never the event loop and never a thread each.
            tauri::async_runtime::spawn_blocking(move || {
                responder.respond(match library {
                    Ok(library) => previews::respond(library.root(), &path),
                    Err(_) => previews::not_found(),
                })
            });
        })
        .run(tauri::generate_context!())
        .map_err(|e| AppError::new("tauri", e.to_string()))
}
