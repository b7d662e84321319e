//! Writing Content Credentials: a manifest signed with a user's ed25519 key
//! under the library's certificate chain, embedded into a copy of a file,
//! or kept beside it as a `.c2pa` sidecar where C2PA defines no embedding
//! for the format (raw camera files, datasets). Originals are only read.

use std::io::{Cursor, Read, Seek, Write};
use std::sync::Arc;

use c2pa::assertions::DataHash;
use c2pa::{Builder, Context, HashRange, SigningAlg};
use serde_json::{json, Value};

use crate::read::offline_context;

/// Content Credentials could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("the signer's certificate chain: {0}")]
    Chain(String),
    #[error("{media_type}: {source}")]
    C2pa {
        media_type: String,
        // Boxed: c2pa's error is large, and every result here carries it.
        #[source]
        source: Box<c2pa::Error>,
    },
}

impl SignError {
    fn c2pa(media_type: &str) -> impl FnOnce(c2pa::Error) -> SignError + '_ {
        move |source| SignError::C2pa {
            media_type: media_type.to_owned(),
            source: Box::new(source),
        }
    }
}

type SignFn<'a> = dyn Fn(&[u8]) -> [u8; 64] + Send + Sync + 'a;

/// Signs claims with an ed25519 key the caller holds (Assay's users keep
/// theirs locked in the core; only the signing function crosses over),
/// under a certificate chain, the end entity first.
pub struct KeySigner<'a> {
    chain: Vec<Vec<u8>>,
    sign: Box<SignFn<'a>>,
}

impl<'a> KeySigner<'a> {
    /// `chain_pem`: the signer's certificate, then its issuers (PEM).
    pub fn new(
        chain_pem: &str,
        sign: impl Fn(&[u8]) -> [u8; 64] + Send + Sync + 'a,
    ) -> Result<KeySigner<'a>, SignError> {
        let chain: Vec<Vec<u8>> = pem::parse_many(chain_pem)
            .map_err(|e| SignError::Chain(e.to_string()))?
            .into_iter()
            .filter(|block| block.tag() == "CERTIFICATE")
            .map(pem::Pem::into_contents)
            .collect();
        if chain.is_empty() {
            return Err(SignError::Chain("it holds no certificate".to_owned()));
        }
        Ok(KeySigner {
            chain,
            sign: Box::new(sign),
        })
    }
}

impl c2pa::Signer for KeySigner<'_> {
    fn sign(&self, data: &[u8]) -> c2pa::Result<Vec<u8>> {
        Ok((self.sign)(data).to_vec())
    }

    fn alg(&self) -> SigningAlg {
        SigningAlg::Ed25519
    }

    fn certs(&self) -> c2pa::Result<Vec<Vec<u8>>> {
        Ok(self.chain.clone())
    }

    // The COSE signature carries the chain; no time stamp is fetched
    // (offline by construction), so the chain and a margin bound it.
    fn reserve_size(&self) -> usize {
        2048 + self.chain.iter().map(Vec::len).sum::<usize>()
    }
}

/// What a manifest says: its title, who made it, and its assertions
/// (label and JSON data), `c2pa.actions` among them. The original the copy
/// was made from is the claim's parent ingredient.
#[derive(Debug, Clone)]
pub struct Claim {
    pub title: String,
    pub generator: String,
    pub generator_version: String,
    pub assertions: Vec<(String, Value)>,
    /// The original carries a manifest store of its own, which the parent
    /// ingredient must bring along; without one, the ingredient is only
    /// named (reading the file for it would find nothing, at the cost of
    /// reading it whole).
    pub parent_has_credentials: bool,
}

/// Whether C2PA embeds manifests in files of `media_type`; for any other
/// the credentials go in a `.c2pa` sidecar.
pub fn embeds(media_type: &str) -> bool {
    Builder::supported_mime_types()
        .iter()
        .any(|m| m.eq_ignore_ascii_case(media_type))
}

/// Writes Content Credentials for files: one shared, offline c2pa context.
pub struct CredentialWriter {
    context: Arc<Context>,
}

impl CredentialWriter {
    pub fn new() -> Result<CredentialWriter, SignError> {
        Ok(CredentialWriter {
            context: Arc::new(offline_context(None).map_err(SignError::c2pa("settings"))?),
        })
    }

    fn builder(&self, claim: &Claim, media_type: &str) -> Result<Builder, SignError> {
        let definition = json!({
            "title": claim.title,
            "format": media_type,
            "claim_generator_info": [{"name": claim.generator, "version": claim.generator_version}],
            "assertions": claim
                .assertions
                .iter()
                .map(|(label, data)| json!({"label": label, "data": data}))
                .collect::<Vec<_>>(),
        });
        Builder::from_shared_context(&self.context)
            .with_definition(definition)
            .map_err(SignError::c2pa(media_type))
    }

    /// Reads `source` (a file of `media_type`) as the claim's parent and
    /// writes to `dest` a copy of it that carries the signed manifest.
    pub fn embed<R, W>(
        &self,
        signer: &KeySigner<'_>,
        claim: &Claim,
        media_type: &str,
        source: &mut R,
        dest: &mut W,
    ) -> Result<(), SignError>
    where
        R: Read + Seek + Send,
        W: Write + Read + Seek + Send,
    {
        let mut builder = self.builder(claim, media_type)?;
        add_parent(&mut builder, claim, media_type, source)?;
        source.rewind().map_err(io(media_type))?;
        builder
            .sign(signer, media_type, source, dest)
            .map_err(SignError::c2pa(media_type))?;
        Ok(())
    }

    /// Writes to `dest` the JPEG `original` (whose SHA-256 is
    /// `original_sha256`) with the signed manifest embedded, in one pass:
    /// the store is placed after the leading APP0/APP1 segments, and its
    /// data hash is the hash of every other byte, which are the original's
    /// own, so the caller's checksum of the original serves as it. For an
    /// original that carries no store of its own (one that does goes
    /// through [`CredentialWriter::embed`], which replaces it).
    pub fn embed_jpeg<W: Write + Seek>(
        &self,
        signer: &KeySigner<'_>,
        claim: &Claim,
        original: &[u8],
        original_sha256: [u8; 32],
        dest: &mut W,
    ) -> Result<(), SignError> {
        const JPEG: &str = "image/jpeg";
        let offset = jpeg_store_offset(original).ok_or_else(|| SignError::C2pa {
            media_type: JPEG.to_owned(),
            source: Box::new(c2pa::Error::InvalidAsset("not a JPEG".to_owned())),
        })?;
        let mut builder = self.builder(claim, JPEG)?;
        let mut described = Cursor::new(original);
        add_parent(&mut builder, claim, JPEG, &mut described)?;
        let placeholder = builder
            .data_hashed_placeholder(c2pa::Signer::reserve_size(signer), JPEG)
            .map_err(SignError::c2pa(JPEG))?;
        let mut hash = DataHash::new("jumbf manifest", "sha256");
        hash.add_exclusion(HashRange::new(offset as u64, placeholder.len() as u64));
        hash.set_hash(original_sha256.to_vec());
        let signed = builder
            .sign_data_hashed_embeddable(signer, &hash, JPEG)
            .map_err(SignError::c2pa(JPEG))?;
        if signed.len() != placeholder.len() {
            return Err(SignError::C2pa {
                media_type: JPEG.to_owned(),
                source: Box::new(c2pa::Error::BadParam(format!(
                    "the signed store is {} bytes, its place {}",
                    signed.len(),
                    placeholder.len()
                ))),
            });
        }
        let (head, tail) = original.split_at(offset);
        dest.write_all(head).map_err(io(JPEG))?;
        dest.write_all(&signed).map_err(io(JPEG))?;
        dest.write_all(tail).map_err(io(JPEG))?;
        Ok(())
    }

    /// The signed manifest store for `source`, to keep beside it as a
    /// `.c2pa` sidecar: bound to every byte of the file by a SHA-256 data
    /// hash, the binding C2PA defines for files it does not parse. That
    /// hash is the file's own SHA-256, so a caller that has it passes it
    /// as `sha256` and the file is read only for credentials it carries.
    pub fn sidecar<R>(
        &self,
        signer: &KeySigner<'_>,
        claim: &Claim,
        media_type: &str,
        source: &mut R,
        sha256: Option<[u8; 32]>,
    ) -> Result<Vec<u8>, SignError>
    where
        R: Read + Seek + Send,
    {
        let mut builder = self.builder(claim, media_type)?;
        add_parent(&mut builder, claim, media_type, source)?;
        builder.set_no_embed(true);
        builder
            .data_hashed_placeholder(c2pa::Signer::reserve_size(signer), "c2pa")
            .map_err(SignError::c2pa(media_type))?;
        let mut hash = DataHash::new("jumbf manifest", "sha256");
        match sha256 {
            Some(digest) => hash.set_hash(digest.to_vec()),
            None => {
                source.rewind().map_err(io(media_type))?;
                hash.gen_hash_from_stream(source)
                    .map_err(SignError::c2pa(media_type))?;
            }
        }
        builder
            .sign_data_hashed_embeddable(signer, &hash, "c2pa")
            .map_err(SignError::c2pa(media_type))
    }
}

/// The original, as the claim's `parentOf` ingredient (`c2pa.opened` names
/// it): read with the manifest store it carries, when it carries one, so
/// a credential that arrived with the file stays in the chain; else named,
/// with its format.
fn add_parent<R: Read + Seek + Send>(
    builder: &mut Builder,
    claim: &Claim,
    media_type: &str,
    source: &mut R,
) -> Result<(), SignError> {
    let ingredient = json!({"title": claim.title, "relationship": "parentOf", "label": PARENT});
    if embeds(media_type) && claim.parent_has_credentials {
        source.rewind().map_err(io(media_type))?;
        builder
            .add_ingredient_from_stream(ingredient.to_string(), media_type, source)
            .map_err(SignError::c2pa(media_type))?;
    } else {
        // Nothing in the file for the ingredient to bring (or c2pa cannot
        // read the format): it is named, with its format.
        let mut described = ingredient;
        described["format"] = json!(media_type);
        let ingredient = c2pa::Ingredient::from_json(&described.to_string())
            .map_err(SignError::c2pa(media_type))?;
        builder.add_ingredient(ingredient);
    }
    Ok(())
}

/// Where a manifest store goes in a JPEG: after SOI and the APP0 (JFIF)
/// and APP1 (EXIF, XMP) segments that readers expect first. `None` when
/// the bytes do not begin as a JPEG.
fn jpeg_store_offset(jpeg: &[u8]) -> Option<usize> {
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut at = 2;
    while let (Some(&0xFF), Some(&(0xE0 | 0xE1))) = (jpeg.get(at), jpeg.get(at + 1)) {
        let len = jpeg.get(at + 2..at + 4)?;
        at += 2 + usize::from(u16::from_be_bytes([len[0], len[1]]));
    }
    (at <= jpeg.len()).then_some(at)
}

/// The label `c2pa.opened` refers to the parent ingredient by.
pub const PARENT: &str = "original";

fn io(media_type: &str) -> impl FnOnce(std::io::Error) -> SignError + '_ {
    move |e| SignError::c2pa(media_type)(c2pa::Error::IoError(e))
}
