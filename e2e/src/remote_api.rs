//! A platform's API on loopback (a carrier's, a channel's, a payment processor's), answering
//! with the platform's own recorded payloads. Only what is outside this machine is mocked:
//! never our own database or services.

// Test support: a broken stand-in should fail the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

/// One canned answer: status, extra headers, body.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    /// Held this long before it is sent (a platform slow to answer, or one whose answer
    /// never arrives because the caller died waiting).
    pub delay: Option<Duration>,
}

impl Reply {
    pub fn json(body: Vec<u8>) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type", "application/json".into())],
            body,
            delay: None,
        }
    }

    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: br#"{"error":"mock"}"#.to_vec(),
            delay: None,
        }
    }

    pub fn with(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    pub fn held_for(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

type Script = Arc<Mutex<HashMap<String, Vec<Reply>>>>;

/// What a write does to the platform's state: from the request's body, the new answers of
/// other paths (e.g. the order read back now holds the fulfilment just made).
pub type Effect = Box<dyn Fn(&[u8]) -> Vec<(String, Vec<Reply>)> + Send + Sync>;
type Effects = Arc<Mutex<HashMap<String, Effect>>>;

/// Requests seen: (method, path with query, header `name` asked for at spawn).
pub type Seen = Arc<Mutex<Vec<(String, String, Option<String>)>>>;

/// Bodies of the requests seen: (method, path, body).
pub type Bodies = Arc<Mutex<Vec<(String, String, Vec<u8>)>>>;

pub struct MockApi {
    pub base: String,
    script: Script,
    pub seen: Seen,
    pub bodies: Bodies,
    effects: Effects,
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
        let effects: Effects = Arc::default();
        let (s, w, b, e) = (
            script.clone(),
            seen.clone(),
            bodies.clone(),
            effects.clone(),
        );
        let server = HttpServer::new(move || {
            let (script, seen, bodies, effects) = (s.clone(), w.clone(), b.clone(), e.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (script, seen, bodies, effects) = (
                    script.clone(),
                    seen.clone(),
                    bodies.clone(),
                    effects.clone(),
                );
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
                    let keyed = format!("{} {path}", req.method());
                    // The write takes effect when it arrives, whether or not its answer does.
                    if let Some(effect) = effects.lock().unwrap().get(&keyed) {
                        let mut script = script.lock().unwrap();
                        for (other, replies) in effect(&body) {
                            script.insert(other, replies);
                        }
                    }
                    let reply = {
                        let mut script = script.lock().unwrap();
                        let key = if script.contains_key(&keyed) {
                            keyed
                        } else {
                            path.clone()
                        };
                        match script.get_mut(&key) {
                            // The last reply repeats; earlier ones are used once each.
                            Some(replies) if replies.len() > 1 => Some(replies.remove(0)),
                            Some(replies) => replies.first().cloned(),
                            None => None,
                        }
                    };
                    let Some(reply) = reply else {
                        return HttpResponse::NotFound().body(format!("no mock for {path}"));
                    };
                    if let Some(delay) = reply.delay {
                        tokio::time::sleep(delay).await;
                    }
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
            effects,
            _server: handle,
        }
    }

    /// Answers requests to `path` with `replies`, in order, the last one repeating. `path`
    /// may start with a method (`"POST /notes"`): that method's requests are answered so,
    /// the others by the plain path's replies.
    pub fn on(&self, path: &str, replies: Vec<Reply>) {
        self.script.lock().unwrap().insert(path.to_owned(), replies);
    }

    /// When `method_path` (`"POST /fulfillments.json"`) is requested, `effect` changes what
    /// other paths answer, before its own answer is sent.
    pub fn effect(
        &self,
        method_path: &str,
        effect: impl Fn(&[u8]) -> Vec<(String, Vec<Reply>)> + Send + Sync + 'static,
    ) {
        self.effects
            .lock()
            .unwrap()
            .insert(method_path.to_owned(), Box::new(effect));
    }

    /// Requests seen for `path` by `method`.
    pub fn hits_by(&self, method: &str, path: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, p, _)| m == method && p.split('?').next() == Some(path))
            .count()
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
