//! The route table: every route the server mounts, with the scope it
//! needs, is added here and only here, so the table can be compared with
//! the OpenAPI document (a test does) and no route escapes authentication
//! by being mounted elsewhere.

use assay_market_proto::tus::{self, UPLOADS_PATH};
use assay_market_proto::{ErrorCode, Scope};
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::{header, HeaderValue, Uri};
use axum::middleware::{from_fn, from_fn_with_state, map_response, Next};
use axum::response::Response;
use axum::routing::{on, MethodFilter};
use axum::Router;

use crate::app::AppState;
use crate::error::{set_header, ApiError};
use crate::extract::shown;
use crate::{
    auth, checkpoints, credentials, delivery, feed, listings, manifests, previews, publisher_keys,
    purchases, sample, spec, uploads, webhooks,
};

/// An HTTP method, as the OpenAPI document spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verb {
    Get,
    Head,
    Options,
    Post,
    Put,
    Patch,
    Delete,
}

impl Verb {
    /// The operation's key in an OpenAPI path item.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Head => "head",
            Verb::Options => "options",
            Verb::Post => "post",
            Verb::Put => "put",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Head => MethodFilter::HEAD,
            Verb::Options => MethodFilter::OPTIONS,
            Verb::Post => MethodFilter::POST,
            Verb::Put => MethodFilter::PUT,
            Verb::Patch => MethodFilter::PATCH,
            Verb::Delete => MethodFilter::DELETE,
        }
    }
}

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Public,
    /// A bearer token whose role carries the scope.
    Scope(Scope),
}

/// One mounted route. `path` uses the OpenAPI (and axum) `{param}` syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub verb: Verb,
    pub path: &'static str,
    pub access: Access,
}

struct Table {
    app: AppState,
    router: Router<AppState>,
    routes: Vec<Route>,
}

impl Table {
    fn add<H, T>(mut self, verb: Verb, path: &'static str, access: Access, handler: H) -> Table
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let mut route = on(verb.filter(), handler);
        if let Access::Scope(scope) = access {
            route = route.route_layer(from_fn_with_state(
                (self.app.clone(), scope),
                auth::authorize,
            ));
        }
        if path.starts_with(UPLOADS_PATH) {
            // tus: every response about uploads, errors included, says its version.
            route = route.layer(map_response(stamp_tus));
        }
        self.router = self.router.route(path, route);
        self.routes.push(Route { verb, path, access });
        self
    }
}

async fn stamp_tus(mut response: Response) -> Response {
    set_header(response.headers_mut(), tus::TUS_RESUMABLE, tus::VERSION);
    response
}

/// The server's router and the table of what it mounts.
pub(crate) fn build(app: AppState) -> (Router, Vec<Route>) {
    use Access::{Public, Scope as Needs};
    use Scope::{Publish, Purchase, ReadManifest, ReadShards};
    use Verb::{Delete, Get, Head, Options, Patch, Post, Put};
    let table = Table {
        app: app.clone(),
        router: Router::new(),
        routes: Vec::new(),
    }
    .add(Get, "/openapi.json", Public, spec::serve)
    .add(
        Post,
        "/v1/keys/challenge",
        Needs(Publish),
        publisher_keys::challenge,
    )
    .add(Post, "/v1/keys", Needs(Publish), publisher_keys::register)
    .add(Get, "/v1/keys", Needs(Publish), publisher_keys::list)
    .add(Post, "/v1/manifests", Needs(Publish), manifests::post)
    .add(
        Get,
        "/v1/manifests/{manifest_id}",
        Needs(ReadManifest),
        manifests::get,
    )
    .add(Options, "/v1/uploads", Public, uploads::options)
    .add(Post, "/v1/uploads", Needs(Publish), uploads::create)
    .add(
        Head,
        "/v1/uploads/{upload_id}",
        Needs(Publish),
        uploads::head,
    )
    .add(
        Patch,
        "/v1/uploads/{upload_id}",
        Needs(Publish),
        uploads::patch,
    )
    .add(
        Delete,
        "/v1/uploads/{upload_id}",
        Needs(Publish),
        uploads::terminate,
    )
    .add(Post, "/v1/listings", Needs(Publish), listings::create)
    .add(Get, "/v1/listings", Needs(ReadManifest), listings::list)
    .add(
        Get,
        "/v1/listings/{listing_id}",
        Needs(ReadManifest),
        listings::get,
    )
    .add(
        Put,
        "/v1/listings/{listing_id}",
        Needs(Publish),
        listings::update,
    )
    .add(
        Patch,
        "/v1/listings/{listing_id}",
        Needs(Publish),
        listings::patch,
    )
    .add(
        Post,
        "/v1/listings/{listing_id}/withdrawals",
        Needs(Publish),
        listings::withdraw,
    )
    .add(
        Post,
        "/v1/listings/{listing_id}/purchases",
        Needs(Purchase),
        purchases::buy,
    )
    .add(
        Get,
        "/v1/purchases/{purchase_id}",
        Needs(ReadManifest),
        purchases::get,
    )
    .add(
        Post,
        "/v1/purchases/{purchase_id}/refund",
        Needs(Publish),
        purchases::refund,
    )
    .add(
        Post,
        "/v1/purchases/{purchase_id}/confirm",
        Needs(Purchase),
        purchases::confirm,
    )
    .add(
        Get,
        "/v1/purchases/{purchase_id}/files",
        Needs(ReadShards),
        delivery::files,
    )
    .add(
        Get,
        "/v1/downloads/{token}",
        Needs(ReadShards),
        delivery::download,
    )
    .add(
        Get,
        "/v1/listings/{listing_id}/keys",
        Needs(ReadManifest),
        publisher_keys::of_listing,
    )
    .add(
        Get,
        "/v1/listings/{listing_id}/sample",
        Needs(ReadManifest),
        sample::get,
    )
    .add(
        Put,
        "/v1/listings/{listing_id}/assets/{asset_id}/preview",
        Needs(Publish),
        previews::put,
    )
    .add(
        Get,
        "/v1/listings/{listing_id}/assets/{asset_id}/preview",
        Needs(ReadManifest),
        previews::get,
    )
    .add(
        Put,
        "/v1/listings/{listing_id}/assets/{asset_id}/credentials",
        Needs(Publish),
        credentials::put,
    )
    .add(
        Get,
        "/v1/listings/{listing_id}/assets/{asset_id}/credentials",
        Needs(ReadManifest),
        credentials::get,
    )
    .add(Post, "/v1/checkpoints", Needs(Publish), checkpoints::post)
    .add(
        Get,
        "/v1/checkpoints/latest",
        Needs(Publish),
        checkpoints::latest,
    )
    .add(
        Get,
        "/v1/listings/{listing_id}/checkpoint",
        Needs(ReadManifest),
        checkpoints::of_listing,
    )
    .add(Get, "/v1/witness/key", Public, checkpoints::key)
    .add(Get, "/v1/events", Needs(Publish), feed::list)
    .add(Post, "/v1/webhooks", Needs(Publish), webhooks::create)
    .add(Get, "/v1/webhooks", Needs(Publish), webhooks::list)
    .add(
        Delete,
        "/v1/webhooks/{webhook_id}",
        Needs(Publish),
        webhooks::delete,
    );
    let router = table
        .router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn(close_after_refused_body))
        .layer(map_response(hygiene))
        .with_state(app);
    (router, table.routes)
}

/// Headers every answer carries: never sniffed as another type than it
/// says, and never stored by a cache (signed links, downloads, manifests
/// and everything else here is one account's), unless the route chose
/// otherwise (a preview may be kept privately for a while).
async fn hygiene(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// A request refused before its body was read leaves that body unread on
/// the connection, which can then not carry another request: say so, so
/// the client opens a new one instead of failing on this one.
async fn close_after_refused_body(request: Request, next: Next) -> Response {
    let has_body = request.headers().contains_key(header::TRANSFER_ENCODING)
        || request
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|n| n.as_bytes() != b"0");
    let mut response = next.run(request).await;
    if has_body && (response.status().is_client_error() || response.status().is_server_error()) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("no route {}", shown(uri.path())),
    )
}

async fn method_not_allowed(uri: Uri) -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("{} does not take this method", shown(uri.path())),
    )
}
