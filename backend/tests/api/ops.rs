//! Operator endpoints: probes, metrics, request ids.

use serde_json::json;

use crate::helpers::{fresh_settings, spawn_app, spawn_with};

const METRICS_TOKEN: &str = "metrics-token-for-tests-0123456789";

#[tokio::test]
async fn health_and_readiness_report_the_dependencies() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    let expected_redis = if std::env::var("REDIS_URL").is_ok_and(|u| !u.is_empty()) {
        "ok"
    } else {
        "not configured"
    };
    assert_eq!(body["redis"], expected_redis);
}

#[tokio::test]
async fn metrics_count_http_and_graphql_requests_and_show_the_pool() {
    let mut settings = fresh_settings().await;
    settings.metrics_token = Some(METRICS_TOKEN.into());
    let app = spawn_with(settings).await;
    app.gql(None, "{ __typename }", json!({})).await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            "orderflow_http_requests_total{method=\"POST\",route=\"/graphql\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("orderflow_graphql_requests_total{operation=\"query\",outcome=\"ok\"} 1")
    );
    assert!(text.contains("orderflow_http_request_duration_seconds_bucket"));
    assert!(text.contains("orderflow_db_pool_connections{state=\"max\"}"));
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_echoes_a_given_one() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(res.headers().get("x-request-id").is_some());
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn graphiql_is_served_on_get() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/graphql")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("graphiql")
    );
}

#[tokio::test]
async fn metrics_are_served_only_with_the_token_and_readiness_tells_no_internals() {
    // No token configured: not served on the main address at all.
    let app = spawn_app().await;
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 404);
    let mut settings = fresh_settings().await;
    settings.metrics_token = Some(METRICS_TOKEN.into());
    let app = spawn_with(settings).await;
    for token in [None, Some("wrong-token-of-some-length"), Some("")] {
        let mut req = app.client.get(app.url("/metrics"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status().as_u16(), 401, "{token:?}");
        let body = res.text().await.unwrap();
        assert!(!body.contains("orderflow_"), "{body}");
    }
    // Readiness says ok/error/timeout per dependency, never the error text.
    let body: serde_json::Value = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for dep in ["database", "redis"] {
        let v = body[dep].as_str().unwrap();
        assert!(
            ["ok", "error", "timeout", "not configured"].contains(&v),
            "{body}"
        );
    }
    assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
}
