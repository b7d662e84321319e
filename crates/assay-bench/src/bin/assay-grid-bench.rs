//! Measures the desktop grid's page query (`Library::grid_page`) on a
//! catalog of 1,000,000 assets: the first page, a page in the middle and
//! the last page, in both sorts, unfiltered and filtered, and the count
//! that sizes the scroll bar. Peers, in the same run: the bare SQL that
//! only finds the page's ids (the floor), and the naive way, reading every
//! matching record with `Library::list` and slicing the page out.
//!
//! The catalog is 100,000 imported assets (small text files, cached), then
//! copied by SQL to the requested size with varied capture dates: the query
//! reads only the catalog, so copies shaped like imported rows measure it
//! as a real library would.
//!
//! Usage: assay-grid-bench [--base N] [--assets N] [--runs R] [--cache DIR]

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use assay_core::{Change, Filter, GridQuery, GridSort, Library, Selection};
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// Assets imported for real; the rest are copies of them.
    #[arg(long, default_value_t = 100_000)]
    base: usize,
    /// Assets in the catalog measured.
    #[arg(long, default_value_t = 1_000_000)]
    assets: usize,
    /// Runs of each query; the median is reported.
    #[arg(long, default_value_t = 21)]
    runs: usize,
    #[arg(long)]
    cache: Option<PathBuf>,
}

const PAGE: u32 = 200;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let cache = assay_bench::cache_dir(args.cache)?;
    let assay_bench::TextLibrary {
        scratch: _scratch,
        library,
        sam,
        ..
    } = assay_bench::text_library(&cache, args.base)?;
    // A tenth of the assets carry the tag the filtered queries look for.
    let tagged = library
        .list(&Filter::default())?
        .into_iter()
        .step_by(10)
        .map(|r| r.asset_id)
        .collect();
    let change = Change::Set {
        field: "license_tag".into(),
        value: "CC-BY-4.0".into(),
    };
    library.edit(&sam, &Selection::Assets(tagged), &[change])?;
    eprintln!("copying to {} assets", args.assets);
    assay_bench::grow_catalog(&library.db_path(), args.assets)?;
    let total = library.grid_count(&Filter::default(), None)?;
    anyhow::ensure!(total as usize == args.assets, "catalog holds {total}");

    let cc_by = Filter {
        license_tag: Some("CC-BY-4.0".into()),
        ..Filter::default()
    };
    let matching = library.grid_count(&cc_by, None)?;
    println!(
        "| Query ({} assets, pages of {PAGE}) | Median (ms) | Peer: bare SQL ids (ms) |",
        args.assets
    );
    println!("|---|---:|---:|");
    for (name, filter, count) in [
        ("all", Filter::default(), total),
        ("license_tag = CC-BY-4.0", cc_by.clone(), matching),
    ] {
        for sort in [GridSort::CaptureDate, GridSort::ImportDate] {
            for (at, offset) in [
                ("first", 0),
                ("middle", count / 2),
                ("last", count.saturating_sub(PAGE as u64)),
            ] {
                let query = GridQuery {
                    filter: filter.clone(),
                    sort,
                    offset: offset as u32,
                    limit: PAGE,
                    // What the grid passes: the count it sized itself with.
                    total: Some(count as u32),
                    ..GridQuery::default()
                };
                page_row(
                    &library,
                    args.runs,
                    &query,
                    &format!("{name}, {sort:?}, {at}"),
                )?;
                if offset > 0 {
                    keyset_row(
                        &library,
                        args.runs,
                        &query,
                        &format!("{name}, {sort:?}, {at}"),
                    )?;
                }
            }
        }
        let count_time = median(args.runs, || {
            library
                .grid_count(&filter, None)
                .map(drop)
                .map_err(Into::into)
        })?;
        println!(
            "| {name}: count (scroll height) | {:.2} | |",
            count_time * 1e3
        );
    }
    // The naive peer reads whole records, so it runs a few times only.
    let naive = median(3, || {
        let all = library.list(&cc_by)?;
        let middle = all.len() / 2;
        anyhow::ensure!(all[middle..].len() >= PAGE as usize);
        Ok(())
    })?;
    println!(
        "| peer: `Library::list` of license_tag = CC-BY-4.0 ({matching} records), then slice a page | {:.2} | |",
        naive * 1e3
    );
    // The whole library once a tenth of it is folded into stacks (a raw
    // file's JPEG, say): the pages walk the partial index of what is not
    // folded, beside the same floor.
    let conn = rusqlite::Connection::open(library.db_path())?;
    conn.execute_batch(
        "BEGIN;
         INSERT INTO stacks (top, kind, made_at)
             SELECT id, 'raw_pair', '2026-01-01T00:00:00Z' FROM assets WHERE id % 10 = 0;
         UPDATE assets SET stacked_under = id - 1 WHERE id % 10 = 1 AND id > 1;
         COMMIT; ANALYZE;",
    )?;
    let shown = library.grid_count(&Filter::default(), None)?;
    for (at, offset) in [
        ("first", 0),
        ("middle", shown / 2),
        ("last", shown.saturating_sub(PAGE as u64)),
    ] {
        let query = GridQuery {
            offset: offset as u32,
            limit: PAGE,
            total: Some(shown as u32),
            ..GridQuery::default()
        };
        let label = format!("all, a tenth folded in stacks ({shown} cells), CaptureDate, {at}");
        page_row(&library, args.runs, &query, &label)?;
        if offset > 0 {
            keyset_row(&library, args.runs, &query, &label)?;
        }
    }
    let count_time = median(args.runs, || {
        library
            .grid_count(&Filter::default(), None)
            .map(drop)
            .map_err(Into::into)
    })?;
    println!(
        "| all, a tenth folded in stacks: count | {:.2} | |",
        count_time * 1e3
    );
    Ok(())
}

/// Measures `query`'s page beside the bare SQL floor and prints the row.
fn page_row(library: &Library, runs: usize, query: &GridQuery, label: &str) -> anyhow::Result<()> {
    let ours = median(runs, || {
        let page = library.grid_page(query)?;
        anyhow::ensure!(page.len() == PAGE as usize, "{} items", page.len());
        Ok(())
    })?;
    let floor = median(runs, || bare_ids(&library.db_path(), query))?;
    println!("| {label} page | {:.2} | {:.2} |", ours * 1e3, floor * 1e3);
    Ok(())
}

/// The page of `query` read on from the cell before it, as the grid reads
/// the next page while scrolling (an index seek, not a walk), beside the
/// same floor; the page must be the one found by position.
fn keyset_row(
    library: &Library,
    runs: usize,
    query: &GridQuery,
    label: &str,
) -> anyhow::Result<()> {
    let before = library.grid_page(&GridQuery {
        offset: query.offset - 1,
        limit: 1,
        ..query.clone()
    })?;
    let cursor = before.first().context("no cell before the page")?;
    let next = GridQuery {
        after: Some(cursor.asset_id.clone()),
        ..query.clone()
    };
    let ids = |items: Vec<assay_core::GridItem>| -> Vec<String> {
        items.into_iter().map(|i| i.asset_id).collect()
    };
    anyhow::ensure!(
        ids(library.grid_page(&next)?) == ids(library.grid_page(query)?),
        "{label}: the keyset page differs from the page by position"
    );
    let ours = median(runs, || {
        let page = library.grid_page(&next)?;
        anyhow::ensure!(page.len() == PAGE as usize, "{} items", page.len());
        Ok(())
    })?;
    let floor = median(runs, || bare_ids(&library.db_path(), query))?;
    println!(
        "| {label} page, read on from the cell before (keyset) | {:.2} | {:.2} |",
        ours * 1e3,
        floor * 1e3
    );
    Ok(())
}

/// The median seconds of `runs` calls of `f`, after one unmeasured call.
fn median(runs: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<f64> {
    f()?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        f()?;
        times.push(started.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// Only the page's ids, with the same order and filter: what any page
/// query has to walk.
fn bare_ids(db: &Path, query: &GridQuery) -> anyhow::Result<()> {
    let conn = rusqlite::Connection::open(db)?;
    let (clause, order) = match (&query.filter.license_tag, query.sort) {
        (None, GridSort::CaptureDate) => ("", "capture_date DESC, id DESC"),
        (None, GridSort::ImportDate) => ("", "imported_at DESC, id DESC"),
        (Some(_), GridSort::CaptureDate) => (
            "WHERE json_extract(rights, '$.license_tag') = 'CC-BY-4.0'",
            "capture_date DESC, id DESC",
        ),
        (Some(_), GridSort::ImportDate) => (
            "WHERE json_extract(rights, '$.license_tag') = 'CC-BY-4.0'",
            "imported_at DESC, id DESC",
        ),
    };
    let sql = format!("SELECT id FROM assets {clause} ORDER BY {order} LIMIT ?1 OFFSET ?2");
    let mut stmt = conn.prepare(&sql)?;
    let ids: Vec<i64> = stmt
        .query_map([query.limit as i64, query.offset as i64], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    anyhow::ensure!(ids.len() == query.limit as usize);
    Ok(())
}
