//! What the journal keeps of a browser verdict: the outcome, Chromium's error name, message
//! and fix, and the two log texts written from them once; and, beside it, what each of the
//! three engines says of the same exchange.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::browser::{Browser, CorsError, Outcome, Verdict};

/// What the log keeps of a verdict.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VerdictSummary {
    pub outcome: Outcome,
    pub cors_error: Option<CorsError>,
    pub failed_parameter: Option<String>,
    pub message: Option<String>,
    pub fix: Option<String>,
    /// Chromium's reason without the URLs, for the text log.
    #[serde(skip)]
    reason: Option<String>,
    /// [`VerdictSummary::short`] and [`VerdictSummary::brief`], written once: the memo hands
    /// the same summary to every request that repeats an exchange, and each of them logs it.
    #[serde(skip)]
    short: String,
    #[serde(skip)]
    brief: String,
}

impl VerdictSummary {
    /// What the journal keeps of `v`; [`VerdictSummary::finish`] writes its log texts.
    pub fn from_verdict(v: &Verdict) -> Self {
        VerdictSummary {
            outcome: v.outcome,
            cors_error: v.cors_error,
            failed_parameter: v.failed_parameter.clone(),
            message: v.message.clone(),
            fix: v.fix.clone(),
            reason: v.reason.clone(),
            short: String::new(),
            brief: String::new(),
        }
    }

    /// `✓ allowed` or `✗ blocked: <Chromium's reason> → <fix>` for the text log.
    pub fn short(&self) -> &str {
        &self.short
    }

    /// `✓ allowed` or `✗ <Chromium's error name> → <fix>`: for the verdict a request would
    /// get with credentials, beside its own verdict on the same line. Chromium's full sentence
    /// is in the JSON log and the inspector; repeated on every line it tripled the line.
    pub fn brief(&self) -> &str {
        &self.brief
    }

    /// Writes the log texts once, so every request repeating the exchange shares them.
    pub fn finish(mut self) -> Self {
        self.short = self.render_short();
        self.brief = match (self.outcome, &self.cors_error, &self.fix) {
            (Outcome::Allowed, ..) => "✓ allowed".into(),
            (Outcome::Blocked, e, fix) => {
                let name = e.map_or("blocked", CorsError::name);
                match fix {
                    Some(f) => format!("✗ {name} → {f}"),
                    None => format!("✗ {name}"),
                }
            }
        };
        self
    }

    fn render_short(&self) -> String {
        match self.outcome {
            Outcome::Allowed => "✓ allowed".into(),
            Outcome::Blocked => {
                let reason = self
                    .reason
                    .as_deref()
                    .or(self.message.as_deref())
                    .unwrap_or("blocked");
                match &self.fix {
                    Some(f) => format!("✗ blocked: {reason} → {f}"),
                    None => format!("✗ blocked: {reason}"),
                }
            }
        }
    }
}

/// One engine's verdict on an exchange, in its own words: the shape of `explain --browser`'s
/// verdict, cut to what the log and the inspector show.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EngineVerdict {
    pub outcome: Outcome,
    /// The engine's own name for the failure: Chromium's `CorsError`, Firefox's MDN reason,
    /// `None` for WebKit, which names none.
    pub cors_error: Option<String>,
    /// The console line the engine prints first (or the TypeError, before CORS applies).
    pub message: Option<String>,
    /// Every console line it prints for the request, in order.
    pub messages: Vec<String>,
    /// What `fetch()` rejects with, when it fails.
    pub js_error: Option<String>,
    pub fix: Option<String>,
    /// The check that failed, named as Chromium's `CorsError` whatever the engine: the
    /// engines' own names differ, so this is what tells whether they disagree.
    pub check: Option<CorsError>,
}

impl EngineVerdict {
    pub fn from_verdict(v: &Verdict) -> Self {
        EngineVerdict {
            outcome: v.outcome,
            cors_error: v.engine_error.clone(),
            message: v.message.clone(),
            messages: v.messages.clone(),
            js_error: v.js_error.clone(),
            fix: v.fix.clone(),
            check: v.cors_error,
        }
    }

    /// Whether two engines decide the exchange alike (same outcome, same failed check).
    pub fn agrees_with(&self, other: &EngineVerdict) -> bool {
        self.outcome == other.outcome && self.check == other.check
    }
}

/// The three engines' verdicts on one exchange, in [`Browser::ALL`]'s order; serialised as
/// `{"chromium": …, "firefox": …, "webkit": …}`.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineVerdicts {
    verdicts: [EngineVerdict; 3],
    /// [`EngineVerdicts::disagreement`], written once: the memo hands the same verdicts to
    /// every request that repeats the exchange, and each of them logs it.
    disagreement: Option<String>,
}

impl EngineVerdicts {
    /// Judges with `judge` once per engine; returns Chromium's whole verdict too, for the
    /// journal's `verdict`.
    pub fn judged(mut judge: impl FnMut(Browser) -> Verdict) -> (Verdict, EngineVerdicts) {
        let chromium = judge(Browser::Chromium);
        let verdicts = [
            EngineVerdict::from_verdict(&chromium),
            EngineVerdict::from_verdict(&judge(Browser::Firefox)),
            EngineVerdict::from_verdict(&judge(Browser::WebKit)),
        ];
        let disagreement = disagreement_of(&verdicts);
        (
            chromium,
            EngineVerdicts {
                verdicts,
                disagreement,
            },
        )
    }

    pub fn get(&self, b: Browser) -> &EngineVerdict {
        let at = Browser::ALL.iter().position(|x| *x == b).unwrap_or(0);
        &self.verdicts[at]
    }

    /// Whether `other` (the same exchange with other credentials) differs in any engine.
    pub fn differs_from(&self, other: &EngineVerdicts) -> bool {
        self.verdicts
            .iter()
            .zip(&other.verdicts)
            .any(|(a, b)| !a.agrees_with(b))
    }

    /// `Firefox: ✓ allowed; Safari (WebKit): ✗ CORSMissingAllowOrigin` for every engine that
    /// decides otherwise than Chromium, or `None` when all agree: the text log's line says
    /// Chromium's verdict and only the engines that disagree.
    pub fn disagreement(&self) -> Option<&str> {
        self.disagreement.as_deref()
    }
}

fn disagreement_of(verdicts: &[EngineVerdict; 3]) -> Option<String> {
    let chromium = &verdicts[0];
    let parts: Vec<String> = Browser::ALL
        .iter()
        .zip(verdicts)
        .skip(1)
        .filter(|(_, v)| !v.agrees_with(chromium))
        .map(|(b, v)| {
            let said = match (v.outcome, &v.cors_error) {
                (Outcome::Allowed, _) => "✓ allowed".to_string(),
                (Outcome::Blocked, Some(e)) => format!("✗ {e}"),
                (Outcome::Blocked, None) => format!(
                    "✗ blocked{}",
                    v.check
                        .map(|c| format!(" ({})", c.name()))
                        .unwrap_or_default()
                ),
            };
            format!("{}: {said}", b.display_name())
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

impl Serialize for EngineVerdicts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3))?;
        for (b, v) in Browser::ALL.iter().zip(&self.verdicts) {
            map.serialize_entry(b.name(), v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use crate::browser::CATALOGUE;

    /// The JSON log and `/__sandbox/requests` carry the error as its DevTools name.
    #[test]
    fn every_cors_error_serialises_as_its_devtools_name() {
        for e in CATALOGUE {
            let json = serde_json::to_value(e.error).unwrap();
            assert_eq!(json, serde_json::json!(e.error.name()));
        }
    }
}
