//! Latency and failure injection: `delay_ms`, `error_rate`, `error_status`, `fault` and
//! `slow_body_ms`, from `[defaults]` or from one route, merged over a base.
//!
//! Owns the limits of those keys and the rule that a route's keys override `[defaults]` one by
//! one. It must not inject anything (`serve::api` does) nor know about bodies or matching.

use toml::Spanned;

use super::model::FaultEntry;
use super::{within, STATUSES, STATUS_RANGE};
use crate::routes::{Fault, Faults};
use crate::source_file::{LoadError, Source};

/// Long enough to simulate a slow backend; short enough that a typo cannot hang a test run.
const MAX_DELAY_MS: u64 = 60_000;

/// `[defaults]` over no latency, no faults, and 500 as the injected error's status.
pub(super) fn defaults(
    src: &Source,
    entry: &Option<Spanned<FaultEntry>>,
) -> Result<Faults, LoadError> {
    let base = Faults {
        error_status: 500,
        ..Faults::default()
    };
    match entry {
        Some(d) => {
            let d = d.get_ref();
            merge(
                src,
                &base,
                &d.delay_ms,
                &d.error_rate,
                &d.error_status,
                &d.fault,
                &d.slow_body_ms,
            )
        }
        None => Ok(base),
    }
}

/// Merges a route's (or `[defaults]`') fault keys over `base`.
pub(super) fn merge(
    src: &Source,
    base: &Faults,
    delay_ms: &Option<Spanned<toml::Value>>,
    error_rate: &Option<Spanned<f64>>,
    error_status: &Option<Spanned<u16>>,
    fault: &Option<Spanned<String>>,
    slow_body_ms: &Option<Spanned<u64>>,
) -> Result<Faults, LoadError> {
    let mut f = base.clone();
    if let Some(d) = delay_ms {
        f.delay_ms = delay(src, d)?;
    }
    if let Some(r) = error_rate {
        f.error_rate = within(
            src,
            r,
            |v| (0.0..=1.0).contains(v),
            "error_rate is a probability from 0 to 1, e.g. 0.1",
        )?;
    }
    if let Some(s) = error_status {
        f.error_status = within(src, s, |v| STATUSES.contains(v), STATUS_RANGE)?;
    }
    if let Some(x) = fault {
        f.fault = connection_fault(src, x)?;
    }
    if let Some(s) = slow_body_ms {
        f.slow_body_ms = within(
            src,
            s,
            |v| *v <= MAX_DELAY_MS,
            &format!("slow_body_ms is at most {MAX_DELAY_MS}"),
        )?;
    }
    Ok(f)
}

/// `delay_ms = 200` (fixed) or `delay_ms = [100, 500]` (random in the inclusive range).
fn delay(src: &Source, d: &Spanned<toml::Value>) -> Result<(u64, u64), LoadError> {
    let bad = || {
        src.error_at(
            Some(d.span()),
            &format!(
                "delay_ms is at most {MAX_DELAY_MS}: a number, or [min, max] for a random delay"
            ),
            "here",
            None,
        )
    };
    let ms = |v: &toml::Value| {
        v.as_integer()
            .and_then(|i| u64::try_from(i).ok())
            .filter(|i| *i <= MAX_DELAY_MS)
    };
    Ok(match d.get_ref() {
        toml::Value::Array(a) if a.len() == 2 => match (ms(&a[0]), ms(&a[1])) {
            (Some(lo), Some(hi)) if lo <= hi => (lo, hi),
            _ => return Err(bad()),
        },
        v => {
            let m = ms(v).ok_or_else(bad)?;
            (m, m)
        }
    })
}

/// `fault = "close" | "reset" | "none"`; "none" lets a route switch off a default fault.
fn connection_fault(src: &Source, x: &Spanned<String>) -> Result<Option<Fault>, LoadError> {
    match x.get_ref().as_str() {
        "close" => Ok(Some(Fault::Close)),
        "reset" => Ok(Some(Fault::Reset)),
        "none" => Ok(None),
        other => Err(src.error_at(
            Some(x.span()),
            &format!("`fault = \"{other}\"`: use \"close\", \"reset\" or \"none\""),
            "here",
            None,
        )),
    }
}
