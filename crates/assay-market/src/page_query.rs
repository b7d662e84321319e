//! The query string of the routes that return pages: `limit`, and `after`
//! on the routes that page by cursor. Anything else is refused, so a
//! misspelt parameter is an error rather than silently ignored.

use assay_market_proto::ErrorCode;

use crate::error::ApiError;
use crate::extract::shown;

/// How a route reads its `after` parameter: `what` names it in errors
/// ("a cursor", "a listing id").
pub(crate) struct After<T> {
    pub what: &'static str,
    pub parse: fn(&str) -> Option<T>,
}

/// `after` (when the route takes one) and `limit`, 1 to `max`, `default`
/// when absent.
pub(crate) fn page<T>(
    query: &str,
    after: Option<After<T>>,
    default: u32,
    max: u32,
) -> Result<(Option<T>, u32), ApiError> {
    let bad = |why: String| ApiError::new(ErrorCode::InvalidRequest, why);
    let (mut cursor, mut limit) = (None, default);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match (pair.split_once('=').unwrap_or((pair, "")), &after) {
            (("after", text), Some(after)) => {
                cursor = Some((after.parse)(text).ok_or_else(|| {
                    bad(format!("after: {:?} is not {}", shown(text), after.what))
                })?);
            }
            (("limit", n), _) => {
                limit = n
                    .parse()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| bad(format!("limit: give 1 to {max}")))?;
            }
            ((other, _), _) => {
                return Err(bad(format!("unknown query parameter {:?}", shown(other))))
            }
        }
    }
    Ok((cursor, limit))
}

#[cfg(test)]
mod tests {
    use super::{page, After};

    const CURSOR: Option<After<i64>> = Some(After {
        what: "a cursor",
        parse: |t| t.parse().ok().filter(|c| *c >= 0),
    });

    #[test]
    fn reads_after_and_limit_and_refuses_the_rest() {
        assert_eq!(page("", CURSOR, 100, 1000).unwrap(), (None, 100));
        assert_eq!(
            page("after=7&limit=5", CURSOR, 100, 1000).unwrap(),
            (Some(7), 5)
        );
        assert!(page("after=-1", CURSOR, 100, 1000).is_err());
        assert!(page("limit=1001", CURSOR, 100, 1000).is_err());
        assert!(page("limit=0", CURSOR, 100, 1000).is_err());
        assert!(page("sort=x", CURSOR, 100, 1000).is_err());
        // A route without a cursor refuses `after` like any unknown parameter.
        assert!(page::<i64>("after=7", None, 5, 20).is_err());
    }
}
