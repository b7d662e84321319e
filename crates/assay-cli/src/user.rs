//! `assay user add|ls|key|passwd|role|rotate-key|revoke`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use assay_core::{Library, Role};

use crate::identity::{read_passphrase, Who};
use crate::output;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Add a user with a new ed25519 key, encrypted under their passphrase.
    /// The first user of a library must be an admin; after that, act as an admin.
    Add {
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the new user's passphrase from this file (else
        /// ASSAY_NEW_PASSPHRASE; for the first admin also --passphrase-file
        /// or ASSAY_PASSPHRASE; else a prompt).
        #[arg(long, value_name = "FILE")]
        new_passphrase_file: Option<PathBuf>,
    },
    /// List the library's users.
    Ls {
        #[arg(long)]
        json: bool,
    },
    /// Print a user's public key (PEM), as `assay manifest verify --key` and openssl read it.
    Key { name: String },
    /// Give a user another role from now on (act as an admin): a signed
    /// identity event.
    Role {
        name: String,
        #[arg(value_parser = parse_role)]
        role: Role,
    },
    /// Give a user a new key, encrypted under a new passphrase (act as an
    /// admin): their old key signs nothing from now on; what it signed
    /// before still verifies.
    RotateKey {
        name: String,
        /// Read the new passphrase from this file (else ASSAY_NEW_PASSPHRASE, else a prompt, twice).
        #[arg(long, value_name = "FILE")]
        new_passphrase_file: Option<PathBuf>,
    },
    /// Revoke a user (act as an admin): they sign nothing from now on.
    Revoke { name: String },
    /// Change the acting user's passphrase (`--as NAME`); their key stays the same.
    Passwd {
        /// Read the new passphrase from this file (else ASSAY_NEW_PASSPHRASE, else a prompt, twice).
        #[arg(long, value_name = "FILE")]
        new_passphrase_file: Option<PathBuf>,
    },
}

/// A new passphrase from `file`, else ASSAY_NEW_PASSPHRASE, else typed twice.
fn new_passphrase(file: Option<&PathBuf>, prompt: &str) -> anyhow::Result<String> {
    if file.is_some() || std::env::var("ASSAY_NEW_PASSPHRASE").is_ok() {
        return read_passphrase(file, "ASSAY_NEW_PASSPHRASE", prompt);
    }
    let first = rpassword::prompt_password(prompt)
        .context("no new passphrase: give --new-passphrase-file or ASSAY_NEW_PASSPHRASE")?;
    let again = rpassword::prompt_password("again: ")?;
    anyhow::ensure!(first == again, "the passphrases differ");
    Ok(first)
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

pub fn run(library: &Library, who: &Who, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Add {
            name,
            role,
            new_passphrase_file,
        } => {
            let actor = who.actor(library)?;
            // Refuse before asking for a passphrase that would not be used.
            if let Some(actor) = &actor {
                actor.may(assay_core::Action::ManageUsers)?;
            }
            let prompt = format!("new passphrase for {name}: ");
            let passphrase = match (&new_passphrase_file, std::env::var("ASSAY_NEW_PASSPHRASE")) {
                (Some(file), _) => read_passphrase(Some(file), "", &prompt)?,
                (None, Ok(value)) => value,
                // The first admin is the person at the keyboard: their own passphrase.
                (None, Err(_)) if actor.is_none() => who.passphrase(&prompt)?,
                (None, Err(_)) => new_passphrase(None, &prompt)?,
            };
            let user = library.add_user(actor.as_deref(), &name, role, passphrase.as_bytes())?;
            eprintln!("added {} ({}), key {}", user.name, user.role, user.key_id);
        }
        Command::Ls { json } => {
            for user in library.users()? {
                if json {
                    output::json_line(&user)?;
                } else {
                    println!(
                        "{:<20} {:<15} {}  {}",
                        user.name, user.role, user.key_id, user.created_at
                    );
                }
            }
        }
        Command::Passwd {
            new_passphrase_file,
        } => {
            let name = who
                .user
                .clone()
                .context("whose passphrase? act as them: --as NAME")?;
            let old = who.passphrase(&format!("current passphrase for {name}: "))?;
            let new = new_passphrase(
                new_passphrase_file.as_ref(),
                &format!("new passphrase for {name}: "),
            )?;
            library.change_passphrase(&name, old.as_bytes(), new.as_bytes())?;
            eprintln!("changed the passphrase of {name}; the key is the same");
        }
        Command::Role { name, role } => {
            let admin = who
                .actor(library)?
                .context("act as an administrator: --as NAME")?;
            library.change_role(&admin, &name, role)?;
            eprintln!("{name} is a {role} from now on");
        }
        Command::RotateKey {
            name,
            new_passphrase_file,
        } => {
            let admin = who
                .actor(library)?
                .context("act as an administrator: --as NAME")?;
            admin.may(assay_core::Action::ManageUsers)?;
            let passphrase = new_passphrase(
                new_passphrase_file.as_ref(),
                &format!("new passphrase for {name}'s new key: "),
            )?;
            let user = library.rotate_key(&admin, &name, passphrase.as_bytes())?;
            eprintln!("{name} signs with key {} from now on", user.key_id);
        }
        Command::Revoke { name } => {
            let admin = who
                .actor(library)?
                .context("act as an administrator: --as NAME")?;
            library.revoke_user(&admin, &name)?;
            eprintln!("{name} is revoked and signs nothing from now on");
        }
        Command::Key { name } => {
            let key = library.user_public_key(&name)?;
            print!("{}", assay_core::keys::public_key_pem(&key));
        }
    }
    Ok(ExitCode::SUCCESS)
}
