//! The AI-training terms of an asset, on every response that carries its
//! bytes (a download, a preview): IETF AI preferences (`Content-Usage`)
//! and W3C TDMRep (`tdm-reservation`, `tdm-policy`), as the publisher's
//! license taxonomy maps them ([`crate::records::UsageHeaders`]).

use axum::http::HeaderMap;

use crate::error::set_header;
use crate::records::UsageHeaders;

pub(crate) const CONTENT_USAGE: &str = "content-usage";
pub(crate) const TDM_RESERVATION: &str = "tdm-reservation";
pub(crate) const TDM_POLICY: &str = "tdm-policy";

/// Adds the headers `usage` names (none for a manifest stored before
/// the market sent them).
pub(crate) fn set(headers: &mut HeaderMap, usage: Option<&UsageHeaders>) {
    let Some(usage) = usage else { return };
    set_header(headers, CONTENT_USAGE, &usage.content_usage);
    set_header(
        headers,
        TDM_RESERVATION,
        if usage.tdm_reservation { "1" } else { "0" },
    );
    if let Some(policy) = &usage.tdm_policy {
        set_header(headers, TDM_POLICY, policy);
    }
}
