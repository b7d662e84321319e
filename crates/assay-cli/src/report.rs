//! `assay report`: the library's readiness figures.

use std::process::ExitCode;

use assay_core::Library;

use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(library: &Library, args: Args) -> anyhow::Result<ExitCode> {
    let r = library.report()?;
    if args.json {
        output::json_line(&r)?;
        return Ok(ExitCode::SUCCESS);
    }
    let counts = |map: &std::collections::BTreeMap<String, u64>| {
        let parts: Vec<String> = map.iter().map(|(k, n)| format!("{k} {n}")).collect();
        if parts.is_empty() {
            "-".to_owned()
        } else {
            parts.join(", ")
        }
    };
    println!("assets              {}", r.assets);
    println!("by state            {}", counts(&r.by_state));
    println!("by license tag      {}", counts(&r.by_license));
    println!(
        "complete metadata   {} ({:.1}%)",
        r.complete,
        r.complete_share * 100.0
    );
    println!("eligible            {}", r.eligible);
    println!("not eligible, gate  {}", counts(&r.ineligible_by_gate));
    println!("quarantined         {}", r.quarantined);
    println!("quarantined, why    {}", counts(&r.quarantined_by_reason));
    match &r.time_to_approval {
        Some(d) => println!(
            "time to approval    median {}, p90 {}, max {} ({} approved)",
            duration(d.median_seconds),
            duration(d.p90_seconds),
            duration(d.max_seconds),
            d.count
        ),
        None => println!("time to approval    - (nothing approved yet)"),
    }
    for w in &r.approval_weeks {
        println!(
            "approved in {}    {} (median {}, p90 {})",
            w.week,
            w.durations.count,
            duration(w.durations.median_seconds),
            duration(w.durations.p90_seconds)
        );
    }
    let f = &r.funnel;
    println!(
        "funnel              imported {}, submitted {}, approved {}, listed {}, sold {}",
        f.imported, f.submitted, f.approved, f.listed, f.sold
    );
    for e in &r.earnings {
        println!(
            "earnings            {} {}: revenue {} {}, payouts {} {} (minor units)",
            e.creator, e.month, e.revenue_minor, e.currency, e.payouts_minor, e.currency
        );
    }
    if r.datasets.is_empty() {
        println!("datasets            -");
    }
    for d in &r.datasets {
        match &d.latest {
            Some(v) => println!(
                "dataset             {}: {} version{}, newest v{} ({}{}, {} assets in {} shards, {} bytes, {})",
                d.name,
                d.versions,
                if d.versions == 1 { "" } else { "s" },
                v.version,
                v.format,
                if v.delta { " delta" } else { "" },
                v.assets,
                v.shards,
                v.shard_bytes,
                v.created_at
            ),
            None => println!("dataset             {}: not built yet", d.name),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `90061` as `1d 1h`, `3723` as `1h 2m`, `62` as `1m 2s`.
fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    let (d, h, m, s) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_in_their_two_largest_units() {
        assert_eq!(super::duration(7), "7s");
        assert_eq!(super::duration(62), "1m 2s");
        assert_eq!(super::duration(3723), "1h 2m");
        assert_eq!(super::duration(90_061), "1d 1h");
        assert_eq!(super::duration(-5), "0s");
    }
}
