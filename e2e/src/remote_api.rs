//! A platform's API on loopback (a carrier's, a channel's, a payment processor's), answering
//! with the platform's own recorded payloads. Only what is outside this machine is mocked:
//! never our own database or services.

// Test support: a broken stand-in should fail the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

/// One canned answer: status, extra headers, body.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(body: Vec<u8>) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type", "application/json".into())],
            body,
        }
    }

    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: br#"{"error":"mock"}"#.to_vec(),
        }
    }

    pub fn with(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }
}

type Script = Arc<Mutex<HashMap<String, Vec<Reply>>>>;

/// Requests seen: (method, path with query, header `name` asked for at spawn).
pub type Seen = Arc<Mutex<Vec<(String, String, Option<String>)>>>;

/// Bodies of the requests seen: (method, path, body).
pub type Bodies = Arc<Mutex<Vec<(String, String, Vec<u8>)>>>;

pub struct MockApi {
    pub base: String,
    script: Script,
    pub seen: Seen,
    pub bodies: Bodies,
    _server: actix_web::dev::ServerHandle,
}

impl MockApi {
    /// `watch_header`: a request header to record with each request (e.g. an auth token).
    pub fn spawn(watch_header: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let script: Script = Arc::default();
        let seen: Seen = Arc::default();
        let bodies: Bodies = Arc::default();
        let (s, w, b) = (script.clone(), seen.clone(), bodies.clone());
        let server = HttpServer::new(move || {
            let (script, seen, bodies) = (s.clone(), w.clone(), b.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (script, seen, bodies) = (script.clone(), seen.clone(), bodies.clone());
                async move {
                    let path = req.uri().path().to_owned();
                    bodies.lock().unwrap().push((
                        req.method().to_string(),
                        path.clone(),
                        body.to_vec(),
                    ));
                    let full = req
                        .uri()
                        .path_and_query()
                        .map(|p| p.to_string())
                        .unwrap_or_default();
                    let header = req
                        .headers()
                        .get(watch_header)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    seen.lock()
                        .unwrap()
                        .push((req.method().to_string(), full, header));
                    let reply = {
                        let mut script = script.lock().unwrap();
                        match script.get_mut(&path) {
                            // The last reply repeats; earlier ones are used once each.
                            Some(replies) if replies.len() > 1 => Some(replies.remove(0)),
                            Some(replies) => replies.first().cloned(),
                            None => None,
                        }
                    };
                    let Some(reply) = reply else {
                        return HttpResponse::NotFound().body(format!("no mock for {path}"));
                    };
                    let mut res = HttpResponse::build(
                        actix_web::http::StatusCode::from_u16(reply.status).unwrap(),
                    );
                    for (k, v) in &reply.headers {
                        res.insert_header((*k, v.as_str()));
                    }
                    res.body(reply.body)
                }
            }))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            base,
            script,
            seen,
            bodies,
            _server: handle,
        }
    }

    /// Answers requests to `path` with `replies`, in order, the last one repeating.
    pub fn on(&self, path: &str, replies: Vec<Reply>) {
        self.script.lock().unwrap().insert(path.to_owned(), replies);
    }

    /// The JSON bodies sent to `path` by `method`, in order.
    pub fn json_sent(&self, method: &str, path: &str) -> Vec<serde_json::Value> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, p, _)| m == method && p == path)
            .map(|(_, _, b)| serde_json::from_slice(b).unwrap_or(serde_json::Value::Null))
            .collect()
    }

    pub fn hits(&self, path: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, p, _)| p.split('?').next() == Some(path))
            .count()
    }
}
