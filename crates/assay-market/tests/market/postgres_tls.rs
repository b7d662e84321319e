//! The records reach PostgreSQL over TLS when the URL says
//! `sslmode=require`, and only to a server whose certificate chains to a
//! root the system trusts (here the test's own CA, through
//! `SSL_CERT_FILE`, which rustls-native-certs reads instead of the
//! system's store). Only on the `market-postgres` target. Each test runs
//! in a process of its own (nextest), so the variable is its alone.

use assay_market::{add_account, PostgresRecords};
use assay_market_proto::Role;
use assay_test_services::postgres::Cluster;

use crate::support::TestCa;

/// `sslmode=require` on a cluster's URL, reached by its address.
fn require_tls(cluster: &Cluster) -> String {
    format!("{}?sslmode=require", cluster.url())
}

#[test]
fn records_travel_over_tls_to_a_server_the_system_trusts() {
    let ca = TestCa::new();
    let stranger = TestCa::new();
    let cluster = Cluster::start_with_tls(&ca.cert, &ca.key).unwrap();
    std::env::remove_var("SSL_CERT_DIR");

    // A certificate no trusted root signed: refused, naming why.
    std::env::set_var("SSL_CERT_FILE", &stranger.ca);
    let refused = PostgresRecords::open(&require_tls(&cluster))
        .err()
        .expect("a server no trusted root vouches for is refused");
    let text = format!("{refused:#} {:?}", std::error::Error::source(&refused));
    assert!(
        text.contains("certificate") || text.contains("Certificate"),
        "{text}"
    );

    // Trusted: every connection of the pool is encrypted.
    std::env::set_var("SSL_CERT_FILE", &ca.ca);
    let records = PostgresRecords::open(&require_tls(&cluster)).unwrap();
    add_account(&records, "studio", Role::Publisher).unwrap();
    let plain = cluster
        .psql(
            "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) \
             FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = 'assay-market'",
        )
        .unwrap();
    let (encrypted, unencrypted) = plain.split_once('|').unwrap();
    assert!(encrypted.parse::<u32>().unwrap() >= 1, "{plain}");
    assert_eq!(unencrypted, "0", "{plain}");
}

#[test]
fn tls_required_of_a_server_without_it_is_an_error() {
    let cluster = Cluster::start().unwrap();
    let refused = PostgresRecords::open(&require_tls(&cluster))
        .err()
        .expect("a server without TLS is refused when TLS is required");
    let text = format!("{refused:#} {:?}", std::error::Error::source(&refused));
    assert!(text.contains("TLS") || text.contains("SSL"), "{text}");
    // Without the requirement the same server is used, in the clear.
    PostgresRecords::open(&cluster.url()).unwrap();
}
