//! The admin UI as the server hands it out: the page at `/` and at the UI's own paths (a reload
//! on a deep link), its assets versioned and compressed, and server paths never answered by it.

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_page_answers_deep_links_and_its_assets_are_versioned_and_compressed() {
    let app = spawn_app().await;
    let html = |path: &str| {
        app.client
            .get(app.url(path))
            .header("accept", "text/html,application/xhtml+xml")
    };
    let root = html("/").send().await.unwrap();
    assert_eq!(root.status().as_u16(), 200);
    assert_eq!(root.headers()["cache-control"], "no-cache");
    assert_eq!(root.headers()["x-frame-options"], "DENY");
    assert_eq!(
        root.headers()["content-security-policy"],
        "frame-ancestors 'none'"
    );
    let page = root.text().await.unwrap();
    let version = page
        .split("/ui/app.js?v=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page names its script's version")
        .to_owned();
    assert_eq!(version.len(), 16, "{page}");
    assert!(
        page.contains(&format!("/ui/app_bg.wasm?v={version}")),
        "{page}"
    );

    // A reload on an order's URL gets the same page; the UI's router shows the order.
    for path in [
        "/orders/T3JkZXI6MQ",
        "/settings/rules",
        "/accept-invite?token=x",
    ] {
        let res = html(path).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{path}");
        assert_eq!(res.text().await.unwrap(), page, "{path}");
    }
    // Not for a script asking for JSON, and never below the server's own paths.
    let api = app
        .client
        .get(app.url("/orders/x"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status().as_u16(), 404);
    for path in [
        "/webhooks/nowhere",
        "/exports/nothing.csv",
        "/ui/missing.js",
    ] {
        let res = html(path).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 404, "{path}");
    }

    // The versioned WebAssembly: cached for good, gzip for a browser that asks, intact.
    let wasm = app
        .client
        .get(app.url(&format!("/ui/app_bg.wasm?v={version}")))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(wasm.status().as_u16(), 200);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(wasm.headers()["content-encoding"], "gzip");
    assert_eq!(
        wasm.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let etag = wasm.headers()["etag"].to_str().unwrap().to_owned();
    let zipped = wasm.bytes().await.unwrap();
    let plain = app
        .client
        .get(app.url("/ui/app_bg.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.headers()["cache-control"], "no-cache");
    let plain = plain.bytes().await.unwrap();
    assert!(plain.starts_with(b"\0asm"), "a WebAssembly module");
    assert!(
        zipped.len() * 2 < plain.len(),
        "{} zipped of {}",
        zipped.len(),
        plain.len()
    );
    // Asked again with its ETag: not modified, no body.
    let again = app
        .client
        .get(app.url("/ui/app_bg.wasm"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 304);
    let css = app
        .client
        .get(app.url(&format!("/ui/style.css?v={version}")))
        .send()
        .await
        .unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
}
