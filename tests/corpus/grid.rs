//! The desktop grid's pages over the imported corpus: positions, order,
//! filters and the cell fields, against the full records.

use assay_core::{Filter, GridItem, GridQuery, GridSort};

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
        };
        let got = library.grid_page(&query).unwrap();
        assert!(got.len() <= page as usize);
        if got.is_empty() {
            return items;
        }
        items.extend(got);
    }
}

#[test]
fn pages_cover_every_asset_once_in_capture_order() {
    let library = &imported().library;
    let records = library.list(&Filter::default()).unwrap();
    let total = library.grid_count(&Filter::default()).unwrap();
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
        let total = library.grid_count(&filter).unwrap() as u32;
        let mut got = Vec::new();
        while got.len() < expected.len() {
            let page = library
                .grid_page(&GridQuery {
                    filter: filter.clone(),
                    sort,
                    offset: got.len() as u32,
                    limit: 13,
                    total: Some(total),
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
    let records = library.list(&Filter::default()).unwrap();
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
    assert_eq!(library.grid_count(&images).unwrap() as usize, listed.len());
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
