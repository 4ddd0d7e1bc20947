//! A large HTML page costs the static origin a bounded amount of memory per request: above
//! the injection limit it is streamed as it is, without the reload script (said once in the
//! log), instead of being read whole and copied. Small pages still get the script.
//!
//! The measure is the process's peak resident memory (`VmHWM`), a bound rather than a timing.

use std::io::Read;

use super::{attack_project, start};
use crate::util::sandbox::*;

const BIG: usize = 32 * 1024 * 1024;
/// Cross-site iframe loads, each one attack input: any web page can embed the dev page.
const LOADS: usize = 6;
const RELOAD_TAG: &str = "/__sandbox/reload.js";

/// The peak resident memory of process `pid`, in bytes.
fn peak_rss(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib * 1024
}

fn load(url: &str) -> (u16, Vec<u8>) {
    let mut res = client()
        .get(url)
        .header("Sec-Fetch-Site", "cross-site")
        .header("Sec-Fetch-Mode", "navigate")
        .header("Sec-Fetch-Dest", "iframe")
        .send()
        .unwrap();
    let mut body = Vec::new();
    res.read_to_end(&mut body).unwrap();
    (res.status().as_u16(), body)
}

#[test]
fn a_large_html_page_is_streamed_without_copies() {
    let d = attack_project();
    let mut page = b"<!doctype html><html><body>".to_vec();
    page.resize(BIG - 14, b'x');
    page.extend_from_slice(b"</body></html>");
    std::fs::write(d.path().join("web/big.html"), &page).unwrap();
    let sb = start(&d);
    let front = sb.url("frontend").to_string();
    // Small pages keep their live reload.
    let (status, small) = load(&format!("{front}/index.html"));
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&small).contains(RELOAD_TAG));
    let before = peak_rss(sb.pid());
    let handles: Vec<_> = (0..LOADS)
        .map(|_| {
            let url = format!("{front}/big.html");
            std::thread::spawn(move || load(&url))
        })
        .collect();
    let loaded: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let grew = peak_rss(sb.pid()).saturating_sub(before);
    assert!(
        grew < 2 * BIG,
        "{LOADS} loads of a {} MiB page grew the peak memory by {} MiB",
        BIG >> 20,
        grew >> 20
    );
    for (status, body) in loaded {
        assert_eq!(status, 200);
        assert_eq!(body.len(), page.len(), "served as it is, whole");
        assert!(body == page, "the large page is served unchanged");
    }
    // Said once, not once per load.
    let warnings = sb
        .events()
        .into_iter()
        .filter(|e| e["event"] == "warning" && e.to_string().contains("big.html"))
        .count();
    assert_eq!(warnings, 1, "{}", sb.output());
}
