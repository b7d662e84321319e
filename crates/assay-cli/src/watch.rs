use std::path::PathBuf;
use std::process::ExitCode;

use assay_core::{Library, WatchEvent, WatchOptions};
use serde_json::json;

use crate::identity::Who;
use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// Folders to watch; they are remembered as the library's watched
    /// folders. With none, the remembered folders are watched.
    #[arg(value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Stop watching these folders (forget them) and exit.
    #[arg(long, value_name = "DIR", num_args = 1..)]
    forget: Vec<PathBuf>,
    /// One JSON object per event on stdout.
    #[arg(long)]
    json: bool,
    /// Milliseconds a burst of changes settles before it is imported.
    #[arg(long, default_value_t = 500)]
    debounce_ms: u64,
}

pub fn run(library: &Library, who: &Who, args: Args) -> anyhow::Result<ExitCode> {
    if !args.forget.is_empty() {
        for dir in &args.forget {
            if !library.remove_watched_folder(dir)? {
                eprintln!("not a watched folder: {}", dir.display());
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    for dir in &args.dirs {
        library.add_watched_folder(dir)?;
    }
    let folders = library.watched_folders()?;
    if folders.is_empty() {
        anyhow::bail!("no folder to watch: give one, e.g. `assay watch ~/Pictures`");
    }
    let options = WatchOptions {
        debounce: std::time::Duration::from_millis(args.debounce_ms),
        actor: who.actor(library)?,
        ..WatchOptions::default()
    };
    let mut failure = None;
    library.watch(&folders, &options, &mut |event| {
        let line = match event {
            WatchEvent::Ready { folders } => {
                json!({"event": "ready", "folders": folders.iter().map(|f| f.to_string_lossy()).collect::<Vec<_>>()})
            }
            WatchEvent::Imported(report) => json!({"event": "file", "file": report}),
            WatchEvent::Moved { from, to, asset_id } => {
                json!({"event": "moved", "from": from.to_string_lossy(), "to": to.to_string_lossy(), "asset_id": asset_id})
            }
            WatchEvent::Missing { path } => json!({"event": "missing", "path": path.to_string_lossy()}),
        };
        let result = if args.json {
            output::json_line(&line)
        } else {
            eprintln!("{}", human(&line));
            Ok(())
        };
        if let Err(e) = result {
            failure.get_or_insert(e);
        }
    })?;
    failure.map_or(Ok(ExitCode::SUCCESS), Err)
}

fn human(line: &serde_json::Value) -> String {
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    match line["event"].as_str() {
        Some("ready") => format!("watching {}", line["folders"]),
        Some("file") => format!(
            "{}: {}",
            s(&line["file"]["status"]),
            s(&line["file"]["path"])
        ),
        Some("moved") => format!("moved: {} -> {}", s(&line["from"]), s(&line["to"])),
        Some("missing") => format!("missing: {}", s(&line["path"])),
        _ => line.to_string(),
    }
}
