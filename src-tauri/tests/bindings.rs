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
    let committed = std::fs::read_to_string(&committed).unwrap();
    let fresh = std::fs::read_to_string(&fresh).unwrap();
    assert!(
        committed == fresh,
        "ui/src/lib/bindings.ts is out of date: run `cargo run -p assay-app --bin assay-bindings` and commit it"
    );
}
