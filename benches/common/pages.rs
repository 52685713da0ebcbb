//! Cached list pages served by another process, and the plainest client of them (issue #24).
//!
//! The plan bench runs its own executable twice more: `--serve-pages DIR` serves the pages a
//! directory holds (written by [`write`]) over HTTP/1.1 from memory, in a process of its own,
//! so that the client's cores are not the server's threads' (the kernel still schedules both on
//! the machine's cores, as with any local server); `--fetch-pages BASE PATH TOKEN` is the
//! physical limit a client of those pages has: one keep-alive connection, each request sent as
//! soon as the previous answer's `next_page_url` is found in its bytes, nothing else read.
//!
//! Both are blocking std code (a thread per connection for the server): no runtime, no
//! parser, nothing computed per request but a lookup, so they cost what the wire costs.

#![allow(dead_code)] // reason: each bench uses part of it

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request the page server answered.
#[derive(Debug)]
pub struct Logged {
    pub method: String,
    pub target: String,
    /// `Authorization: Bearer <token>` was sent with the expected token.
    pub authorized: bool,
    /// The target was a cached page (answered 200, not 404).
    pub found: bool,
}

/// Writes `pages` (request target → body) into `dir`: `index.tsv` (`target\tfile` lines) and
/// one file per page.
pub fn write(dir: &Path, pages: &HashMap<String, Vec<u8>>) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let mut index = String::new();
    let mut targets: Vec<&String> = pages.keys().collect();
    targets.sort();
    for (n, target) in targets.into_iter().enumerate() {
        let file = format!("page-{n:05}.json");
        std::fs::write(dir.join(&file), &pages[target]).unwrap();
        index.push_str(&format!("{target}\t{file}\n"));
    }
    std::fs::write(dir.join("index.tsv"), index).unwrap();
}

/// Serves pages ([`serve`]) when this executable was started as `--serve-pages DIR TOKEN
/// [LATENCY_MS]`, until told to stop; whether it was.
pub fn serve_if_asked() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let Some(at) = args.iter().position(|a| a == "--serve-pages") else {
        return false;
    };
    let latency = args.get(at + 3).map_or(0, |ms| ms.parse().unwrap());
    serve(
        Path::new(&args[at + 1]),
        &args[at + 2],
        Duration::from_millis(latency),
    );
    true
}

/// `--serve-pages DIR TOKEN [LATENCY_MS]`: serves `DIR`'s pages on a free loopback port, prints
/// `http://127.0.0.1:PORT` on stdout, and serves until stdin is closed. `GET /_log` answers the
/// requests served since the previous `/_log` (one per line: method, target, authorized,
/// found). With `LATENCY_MS`, every page is answered that long after its request arrived.
pub fn serve(dir: &Path, token: &str, latency: Duration) {
    let mut answers = HashMap::new();
    for line in std::fs::read_to_string(dir.join("index.tsv"))
        .unwrap()
        .lines()
    {
        let (target, file) = line.split_once('\t').unwrap();
        let body = std::fs::read(dir.join(file)).unwrap();
        answers.insert(target.to_owned(), answer("200 OK", &body));
    }
    let answers = Arc::new(answers);
    let log: Arc<Mutex<Vec<Logged>>> = Arc::default();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    println!("http://{}", listener.local_addr().unwrap());
    std::io::stdout().flush().unwrap();
    // The bench closes our stdin to stop us.
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        std::process::exit(0);
    });
    let expected = format!("Bearer {token}");
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let (answers, log, expected) = (Arc::clone(&answers), Arc::clone(&log), expected.clone());
        std::thread::spawn(move || connection(stream, &answers, &log, &expected, latency));
    }
}

/// A complete answer: status line, `Content-Type`, `Content-Length`, body.
fn answer(status: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Requests on one connection, in order, until the client closes it.
fn connection(
    stream: TcpStream,
    answers: &HashMap<String, Vec<u8>>,
    log: &Mutex<Vec<Logged>>,
    expected: &str,
    latency: Duration,
) {
    let _ = stream.set_nodelay(true);
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let not_found = answer(
        "404 Not Found",
        br#"{"errors":[{"message":"not a cached page"}]}"#,
    );
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let arrived = std::time::Instant::now();
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or_default().to_owned(),
            parts.next().unwrap_or_default().to_owned(),
        );
        let (mut authorized, mut body_len, mut close) = (false, 0usize, false);
        loop {
            let mut header = String::new();
            match reader.read_line(&mut header) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let Some((name, value)) = header.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("authorization") {
                authorized = value == expected;
            } else if name.eq_ignore_ascii_case("content-length") {
                body_len = value.parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        let mut body = vec![0; body_len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let reply: std::borrow::Cow<'_, [u8]> = if target == "/_log" {
            let served = std::mem::take(&mut *log.lock().unwrap());
            let text: String = served
                .iter()
                .map(|r| {
                    format!(
                        "{}\t{}\t{}\t{}\n",
                        r.method, r.target, r.authorized, r.found
                    )
                })
                .collect();
            answer("200 OK", text.as_bytes()).into()
        } else {
            let found = answers.get(&target);
            log.lock().unwrap().push(Logged {
                method: method.clone(),
                target: target.clone(),
                authorized,
                found: found.is_some(),
            });
            match found {
                Some(reply) if method == "GET" => reply.as_slice().into(),
                _ => not_found.as_slice().into(),
            }
        };
        if let Some(left) = latency.checked_sub(arrived.elapsed()) {
            std::thread::sleep(left);
        }
        if writer.write_all(&reply).is_err() || close {
            return;
        }
    }
}

/// The server's log since the previous call.
pub fn take_log(base: &str) -> Vec<Logged> {
    let address = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET /_log HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    body.lines()
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            Logged {
                method: f[0].to_owned(),
                target: f[1].to_owned(),
                authorized: f[2] == "true",
                found: f[3] == "true",
            }
        })
        .collect()
}

/// `--fetch-pages BASE PATH TOKEN`: the plainest client: `GET PATH`, find the answer's
/// `next_page_url` in its bytes, ask for it at once, until there is none. Prints the count of
/// pages and bytes read.
pub fn fetch(base: &str, first: &str, token: &str) {
    let address = base.trim_start_matches("http://");
    let stream = TcpStream::connect(address).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::with_capacity(1 << 16, stream);
    let mut path = first.to_owned();
    let (mut pages, mut bytes) = (0usize, 0usize);
    let mut body = Vec::new();
    loop {
        write!(
            writer,
            "GET {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nAccept: */*\r\n\r\n"
        )
        .unwrap();
        let mut length = None;
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.starts_with("HTTP/1.1 200"), "GET {path}: {line}");
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        body.resize(length.expect("a Content-Length"), 0);
        reader.read_exact(&mut body).unwrap();
        pages += 1;
        bytes += body.len();
        match next_page_url(&body) {
            Some(next) => path = next,
            None => break,
        }
    }
    println!("{pages} pages, {bytes} bytes");
}

/// The path and query of Ada's `"next_page_url":"..."` in a page's bytes, found by searching
/// for the key from the end (the emulator writes `meta` last); `None` for `null` or no key.
fn next_page_url(body: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"\"next_page_url\":";
    let at = body.windows(KEY.len()).rposition(|w| w == KEY)? + KEY.len();
    let rest = &body[at..];
    let rest = &rest[rest.iter().position(|b| !b.is_ascii_whitespace())?..];
    if !rest.starts_with(b"\"") {
        return None;
    }
    let end = rest[1..].iter().position(|b| *b == b'"')? + 1;
    let url = std::str::from_utf8(&rest[1..end]).ok()?;
    // Path and query: the host is the one we asked.
    let path = match url.find("://") {
        Some(scheme) => &url[scheme + 3 + url[scheme + 3..].find('/')?..],
        None => url,
    };
    Some(path.to_owned())
}
