//! Bearer-token authentication and scope checks, as a layer on each route
//! that needs a scope (the route table says which).

use assay_market_proto::{ErrorCode, Scope};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::accounts::{looks_like_token, token_sha256};
use crate::app::AppState;
use crate::error::ApiError;
use crate::records::Account;

/// The authenticated account, put in the request's extensions for handlers.
#[derive(Clone, Debug)]
pub(crate) struct Caller(pub Account);

/// Lets the request through when its token is known and its role carries
/// `scope`: 401 otherwise for the token, 403 naming the scope.
pub(crate) async fn authorize(
    State((app, scope)): State<(AppState, Scope)>,
    mut request: Request,
    next: Next,
) -> Response {
    match authenticate(&app, request.headers(), scope).await {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}

async fn authenticate(
    app: &AppState,
    headers: &HeaderMap,
    scope: Scope,
) -> Result<Caller, ApiError> {
    // RFC 6750: a 401 names the scheme and realm it wants, and says when
    // the token given is not one this server knows.
    let unauthorized = |why: &str| {
        let challenge = if headers.contains_key(header::AUTHORIZATION) {
            r#"Bearer realm="assay-market", error="invalid_token""#
        } else {
            r#"Bearer realm="assay-market""#
        };
        ApiError::new(ErrorCode::Unauthorized, why.to_owned())
            .with_header("www-authenticate", challenge.to_owned())
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("this route needs an Authorization: Bearer TOKEN header"))?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| unauthorized("the Authorization header is not Bearer TOKEN"))?;
    if !looks_like_token(token) {
        return Err(unauthorized(
            "the bearer token is not one this server issued",
        ));
    }
    let hash = token_sha256(token);
    let account = app
        .records(move |r| r.account_by_token(&hash))
        .await?
        .ok_or_else(|| unauthorized("the bearer token is not one this server issued"))?;
    if !account.role.allows(scope) {
        let held: Vec<&str> = account.role.scopes().iter().map(|s| s.as_str()).collect();
        return Err(ApiError::new(
            ErrorCode::MissingScope,
            format!(
                "this route needs the {scope} scope; account {} is a {} with {}",
                account.name,
                account.role,
                held.join(", ")
            ),
        ));
    }
    Ok(Caller(account))
}
