//! The admin UI, built into the binary by the build script: the page at `/` and at every path
//! the UI routes (a reload on `/orders/…` shows that order), its script, WebAssembly and style
//! under `/ui/`. Each asset's URL carries its content hash, so browsers keep it until it changes.

use std::sync::LazyLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Compress;
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

static SCRIPT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ui/app.js"));
static WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ui/app_bg.wasm"));
static STYLE: &[u8] = include_bytes!("../../../frontend/style.css");
const PAGE: &str = include_str!("../../../frontend/index.html");

/// One hash over every asset: the `?v=` of their URLs, and their ETag.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut h = Sha256::new();
    for part in [SCRIPT, WASM, STYLE] {
        h.update(part);
    }
    hex::encode(&h.finalize()[..8])
});

static INDEX: LazyLock<String> = LazyLock::new(|| PAGE.replace("{{version}}", &VERSION));

/// Paths that belong to the server; an unknown one below them is a 404, never the UI.
const SERVER_PREFIXES: [&str; 8] = [
    "/graphql",
    "/webhooks/",
    "/exports/",
    "/ui/",
    "/returns/",
    "/review/",
    "/unsubscribe/",
    "/metrics",
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    // The assets go compressed to browsers that ask (the WebAssembly shrinks to about a third).
    cfg.route("/", web::get().to(page)).service(
        web::scope("/ui")
            .wrap(Compress::default())
            .route("/app.js", web::get().to(script))
            .route("/app_bg.wasm", web::get().to(wasm))
            .route("/style.css", web::get().to(style)),
    );
}

async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        // The page names the assets' versions: always ask for it again.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // Its one-click actions (refund, cancel, a new key) are never to be framed by another site.
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::CONTENT_SECURITY_POLICY, "frame-ancestors 'none'"))
        .body(INDEX.as_str())
}

fn asset(req: &HttpRequest, body: &'static [u8], content_type: &'static str) -> HttpResponse {
    let etag = format!("\"{}\"", *VERSION);
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut resp = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    resp.content_type(content_type)
        .insert_header((header::ETAG, etag));
    let versioned = req.query_string() == format!("v={}", *VERSION);
    resp.insert_header((
        header::CACHE_CONTROL,
        HeaderValue::from_static(if versioned {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }),
    ));
    if fresh {
        resp.finish()
    } else {
        resp.body(body)
    }
}

async fn script(req: HttpRequest) -> HttpResponse {
    asset(&req, SCRIPT, "text/javascript; charset=utf-8")
}

async fn wasm(req: HttpRequest) -> HttpResponse {
    asset(&req, WASM, "application/wasm")
}

async fn style(req: HttpRequest) -> HttpResponse {
    asset(&req, STYLE, "text/css; charset=utf-8")
}

/// Anything no route took: the UI's own paths get the page (its router shows them), the rest
/// a 404.
pub async fn fallback(req: HttpRequest) -> HttpResponse {
    let path = req.path();
    let browser_page = req.method() == actix_web::http::Method::GET
        && !SERVER_PREFIXES.iter().any(|p| path.starts_with(p))
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|a| a.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
    if browser_page {
        page().await
    } else {
        HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body(format!("no such resource: {path}\n"))
    }
}
