//! The desktop grid's pages over the imported corpus: positions, order,
//! filters and the cell fields, against the full records.

use assay_core::{AssetRecord, Filter, GridItem, GridQuery, GridSort};

use crate::imported;

fn all_pages(sort: GridSort, filter: &Filter, page: u32) -> Vec<GridItem> {
    let library = &imported().library;
    let mut items = Vec::new();
    loop {
        let query = GridQuery {
            filter: filter.clone(),
            sort,
            offset: items.len() as u32,
            limit: page,
            total: None,
            ..GridQuery::default()
        };
        let got = library.grid_page(&query).unwrap();
        assert!(got.len() <= page as usize);
        if got.is_empty() {
            return items;
        }
        items.extend(got);
    }
}

/// The records the whole library's grid shows: each stack as its top.
fn shown(records: Vec<AssetRecord>) -> Vec<AssetRecord> {
    records
        .into_iter()
        .filter(|r| r.stack.as_ref().is_none_or(|s| s.top == r.asset_id))
        .collect()
}

#[test]
fn the_corpus_stacks_only_a_raw_file_with_the_jpeg_of_its_name() {
    let library = &imported().library;
    let stacked: Vec<AssetRecord> = library
        .list(&Filter::default())
        .unwrap()
        .into_iter()
        .filter(|r| r.stack.is_some())
        .collect();
    // exiftool's samples share names across formats, but only the Sigma
    // raw file (whose metadata Assay cannot read) does not contradict the
    // JPEG of its name; the others were taken on other days.
    let names: Vec<&str> = stacked
        .iter()
        .map(|r| r.locations[0].path.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"Sigma.jpg") && names.contains(&"Sigma.x3f"));
    let top = library
        .record(&stacked[0].stack.as_ref().unwrap().top)
        .unwrap();
    assert_eq!(top.media_type, "image/x-sigma-x3f");
    // The open stack is its two assets, the raw file first.
    let open = GridQuery {
        stack: Some(stacked[0].asset_id.clone()),
        limit: 10,
        ..GridQuery::default()
    };
    let page = library.grid_page(&open).unwrap();
    let ids: Vec<&str> = page.iter().map(|i| i.asset_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            top.asset_id.as_str(),
            &stacked
                .iter()
                .find(|r| r.asset_id != top.asset_id)
                .unwrap()
                .asset_id
        ]
    );
    assert_eq!((page[0].stack_count, page[1].stack_count), (2, 0));
}

#[test]
fn pages_cover_every_asset_once_in_capture_order() {
    let library = &imported().library;
    let records = shown(library.list(&Filter::default()).unwrap());
    let total = library.grid_count(&Filter::default(), None).unwrap();
    assert_eq!(total as usize, records.len());

    let items = all_pages(GridSort::CaptureDate, &Filter::default(), 17);
    assert_eq!(items.len(), records.len());
    let mut ids: Vec<&str> = items.iter().map(|i| i.asset_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), records.len(), "an asset appeared on two pages");

    // Newest capture first, undated last.
    let dated: Vec<&str> = items
        .iter()
        .map_while(|i| i.capture_date.as_deref())
        .collect();
    assert!(dated.windows(2).all(|w| w[0] >= w[1]), "not newest first");
    assert!(items[dated.len()..]
        .iter()
        .all(|i| i.capture_date.is_none()));
    assert!(dated.len() > 100, "only {} dated assets", dated.len());
}

#[test]
fn pages_found_from_the_end_are_the_pages_found_from_the_start() {
    let library = &imported().library;
    for (sort, filter) in [
        (GridSort::CaptureDate, Filter::default()),
        (GridSort::ImportDate, Filter::default()),
        (
            GridSort::CaptureDate,
            Filter {
                media_type: Some("image".into()),
                ..Filter::default()
            },
        ),
    ] {
        let expected = all_pages(sort, &filter, 13);
        let total = library.grid_count(&filter, None).unwrap() as u32;
        let mut got = Vec::new();
        while got.len() < expected.len() {
            let page = library
                .grid_page(&GridQuery {
                    filter: filter.clone(),
                    sort,
                    offset: got.len() as u32,
                    limit: 13,
                    total: Some(total),
                    ..GridQuery::default()
                })
                .unwrap();
            assert!(!page.is_empty(), "{sort:?}: stopped at {}", got.len());
            got.extend(page);
        }
        let ids = |items: &[GridItem]| -> Vec<String> {
            items.iter().map(|i| i.asset_id.clone()).collect()
        };
        assert_eq!(ids(&got), ids(&expected), "{sort:?} {filter:?}");
    }
}

#[test]
fn pages_read_on_from_a_cursor_either_way_are_the_pages_read_by_position() {
    let library = &imported().library;
    let ids =
        |items: &[GridItem]| -> Vec<String> { items.iter().map(|i| i.asset_id.clone()).collect() };
    for (sort, filter) in [
        // Undated assets (after every dated one) and shared capture times
        // are both in the corpus: the cursor crosses each.
        (GridSort::CaptureDate, Filter::default()),
        (GridSort::ImportDate, Filter::default()),
        (
            GridSort::CaptureDate,
            Filter {
                media_type: Some("image".into()),
                ..Filter::default()
            },
        ),
    ] {
        let expected = ids(&all_pages(sort, &filter, 11));
        let page = |after: Option<&String>, before: Option<&String>| {
            library
                .grid_page(&GridQuery {
                    filter: filter.clone(),
                    sort,
                    limit: 11,
                    after: after.cloned(),
                    before: before.cloned(),
                    // A wrong position: the cursor alone must find the page.
                    offset: 999_999,
                    ..GridQuery::default()
                })
                .unwrap()
        };
        // Down from the first page, each page after the last cell held.
        let mut down = ids(&all_pages(sort, &filter, 11)[..11]);
        loop {
            let next = page(down.last(), None);
            if next.is_empty() {
                break;
            }
            down.extend(ids(&next));
        }
        assert_eq!(down, expected, "down: {sort:?} {filter:?}");
        // Up from the last cell, each page before the first cell held.
        let mut up = vec![expected[expected.len() - 1].clone()];
        loop {
            let previous = page(None, up.first());
            if previous.is_empty() {
                break;
            }
            assert!(previous.len() <= 11);
            up.splice(0..0, ids(&previous));
        }
        assert_eq!(up, expected, "up: {sort:?} {filter:?}");
    }
    // A cursor the catalog does not have falls back to the position.
    let by_position = library
        .grid_page(&GridQuery {
            offset: 3,
            limit: 5,
            after: Some("no-such-asset".into()),
            ..GridQuery::default()
        })
        .unwrap();
    assert_eq!(
        ids(&by_position),
        ids(&all_pages(GridSort::CaptureDate, &Filter::default(), 11))[3..8]
    );
}

#[test]
fn cells_carry_what_the_record_says() {
    let library = &imported().library;
    for item in all_pages(GridSort::ImportDate, &Filter::default(), 500) {
        let record = library.record(&item.asset_id).unwrap();
        assert_eq!(item.media_type, record.media_type);
        assert_eq!(item.capture_date, record.capture_date);
        assert_eq!(item.workflow_state, record.workflow.workflow_state);
        assert_eq!(
            item.warnings as usize,
            record.warnings.len(),
            "{}",
            item.asset_id
        );
        let first = record.locations[0].path.rsplit('/').next().unwrap();
        assert_eq!(item.file_name.as_deref(), Some(first));
        match (&item.thumbnail, &record.previews.thumbnail) {
            (Some(rel), Some(abs)) => {
                assert!(rel.starts_with("previews/"), "{rel}");
                assert_eq!(library.root().join(rel).to_string_lossy(), *abs);
            }
            (None, None) => {}
            other => panic!("{}: thumbnail {other:?}", item.asset_id),
        }
        assert!(!item.missing);
    }
}

#[test]
fn import_order_is_newest_first_and_filters_narrow() {
    let library = &imported().library;
    let by_import = all_pages(GridSort::ImportDate, &Filter::default(), 1000);
    let records = shown(library.list(&Filter::default()).unwrap());
    assert_eq!(by_import.len(), records.len());
    assert!(by_import
        .windows(2)
        .all(|w| w[0].imported_at >= w[1].imported_at));

    let images = Filter {
        media_type: Some("image".into()),
        ..Filter::default()
    };
    let listed = library.list(&images).unwrap();
    assert!(!listed.is_empty() && listed.len() < records.len());
    assert_eq!(
        library.grid_count(&images, None).unwrap() as usize,
        listed.len()
    );
    let paged = all_pages(GridSort::CaptureDate, &images, 50);
    assert_eq!(paged.len(), listed.len());
    assert!(paged.iter().all(|i| i.media_type.starts_with("image/")));

    let past_the_end = GridQuery {
        offset: records.len() as u32 + 10,
        limit: 10,
        ..GridQuery::default()
    };
    assert!(library.grid_page(&past_the_end).unwrap().is_empty());
}
