//! The local server survives abuse: thousands of idle sockets, slow request heads and slow
//! fake uploads against a server with few descriptors, while a normal request still
//! answers within a second, memory stays bounded and the log does not flood.
//!
//! `ONETHING_SOAK_SOCKETS` (default 2000) sets the number of idle sockets for a longer run.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use testkit::serve::Serve;

const SECRET: &str = "soak-secret-0123456789abcdef0123456789ab";

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// One request on a fresh connection; its status and how long the answer took.
fn request(addr: SocketAddr, head: &str) -> (u16, Duration) {
    let started = Instant::now();
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, started.elapsed())
}

fn get(addr: SocketAddr, path: &str, token: &str) -> (u16, Duration) {
    request(
        addr,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Connection: close\r\n\r\n"
        ),
    )
}

/// A normal guardian's requests answer within a second.
fn normal_requests_answer_quickly(addr: SocketAddr, token: &str, when: &str) {
    for path in ["/healthz", "/v1/cases", "/v1/guide"] {
        let (status, took) = get(addr, path, token);
        assert_eq!(status, 200, "{path} {when}");
        assert!(took < Duration::from_secs(1), "{path} took {took:?} {when}");
    }
}

#[test]
fn idle_sockets_slow_heads_and_slow_uploads_do_not_stop_normal_requests() {
    let sockets: usize = std::env::var("ONETHING_SOAK_SOCKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("serve.log");
    let server = Serve::start_limited(
        Path::new(env!("CARGO_BIN_EXE_onething")),
        &dir.path().join("data"),
        &[],
        [
            ("ONETHING_JWT_SECRET", SECRET),
            ("ONETHING_HEADER_TIMEOUT_MS", "2000"),
            ("ONETHING_BODY_TIMEOUT_MS", "2000"),
        ],
        Stdio::from(std::fs::File::create(&log_path).unwrap()),
        Some(256),
    );
    let addr: SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    let pid = server.child.id();
    let token = testkit::tokens::sign(
        SECRET.as_bytes(),
        "guardian",
        None,
        testkit::family::FATHER_A,
    );
    normal_requests_answer_quickly(addr, &token, "before the attack");
    let rss_before = rss_kib(pid);

    // Idle sockets, far more than the server's 256 descriptors.
    let started = Instant::now();
    let mut idle = Vec::with_capacity(sockets);
    for _ in 0..sockets {
        if let Ok(s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            idle.push(s);
        }
    }
    eprintln!(
        "{} of {sockets} idle sockets connected in {:?}",
        idle.len(),
        started.elapsed()
    );
    normal_requests_answer_quickly(addr, &token, "with thousands of idle sockets");

    // Slow bodies: a stranger's is answered 401 before a byte of it is read, and one
    // caller holds at most four at once (the fifth is 429); others are served meanwhile.
    let post = |token: Option<&str>| {
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        format!(
            "POST /v1/applications HTTP/1.1\r\nHost: {addr}\r\n{auth}\
             Content-Type: application/json\r\nIdempotency-Key: slow\r\n\
             Content-Length: 10000\r\n\r\n{{"
        )
    };
    let answer_of = |s: &mut TcpStream| {
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut answer = [0u8; 12];
        s.read_exact(&mut answer)
            .map(|_| answer.to_vec())
            .unwrap_or_default()
    };
    let mut strangers = Vec::new();
    for _ in 0..200 {
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();
        s.write_all(post(None).as_bytes()).unwrap();
        strangers.push(s);
    }
    for s in strangers.iter_mut() {
        assert_eq!(answer_of(s), b"HTTP/1.1 401", "a stranger's slow body");
    }
    let hog = testkit::tokens::sign(
        SECRET.as_bytes(),
        "guardian",
        None,
        testkit::family::MOTHER_B,
    );
    let mut hogs = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();
        s.write_all(post(Some(&hog)).as_bytes()).unwrap();
        hogs.push(s);
    }
    // The four are being read; give the server a moment to take them in.
    std::thread::sleep(Duration::from_millis(300));
    let mut fifth = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();
    fifth.write_all(post(Some(&hog)).as_bytes()).unwrap();
    assert_eq!(
        answer_of(&mut fifth),
        b"HTTP/1.1 429",
        "one caller's fifth slow body"
    );
    normal_requests_answer_quickly(addr, &token, "with slow bodies held");
    drop(strangers);
    drop(hogs);

    // Slow request heads (one byte at a time) and slow fake uploads (a forged URL
    // declaring 10 MiB, then a trickle of bytes).
    let mut slow_heads = Vec::new();
    for _ in 0..100 {
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();
        s.write_all(b"GET /v1/cases HTTP/1.1\r\nHo").unwrap();
        slow_heads.push(s);
    }
    let mut uploads = Vec::new();
    for i in 0..100 {
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();
        let head = format!(
            "PUT /uploads/materials/c{i}/m{i}?content_type=application%2Fpdf&size=10485760\
             &expires=4102444800&signature=00 HTTP/1.1\r\nHost: {addr}\r\n\
             Content-Type: application/pdf\r\nContent-Length: 10485760\r\n\r\n%PDF-"
        );
        s.write_all(head.as_bytes()).unwrap();
        uploads.push(s);
    }
    for round in 0..3 {
        for s in slow_heads.iter_mut().chain(uploads.iter_mut()) {
            let _ = s.write_all(b"x");
        }
        normal_requests_answer_quickly(addr, &token, &format!("during slow senders ({round})"));
        std::thread::sleep(Duration::from_millis(300));
    }

    // A forged upload is refused before its body is read.
    let mut forged = uploads.pop().unwrap();
    forged
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = [0u8; 12];
    forged.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 403", "a forged upload URL");

    // A request head that trickles in is cut off after the header timeout (2 s here).
    let mut slow = slow_heads.pop().unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let waited = Instant::now();
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    assert!(
        waited.elapsed() < Duration::from_secs(6),
        "a slow request head was held for {:?}",
        waited.elapsed()
    );

    let rss_after = rss_kib(pid);
    eprintln!("RSS before {rss_before} KiB, under attack {rss_after} KiB");
    assert!(
        rss_after < rss_before + 64 * 1024,
        "memory grew from {rss_before} KiB to {rss_after} KiB"
    );
    drop(idle);
    drop(slow_heads);
    drop(uploads);
    normal_requests_answer_quickly(addr, &token, "after the attack");
    let log = std::fs::metadata(&log_path).unwrap().len();
    eprintln!("log: {log} bytes");
    assert!(log < 64 * 1024, "the log grew to {log} bytes under attack");
}
