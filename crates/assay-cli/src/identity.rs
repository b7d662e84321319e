//! Acting as a user: `--as NAME` (or `ASSAY_USER`) and the passphrase that
//! unlocks their key, read from `--passphrase-file`, `ASSAY_PASSPHRASE`, or
//! a prompt without echo, in that order.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use assay_core::{Actor, Library};

#[derive(clap::Args, Clone, Default)]
pub struct Who {
    /// Act as this user (required for changes once the library has users).
    #[arg(long = "as", global = true, env = "ASSAY_USER", value_name = "NAME")]
    pub user: Option<String>,
    /// Read the acting user's passphrase from this file (first line).
    #[arg(long, global = true, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

impl Who {
    /// The acting user with their key unlocked, when `--as` was given.
    pub fn actor(&self, library: &Library) -> anyhow::Result<Option<Arc<Actor>>> {
        let Some(name) = &self.user else {
            return Ok(None);
        };
        let passphrase = self.passphrase(&format!("passphrase for {name}: "))?;
        let actor = library.unlock(name, passphrase.as_bytes())?;
        Ok(Some(Arc::new(actor)))
    }

    /// The acting user's passphrase.
    pub fn passphrase(&self, prompt: &str) -> anyhow::Result<String> {
        read_passphrase(self.passphrase_file.as_ref(), "ASSAY_PASSPHRASE", prompt)
    }
}

/// A passphrase from `file`, else the environment variable `var`, else a prompt.
pub fn read_passphrase(file: Option<&PathBuf>, var: &str, prompt: &str) -> anyhow::Result<String> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the passphrase file {}", path.display()))?;
        return Ok(text.lines().next().unwrap_or_default().to_owned());
    }
    if let Ok(value) = std::env::var(var) {
        return Ok(value);
    }
    rpassword::prompt_password(prompt).with_context(|| {
        format!("no passphrase: give --passphrase-file or {var}, or run on a terminal")
    })
}
