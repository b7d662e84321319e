//! `assay ls` and `assay show`.

use std::process::ExitCode;

use assay_core::{AssetRecord, Filter, Library};

use crate::output;

#[derive(clap::Args)]
pub struct LsArgs {
    /// One JSON record per line.
    #[arg(long)]
    json: bool,
    /// A media type (`image/jpeg`) or family (`image`).
    #[arg(long)]
    media_type: Option<String>,
    /// Captured on or after this date (`2024`, `2024-05-01`, ...).
    #[arg(long)]
    since: Option<String>,
    /// Captured on or before this date (`2024-05` includes all of May).
    #[arg(long)]
    until: Option<String>,
    /// Camera make contains this (case-insensitive).
    #[arg(long)]
    make: Option<String>,
    /// Title, a path or EXIF text contains this (case-insensitive).
    #[arg(long)]
    text: Option<String>,
    /// Exactly this license tag.
    #[arg(long)]
    license: Option<String>,
    /// Exactly this workflow state (draft, pending, approved, rejected, quarantined).
    #[arg(long)]
    state: Option<String>,
    /// Linked to this creator profile.
    #[arg(long)]
    creator: Option<String>,
}

#[derive(clap::Args)]
pub struct ShowArgs {
    /// An asset id (or a unique prefix), a checksum, or a file path.
    asset: String,
    /// The record as JSON (valid against schemas/asset.schema.json).
    #[arg(long)]
    json: bool,
}

pub fn ls(library: &Library, args: LsArgs) -> anyhow::Result<ExitCode> {
    let filter = Filter {
        media_type: args.media_type,
        since: args.since,
        until: args.until,
        make: args.make,
        text: args.text,
        license_tag: args.license,
        state: args.state,
        creator: args.creator,
    };
    let records = library.list(&filter)?;
    for r in &records {
        if args.json {
            output::json_line(r)?;
        } else {
            println!(
                "{}  {:<25}  {:<20}  {:>11}  {:<24}  {}",
                &r.asset_id[..8.min(r.asset_id.len())],
                r.capture_date.as_deref().unwrap_or("-"),
                r.media_type,
                match (r.width, r.height) {
                    (Some(w), Some(h)) => format!("{w}x{h}"),
                    _ => "-".to_owned(),
                },
                r.original_source.as_deref().unwrap_or("-"),
                r.locations.first().map_or("-", |l| l.path.as_str()),
            );
        }
    }
    if !args.json {
        eprintln!("{} assets", records.len());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(library: &Library, args: ShowArgs) -> anyhow::Result<ExitCode> {
    let record = library.record(&args.asset)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&record)?);
    } else {
        print_record(&record);
    }
    Ok(ExitCode::SUCCESS)
}

/// A video's or audio file's container facts, a line each.
fn print_media(m: &assay_core::Media) {
    if let Some(d) = m.duration {
        println!("duration        {d:.3} s");
    }
    if let Some(c) = &m.container {
        println!("container       {c}");
    }
    if let Some(v) = &m.video {
        let rate = v
            .frame_rate
            .map(|f| format!(", {f} fps"))
            .unwrap_or_default();
        println!("video           {}{rate}", v.codec);
    }
    if let Some(a) = &m.audio {
        let rate = a
            .sample_rate
            .map(|r| format!(", {r} Hz"))
            .unwrap_or_default();
        let channels = a.channels.map(|c| format!(", {c} ch")).unwrap_or_default();
        println!("audio           {}{rate}{channels}", a.codec);
    }
    if let Some(g) = &m.gps {
        if let (Some(lat), Some(lon)) = (g.latitude, g.longitude) {
            println!("recorded at     {lat}, {lon}");
        }
    }
}

fn print_record(r: &AssetRecord) {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    println!("asset_id        {}", r.asset_id);
    println!("title           {}", opt(&r.title));
    println!("checksum        {}", r.checksum);
    println!("size            {} bytes", r.size_bytes);
    println!("media type      {}", r.media_type);
    if let (Some(w), Some(h)) = (r.width, r.height) {
        println!("dimensions      {w} x {h}");
    }
    if let Some(rows) = r.row_count {
        println!("rows            {rows}");
    }
    println!(
        "captured        {} ({})",
        opt(&r.capture_date),
        opt(&r.capture_date_source)
    );
    println!("source          {}", opt(&r.original_source));
    if let Some(m) = &r.media {
        print_media(m);
    }
    for l in &r.locations {
        println!("location        {} [{}]", l.path, l.status.as_str());
    }
    println!("thumbnail       {}", opt(&r.previews.thumbnail));
    println!("preview         {}", opt(&r.previews.preview));
    for w in &r.warnings {
        println!("warning         {w}");
    }
    if let Some(c) = &r.content_credentials {
        let state = serde_json::to_value(c.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        println!("Content Credentials");
        println!("  state           {state}");
        for code in &c.failures {
            println!("  failed          {code}");
        }
        println!("  generator       {}", opt(&c.claim_generator));
        println!(
            "  signer          {} ({})",
            opt(&c.certificate_subject),
            opt(&c.signer)
        );
        println!("  signed at       {}", opt(&c.signed_at));
        for a in &c.actions {
            println!(
                "  action          {}{}",
                a.action,
                a.digital_source_type
                    .as_deref()
                    .map(|t| format!(" ({})", t.rsplit('/').next().unwrap_or(t)))
                    .unwrap_or_default()
            );
        }
        for i in &c.ingredients {
            println!(
                "  ingredient      {} [{}]",
                opt(&i.title),
                opt(&i.relationship)
            );
        }
        for t in &c.training_mining {
            println!(
                "  {:<15} {}{}",
                t.entry.trim_start_matches("cawg."),
                t.permission,
                t.constraint_info
                    .as_deref()
                    .map(|i| format!(": {i}"))
                    .unwrap_or_default()
            );
        }
        if c.model_made() {
            println!("  note            made by a trained model, wholly or in part");
        }
    }
    if let Some(exif) = &r.exif {
        println!("EXIF");
        for (tag, value) in &exif.raw {
            println!("  {tag:<34} {value}");
        }
    }
}
