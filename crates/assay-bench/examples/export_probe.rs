#![allow(clippy::unwrap_used)]
use assay_core::{Filter, Library, Selection};
fn main() -> anyhow::Result<()> {
    std::env::set_var("ASSAY_KDF_FAST", "1");
    let dir = std::env::args().nth(1).unwrap();
    let n: usize = std::env::args()
        .nth(2)
        .map(|s| s.parse().unwrap())
        .unwrap_or(3);
    let library = Library::open(std::path::Path::new(&dir).join("library"))?;
    let rosa = library.unlock("rosa", b"pw")?;
    for _ in 0..n {
        let t = std::time::Instant::now();
        let e = library.export_manifest(
            &rosa,
            &Selection::Where(Filter::default()),
            &std::path::Path::new(&dir).join("m.json"),
        )?;
        eprintln!("export {} in {:?}", e.assets, t.elapsed());
    }
    Ok(())
}
