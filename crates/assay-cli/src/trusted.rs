//! The public keys a reader trusts, as `--key FILE` and `--keys DIR` give
//! them to the commands that check signed documents.

use std::path::{Path, PathBuf};

use anyhow::Context;
use assay_core::keys::parse_public_key;
use ed25519_dalek::VerifyingKey;

#[derive(clap::Args)]
pub struct TrustArgs {
    /// A trusted rights manager's public key (PEM, as `assay user key` prints it); repeatable.
    #[arg(long, value_name = "FILE")]
    key: Vec<PathBuf>,
    /// A folder of trusted public keys, one per file.
    #[arg(long, value_name = "DIR")]
    keys: Option<PathBuf>,
}

impl TrustArgs {
    /// Every key given, read and parsed; an unreadable one is an error
    /// naming its file.
    pub fn load(&self) -> anyhow::Result<Vec<VerifyingKey>> {
        let mut trusted = Vec::new();
        for path in &self.key {
            trusted.push(read_key(path)?);
        }
        if let Some(dir) = &self.keys {
            let entries = std::fs::read_dir(dir)
                .with_context(|| format!("reading the key folder {}", dir.display()))?;
            for entry in entries {
                let path = entry
                    .with_context(|| format!("reading {}", dir.display()))?
                    .path();
                if path.is_file() {
                    trusted.push(read_key(&path)?);
                }
            }
        }
        Ok(trusted)
    }
}

fn read_key(path: &Path) -> anyhow::Result<VerifyingKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the key {}", path.display()))?;
    parse_public_key(&text).with_context(|| format!("{}", path.display()))
}
