//! Regenerates `ui/src/lib/bindings.ts` from the Rust commands and types.

fn main() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings.ts");
    if let Err(e) = assay_app::export_bindings(&path) {
        eprintln!("assay-bindings: {e}");
        std::process::exit(1);
    }
}
