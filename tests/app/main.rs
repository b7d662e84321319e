//! The desktop app, end to end: the real WebKit window under Xvfb, driven
//! through tauri-driver, on libraries made with the same core the app uses.

mod accessibility;
mod datasets;
mod first_run;
mod fixity;
mod library;
mod market;
mod playback;
mod queue;
mod review;
mod settings;
mod stacks;
