//! Tiny HTTP/1.1 servers on loopback for tests that need a vendor answering exactly what the
//! test says (one connection per request), recording what they receive.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use super::{TOKEN, Workdir};

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Whether it carried the test token.
    pub authorized: bool,
    /// The request body, as sent.
    pub body: Vec<u8>,
}

pub struct Answer {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Answer {
    /// A JSON answer with this status.
    pub fn json(status: u16, body: impl Into<String>) -> Answer {
        Answer {
            status,
            location: None,
            body: body.into(),
        }
    }
}

pub type Handler = dyn Fn(&Request) -> Answer + Send + Sync;

pub struct Server {
    pub port: u16,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn start(handler: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (handler, log) = (Arc::clone(&handler), Arc::clone(&log));
                std::thread::spawn(move || {
                    let _ = serve_one(stream, &*handler, &log);
                });
            }
        });
        Server { port, seen }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

/// Reads one request (head and `Content-Length` body), answers it, closes the connection.
fn serve_one(
    stream: TcpStream,
    handler: &Handler,
    log: &Mutex<Vec<Request>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(());
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let (mut length, mut authorized) = (0, false);
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("authorization") {
                authorized = value == format!("Bearer {TOKEN}");
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let request = Request {
        method,
        target,
        authorized,
        body,
    };
    let answer = handler(&request);
    log.lock().unwrap().push(request);
    let mut head = format!(
        "HTTP/1.1 {} Whatever\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        answer.status,
        answer.body.len()
    );
    if let Some(location) = answer.location {
        head.push_str(&format!("Location: {location}\r\n"));
    }
    let mut stream = stream;
    stream.write_all(format!("{head}\r\n{}", answer.body).as_bytes())?;
    stream.flush()
}

/// What a [`fake_ada`] create answers: the new integration's id, and its `client_secret` as raw
/// JSON text (`"\"s3cret\""`, `"\"\""`, `"5"`), or `None` for no `client_secret` key.
pub struct Issue {
    pub id: String,
    pub client_secret: Option<String>,
}

/// A minimal Ada: creates take the next [`Issue`] (a create beyond them is a 500), lists answer
/// every integration created so far on one page. Enough for what happens to an answer's id and
/// secret, which the emulator chooses itself.
pub fn fake_ada(issues: Vec<Issue>) -> Server {
    let issues = Mutex::new(std::collections::VecDeque::from(issues));
    let records: Mutex<Vec<serde_json::Value>> = Mutex::default();
    Server::start(move |request| {
        if !request.authorized {
            return Answer::json(
                401,
                r#"{"errors":[{"type":"unauthorized","message":"no"}]}"#,
            );
        }
        match request.method.as_str() {
            "GET" => {
                let data = serde_json::Value::Array(records.lock().unwrap().clone());
                Answer::json(
                    200,
                    format!(r#"{{"data":{data},"meta":{{"next_page_url":null}}}}"#),
                )
            }
            "POST" => {
                let Some(issue) = issues.lock().unwrap().pop_front() else {
                    return Answer::json(500, r#"{"errors":[{"type":"x","message":"no more"}]}"#);
                };
                let mut record: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_slice(&request.body).unwrap();
                record.insert("id".into(), issue.id.clone().into());
                record.insert("status".into(), "development".into());
                record.insert("created".into(), "2026-12-02T10:00:00+00:00".into());
                let text = serde_json::Value::Object(record.clone()).to_string();
                records.lock().unwrap().push(record.into());
                let body = match issue.client_secret {
                    Some(secret) => {
                        format!(r#"{},"client_secret":{secret}}}"#, &text[..text.len() - 1])
                    }
                    None => text,
                };
                Answer::json(200, body)
            }
            _ => Answer::json(405, r#"{"errors":[{"type":"x","message":"no"}]}"#),
        }
    })
}

/// A test directory whose targets (`ada`, `truto`) both point at `server`, with few, quick
/// retries, and `manifests` written into `manifests/`.
pub fn env_at(server: &Server, manifests: &[(&str, String)]) -> Workdir {
    let work = Workdir::new();
    work.write_config(
        &server.base_url(),
        100,
        "retry = { attempts = 2, base_delay_ms = 10, max_delay_ms = 20 }",
    );
    for (file, text) in manifests {
        work.manifest(file, text);
    }
    work
}
