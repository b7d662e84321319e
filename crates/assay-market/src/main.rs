//! `assay-market`: serve a marketplace from a data folder, or add an
//! account to one. Glue only; everything else is in the library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use assay_market::{
    add_account, open_records, revoke_token, rotate_token, BlobsAt, Config, Market, PayoutId,
    PostgresRecords, Records,
};
use assay_market_proto::Role;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "assay-market",
    version,
    about = "The Assay marketplace server: signed manifests, resumable uploads, listings, purchases and delivery."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the marketplace. The first line on stdout is the bound address.
    Serve {
        /// The data folder (records and files); created if missing.
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// Keep the records in this PostgreSQL database instead of the
        /// data folder (`postgres://USER:PASSWORD@HOST:PORT/NAME`); several
        /// servers may share it. Read from ASSAY_MARKET_DATABASE when not
        /// given, which keeps its password out of the process list.
        #[arg(
            long,
            value_name = "URL",
            env = "ASSAY_MARKET_DATABASE",
            hide_env_values = true
        )]
        database: Option<String>,
        /// Keep files in an S3-compatible bucket
        /// (`s3://BUCKET[/PREFIX]?endpoint=URL[&region=R]`, credentials from
        /// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or the instance's
        /// role), which several servers may share, or in another folder.
        #[arg(long, value_name = "URL|DIR")]
        blobs: Option<BlobsAt>,
        /// Address to listen on; port 0 picks a free one.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// The largest file an upload may be, in bytes.
        #[arg(long, value_name = "BYTES")]
        max_upload_bytes: Option<u64>,
        /// Seconds an unfinished upload lives after its last write.
        #[arg(long, value_name = "SECONDS")]
        upload_ttl: Option<u64>,
        /// Seconds a purchase's money stays in escrow unless its buyer
        /// confirms the download first.
        #[arg(long, value_name = "SECONDS")]
        escrow_hold_secs: Option<u64>,
        /// Preview and sample requests one account may make per minute
        /// (0: no limit). Default 60.
        #[arg(long, value_name = "N")]
        preview_rate_per_min: Option<u32>,
        /// Attempts at delivering one event to one webhook. Default 9.
        #[arg(long, value_name = "N")]
        webhook_attempts: Option<u32>,
        /// Deliver webhooks to loopback, private and link-local addresses
        /// too (tests, a relay on this host). Without it, such URLs are
        /// refused when registered and never delivered to.
        #[arg(long)]
        allow_private_webhooks: bool,
    },
    /// Manage accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Payouts, as the operator learns what the payment rail did with them.
    #[command(subcommand)]
    Payout(PayoutCommand),
}

#[derive(Subcommand)]
enum PayoutCommand {
    /// Record that a sent payout came back (the payee's account refused
    /// it): the payout becomes `failed` and the publisher's feed and
    /// webhooks get a `payout_failed` event. Safe to repeat.
    Fail {
        /// The payout's id, as the purchase and the feed show it.
        payout_id: String,
        /// What the payment rail said.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        store: Store,
    },
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Add an account and print its bearer token, once: only its hash is kept.
    Add {
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        #[command(flatten)]
        store: Store,
    },
    /// Give an account a new token and print it, once; the old one stops
    /// working at once (a leaked token, a staff change).
    Rotate {
        name: String,
        #[command(flatten)]
        store: Store,
    },
    /// Revoke an account's token: nothing authenticates as it until
    /// `rotate` gives it a new one.
    Revoke {
        name: String,
        #[command(flatten)]
        store: Store,
    },
}

/// Where a command finds the records: a data folder's `market.db`, or the
/// PostgreSQL database the servers share.
#[derive(clap::Args)]
struct Store {
    /// The data folder holding the records (`market.db`).
    #[arg(long, value_name = "DIR", required_unless_present = "database")]
    data: Option<PathBuf>,
    /// The PostgreSQL database holding the records instead
    /// (`postgres://USER:PASSWORD@HOST:PORT/NAME`, or ASSAY_MARKET_DATABASE).
    #[arg(
        long,
        value_name = "URL",
        env = "ASSAY_MARKET_DATABASE",
        hide_env_values = true
    )]
    database: Option<String>,
}

impl Store {
    fn open(&self) -> anyhow::Result<Box<dyn Records>> {
        match (&self.database, &self.data) {
            (Some(url), _) => Ok(Box::new(
                PostgresRecords::open(url).context("opening the records' database")?,
            )),
            (None, Some(data)) => Ok(Box::new(open_records(data)?)),
            (None, None) => anyhow::bail!("give --data DIR or --database URL"),
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Publisher,
    Buyer,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("assay-market: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            data,
            database,
            blobs,
            listen,
            max_upload_bytes,
            upload_ttl,
            escrow_hold_secs,
            preview_rate_per_min,
            webhook_attempts,
            allow_private_webhooks,
        } => {
            let mut config = Config::new(data);
            config.database = database;
            config.blobs = blobs;
            config.allow_private_webhooks = allow_private_webhooks;
            if let Some(max) = max_upload_bytes {
                config.max_upload_bytes = max;
            }
            if let Some(ttl) = upload_ttl {
                config.upload_ttl = Duration::from_secs(ttl);
            }
            if let Some(hold) = escrow_hold_secs {
                config.escrow_hold = Duration::from_secs(hold);
            }
            if let Some(rate) = preview_rate_per_min {
                config.preview_rate_per_minute = rate;
            }
            if let Some(attempts) = webhook_attempts {
                config.webhook_attempts = attempts.max(1);
            }
            serve(config, listen)
        }
        Command::Account(AccountCommand::Add { name, role, store }) => {
            let records = store.open()?;
            let role = match role {
                RoleArg::Publisher => Role::Publisher,
                RoleArg::Buyer => Role::Buyer,
            };
            let (account, token) = add_account(&*records, &name, role)?;
            eprintln!(
                "account {} ({}): its token follows, shown this once",
                account.name, account.role
            );
            println!("{token}");
            Ok(())
        }
        Command::Account(AccountCommand::Rotate { name, store }) => {
            let (account, token) = rotate_token(&*store.open()?, &name)?;
            eprintln!(
                "account {}: its old token no longer works; the new one follows, shown this once",
                account.name
            );
            println!("{token}");
            Ok(())
        }
        Command::Account(AccountCommand::Revoke { name, store }) => {
            let account = revoke_token(&*store.open()?, &name)?;
            eprintln!(
                "account {}: its token no longer works; `account rotate` gives it a new one",
                account.name
            );
            Ok(())
        }
        Command::Payout(PayoutCommand::Fail {
            payout_id,
            reason,
            store,
        }) => {
            let id = PayoutId::parse(&payout_id)
                .with_context(|| format!("{payout_id:?} is not a payout id"))?;
            anyhow::ensure!(!reason.trim().is_empty(), "--reason is empty");
            let records = store.open()?;
            let failed = records.fail_payout(&id, reason.trim())?;
            let payee = failed
                .payout
                .creator_wallet
                .as_deref()
                .unwrap_or("the publisher");
            eprintln!(
                "payout {id} of purchase {} ({} minor units to {payee}): {}",
                failed.purchase,
                failed.payout.amount_minor,
                if failed.newly {
                    "failed; the publisher's feed says so"
                } else {
                    "had failed already; nothing changed"
                }
            );
            Ok(())
        }
    }
}

fn serve(config: Config, listen: SocketAddr) -> anyhow::Result<()> {
    let data = config.data.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(config.blocking_threads)
        .build()
        .context("starting the async runtime")?;
    let market = Market::open(config).with_context(|| format!("opening {}", data.display()))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let bound = listener.local_addr()?;
        // Scripts and tests read the bound address (port 0 picks one) from
        // the first line; it goes out before anything else is printed.
        println!("{bound}");
        use std::io::Write as _;
        std::io::stdout().flush()?;
        market.serve(listener, shutdown()).await?;
        Ok(())
    })
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
