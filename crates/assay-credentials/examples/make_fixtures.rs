//! Makes the Content Credentials fixtures of `tests/corpus/c2pa/` from two
//! corpus photos, signed by a fresh test authority (its certificate is
//! written beside them as `test-ca.pem`):
//!
//! - `valid.jpg`: captured, training allowed under a constraint;
//! - `with-ingredient.jpg`: an edit of `valid.jpg`, which it names as its
//!   parent ingredient;
//! - `training-not-allowed.jpg`: every training-mining entry `notAllowed`;
//! - `ai-generated.png`: made by a trained model (PNG);
//! - `bytes-changed.jpg`: `valid.jpg` with one byte of the image changed
//!   after signing;
//! - `signature-altered.jpg`: `valid.jpg` with one byte of its signature
//!   changed.
//!
//! Usage: cargo run -p assay-credentials --example make_fixtures -- OUT_DIR

use std::io::Cursor;
use std::path::{Path, PathBuf};

use assay_credentials::Authority;
use c2pa::{Builder, Context, SigningAlg};
use serde_json::{json, Value};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const CAPTURED: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture";
const MODEL_MADE: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/corpus/files")
        .join(name)
}

fn training(permission: &str, constraint: Option<&str>) -> Value {
    let entry = match constraint {
        Some(info) => json!({"use": permission, "constraint_info": info}),
        None => json!({"use": permission}),
    };
    json!({"label": "cawg.training-mining", "data": {"entries": {
        "cawg.ai_generative_training": entry,
        "cawg.ai_training": entry,
        "cawg.ai_inference": entry,
        "cawg.data_mining": entry,
    }}})
}

fn actions(action: &str, source: &str) -> Value {
    json!({"label": "c2pa.actions", "data": {"actions": [
        {"action": action, "digitalSourceType": source}
    ]}})
}

fn sign(
    signer: &dyn c2pa::Signer,
    definition: Value,
    format: &str,
    source: &[u8],
    parent: Option<&[u8]>,
) -> Result<Vec<u8>> {
    let context = Context::new().with_settings(
        json!({"verify": {"remote_manifest_fetch": false, "ocsp_fetch": false}})
            .to_string()
            .as_str(),
    )?;
    let mut builder = Builder::from_context(context).with_definition(definition)?;
    if let Some(parent) = parent {
        builder.add_ingredient_from_stream(
            json!({"title": "valid.jpg", "relationship": "parentOf", "label": "parent"})
                .to_string(),
            format,
            &mut Cursor::new(parent),
        )?;
    }
    let mut out = Cursor::new(Vec::new());
    builder.sign(signer, format, &mut Cursor::new(source), &mut out)?;
    Ok(out.into_inner())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn main() -> Result<()> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: make_fixtures OUT_DIR")?,
    );
    std::fs::create_dir_all(&out)?;
    let authority = Authority::new("Assay test fixtures")?;
    let (key, chain) = authority.new_signer("fixture signer", "Assay test fixtures")?;
    let signer = c2pa::create_signer::from_keys(
        chain.as_bytes(),
        key.as_bytes(),
        SigningAlg::Ed25519,
        None,
    )?;
    std::fs::write(out.join("test-ca.pem"), authority.certificate_pem())?;

    let photo = std::fs::read(corpus("exif-py/jpg/exif-org/sanyo-vpcg250.jpg"))?;
    let generator = json!([{"name": "assay-credentials fixtures", "version": "1"}]);
    let valid = sign(
        signer.as_ref(),
        json!({"claim_generator_info": generator, "title": "valid.jpg", "assertions": [
            actions("c2pa.created", CAPTURED),
            training("constrained", Some("CC-BY-4.0; 20% revenue share to the creator")),
        ]}),
        "image/jpeg",
        &photo,
        None,
    )?;
    std::fs::write(out.join("valid.jpg"), &valid)?;

    let edited = sign(
        signer.as_ref(),
        json!({"claim_generator_info": generator, "title": "with-ingredient.jpg", "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [
                {"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}},
                {"action": "c2pa.edited", "softwareAgent": {"name": "assay-credentials fixtures"}},
            ]}},
        ]}),
        "image/jpeg",
        &valid,
        Some(&valid),
    )?;
    std::fs::write(out.join("with-ingredient.jpg"), edited)?;

    let refused = sign(
        signer.as_ref(),
        json!({"claim_generator_info": generator, "title": "training-not-allowed.jpg", "assertions": [
            actions("c2pa.created", CAPTURED),
            training("notAllowed", None),
        ]}),
        "image/jpeg",
        &photo,
        None,
    )?;
    std::fs::write(out.join("training-not-allowed.jpg"), refused)?;

    let png = std::fs::read(corpus("exiftool/PNG.png"))?;
    let generated = sign(
        signer.as_ref(),
        json!({"claim_generator_info": generator, "title": "ai-generated.png", "assertions": [
            actions("c2pa.created", MODEL_MADE),
        ]}),
        "image/png",
        &png,
        None,
    )?;
    std::fs::write(out.join("ai-generated.png"), generated)?;

    // One byte of the image data, just before the end-of-image marker.
    let mut changed = valid.clone();
    let at = changed.len() - 16;
    changed[at] ^= 0x01;
    std::fs::write(out.join("bytes-changed.jpg"), changed)?;

    // One byte of the COSE signature, well inside the signature box.
    let mut altered = valid.clone();
    let label = find(&altered, b"c2pa.signature").ok_or("no signature box")?;
    let at = label + 200;
    altered[at] ^= 0x01;
    std::fs::write(out.join("signature-altered.jpg"), altered)?;
    Ok(())
}
