//! The committed TypeScript bindings are exactly what the Rust commands and
//! types generate: a changed command or type without regenerated bindings
//! fails here instead of at runtime in the window.

#[test]
fn committed_bindings_match_the_rust_commands() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("bindings.ts");
    assay_app::export_bindings(&fresh).unwrap();
    let committed =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings.ts");
    let fresh = std::fs::read_to_string(&fresh).unwrap();
    // Regenerating through this test reuses the test build; the
    // `assay-bindings` binary builds the app's dependencies once more.
    if std::env::var_os("ASSAY_UPDATE_BINDINGS").is_some() {
        std::fs::write(&committed, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&committed).unwrap();
    assert!(
        committed == fresh,
        "ui/src/lib/bindings.ts is out of date: run `ASSAY_UPDATE_BINDINGS=1 cargo test -p assay-app --test bindings` (or `cargo run -p assay-app --bin assay-bindings`) and commit it"
    );
}
