//! The market as witness, attacked the way whoever holds the library would:
//! the real `assay` binary syncing to a real marketplace server (in this
//! test process, on a loopback port), then the whole library folder put
//! back from an older copy, or `library.db` rewritten with its checkpoints
//! removed. The library alone cannot tell; `verify --provenance --market`
//! can, and the market refuses the rolled-back library's next checkpoint.

use std::path::Path;
use std::sync::Arc;

use assay_market::{add_account, Config, Market, Records};
use assay_market_proto::Role;

use crate::checkpoints::{cut_last_event, db, fails_naming, library};
use crate::support::{stderr, Sandbox};
use crate::users::{ok, setup};

/// A marketplace serving on a loopback port from a thread of its own,
/// stopped when dropped.
pub(crate) struct Server {
    pub url: String,
    pub records: Arc<dyn Records>,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let market = Market::open(Config::new(dir.path().join("data"))).unwrap();
        let records = Arc::clone(market.records());
        let (bound, bound_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                bound.send(listener.local_addr().unwrap()).unwrap();
                market
                    .serve(listener, async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let address = bound_rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the market server to listen on a port");
        Server {
            url: format!("http://{address}"),
            records,
            _dir: dir,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The sandbox's library with the two photos of the checkpoint tests and
/// `server` added as market `main` under a new publisher.
fn published(server: &Server) -> (Sandbox, Vec<String>) {
    let sb = setup();
    let ids = library(&sb);
    let (_, token) = add_account(&*server.records, "studio", Role::Publisher).unwrap();
    let token_file = sb.dir.path().join("market.token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    ok(&sb.run(&[
        "market",
        "add",
        "main",
        &server.url,
        "--token-file",
        token_file.to_str().unwrap(),
    ]));
    (sb, ids)
}

fn sync(sb: &Sandbox) {
    let out = sb.as_user("rosa", &["sync"]);
    ok(&out);
    assert!(
        stderr(&out).contains("the market witnessed the library's checkpoint of"),
        "{}",
        stderr(&out)
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_library_folder_put_back_from_an_older_copy_fails_against_the_markets_witness() {
    let server = Server::start();
    let (sb, ids) = published(&server);
    sync(&sb);
    let out = sb.run(&["verify", "--provenance", "--market", "main"]);
    ok(&out);
    assert!(
        stderr(&out).contains("market main witnessed a checkpoint of"),
        "{}",
        stderr(&out)
    );

    // The whole folder copied aside, then later work, synced and witnessed.
    let aside = sb.dir.path().join("library.old");
    copy_dir(&sb.library(), &aside);
    ok(&sb.as_user("cy", &["edit", &ids[0], "--set", "title=Harbour at dusk"]));
    sync(&sb);

    // The older copy put back: consistent in itself, so the library alone
    // cannot tell.
    std::fs::remove_dir_all(sb.library()).unwrap();
    copy_dir(&aside, &sb.library());
    ok(&sb.run(&["verify", "--provenance"]));
    // The market saw more than the catalog holds.
    let out = sb.run(&["verify", "--provenance", "--market", "main"]);
    fails_naming(&out, &["older copy"]);
    // And it refuses the rolled-back library's next checkpoint.
    let out = sb.as_user("rosa", &["sync"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("checkpoint_not_extending"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_catalog_rewritten_after_a_sync_with_its_checkpoints_removed_fails_against_the_market() {
    let server = Server::start();
    let (sb, ids) = published(&server);
    sync(&sb);
    // Whoever holds the folder cuts a chain and removes every checkpoint.
    cut_last_event(&db(&sb), &ids[1]);
    std::fs::remove_dir_all(sb.library().join("checkpoints")).unwrap();
    let out = sb.run(&["verify", "--provenance"]);
    ok(&out);
    assert!(stderr(&out).contains("no checkpoint to check against"));
    let out = sb.run(&["verify", "--provenance", "--market", "main"]);
    fails_naming(&out, &["were deleted"]);
}
