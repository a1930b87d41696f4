//! A loopback HTTP stand-in that records every request and answers as the test says: for Slack
//! webhooks and Jira Cloud (neither can run here). One request per connection (it answers
//! `Connection: close`), bounded: reads time out after 5 s and the server stops when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The path with its query.
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{} {}: not JSON ({e}): {}", self.method, self.path, self.body))
    }
}

/// How to answer.
pub enum Reply {
    /// A status and body.
    With(u16, String),
    /// Say nothing for this long, then close (a timeout for the client).
    Hang(Duration),
    /// 429 with `Retry-After: N` (seconds) and this body.
    RateLimited(u32, String),
}

impl Stub {
    /// Answers every request with `body` (200, JSON): e.g. a Thanos / Cortex / AMP answering a
    /// partial response (success with `warnings`).
    pub fn answering(body: String) -> Stub {
        Stub::start(move |_, _| Reply::With(200, body.clone()))
    }
}

type Responder = dyn Fn(&Recorded, &[Recorded]) -> Reply + Send + Sync;

pub struct Stub {
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Stub {
    /// Serves on 127.0.0.1; `respond` sees the request and those recorded before it.
    pub fn start(respond: impl Fn(&Recorded, &[Recorded]) -> Reply + Send + Sync + 'static) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(vec![]));
        let stop = Arc::new(AtomicBool::new(false));
        let respond: Arc<Responder> = Arc::new(respond);
        let (r, s) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            // Bounded: no test needs the stand-in for more than two minutes.
            while !s.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(120) {
                match listener.accept() {
                    Ok((stream, _)) => serve(stream, &r, &*respond),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Stub { url, requests, stop, thread: Some(thread) }
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// Those with this method whose path starts with `prefix`.
    pub fn matching(&self, method: &str, prefix: &str) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.method == method && r.path.starts_with(prefix)).collect()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, requests: &Mutex<Vec<Recorded>>, respond: &Responder) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.is_empty() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
    let mut headers = vec![];
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let length: usize =
        headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length.min(1 << 20)];
    let _ = reader.read_exact(&mut body);
    let recorded = Recorded { method, path, headers, body: String::from_utf8_lossy(&body).into_owned() };
    let reply = {
        let mut all = requests.lock().unwrap();
        let reply = respond(&recorded, &all);
        all.push(recorded);
        reply
    };
    let mut stream = stream;
    match reply {
        Reply::With(status, body) => {
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
        Reply::RateLimited(seconds, body) => {
            let _ = write!(
                stream,
                "HTTP/1.1 429 X\r\nretry-after: {seconds}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
        Reply::Hang(d) => std::thread::sleep(d),
    }
    let _ = stream.flush();
}
