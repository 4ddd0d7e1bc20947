//! The three engines the model speaks for, and the ways their CORS behaviour differs, as
//! data beside the one algorithm in `engine`. Each difference was measured in the real
//! engine (Chromium 156, Firefox 153 ESR, WebKitGTK 2.50 — Safari's engine) and is pinned
//! by a scenario the differential suites run against it; none comes from folklore.
//!
//! Alike in all three (measured): a preflight without `Access-Control-Max-Age` is cached
//! 5 s, and `Max-Age: 0` caches nothing.
//!
//! What differs only in wording (console lines, reason names, the TypeError script sees)
//! lives in `words`; this file holds what changes the outcome, the preflight or the cache.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::cookie_model::ThirdPartyCookies;

/// A browser engine.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Browser {
    /// Chrome, Edge, Opera, Brave: Blink and Chromium's network service.
    #[default]
    Chromium,
    /// Firefox: Gecko and Necko.
    Firefox,
    /// Safari and every iOS browser: WebKit.
    #[serde(rename = "webkit")]
    WebKit,
}

impl Browser {
    /// Every engine, in the order verdicts for all of them are shown.
    pub const ALL: [Browser; 3] = [Browser::Chromium, Browser::Firefox, Browser::WebKit];

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Browser::Chromium => "chromium",
            Browser::Firefox => "firefox",
            Browser::WebKit => "webkit",
        }
    }

    /// The name a person knows the engine's browsers by.
    pub fn display_name(self) -> &'static str {
        match self {
            Browser::Chromium => "Chromium",
            Browser::Firefox => "Firefox",
            Browser::WebKit => "Safari (WebKit)",
        }
    }

    /// Parses [`Browser::name`] (case-insensitive; `safari` means WebKit, `chrome` Chromium).
    pub fn parse(text: &str) -> Option<Browser> {
        match text.to_ascii_lowercase().as_str() {
            "chromium" | "chrome" => Some(Browser::Chromium),
            "firefox" | "gecko" => Some(Browser::Firefox),
            "webkit" | "safari" => Some(Browser::WebKit),
            _ => None,
        }
    }

    /// Which engine a `User-Agent` header belongs to (Chromium's carries "Safari" too, and
    /// WebKit's carries no "Chrome"), or `None` for one that is not a browser's.
    pub fn from_user_agent(ua: &str) -> Option<Browser> {
        if ua.contains("Firefox/") {
            Some(Browser::Firefox)
        } else if ua.contains("Chrome/") || ua.contains("Chromium/") {
            Some(Browser::Chromium)
        } else if ua.contains("AppleWebKit/") {
            Some(Browser::WebKit)
        } else {
            None
        }
    }

    /// The engine's behaviour where it differs from the others.
    pub fn quirks(self) -> &'static Quirks {
        match self {
            Browser::Chromium => &CHROMIUM,
            Browser::Firefox => &FIREFOX,
            Browser::WebKit => &WEBKIT,
        }
    }
}

impl fmt::Display for Browser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a cached preflight whose `Access-Control-Allow-Headers` was `*` is reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachedWildcard {
    /// It covers any header but `Authorization`, which the cache matches by name only
    /// (Chromium's `EnsureAllowedRequest`).
    AllButAuthorization,
    /// It covers every header, `Authorization` included (WebKit).
    Everything,
    /// It covers no header the preflight was not asked for: a new header is preflighted
    /// again (Firefox keeps the names it asked for, not the `*`).
    OnlyRequested,
}

/// Where one engine's CORS behaviour departs from the others'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quirks {
    /// The engine.
    pub browser: Browser,
    /// The longest a preflight result is cached, in seconds, whatever
    /// `Access-Control-Max-Age` says; `None` where no cap was found.
    pub max_age_cap: Option<i64>,
    /// What a cached `Access-Control-Allow-Headers: *` covers.
    pub cached_wildcard: CachedWildcard,
    /// Whether the preflight for the hop after a cross-origin redirect carries the page's
    /// own origin (Firefox) rather than the tainted `null` the actual request carries.
    pub redirect_preflight_keeps_origin: bool,
    /// Whether a `User-Agent` that script sets is sent (making the request non-simple):
    /// the Fetch standard no longer forbids it; Chromium still drops it (crbug 571722).
    pub sends_script_user_agent: bool,
    /// Whether the preflight cache is keyed by the credentials mode (Firefox, as the Fetch
    /// standard says), so a credentialed entry does not serve a request without
    /// credentials; Chromium and WebKit key without it and let such an entry serve.
    pub cache_keyed_by_credentials: bool,
    /// Whether a preflight's status is checked before its `Access-Control-Allow-Origin`
    /// (WebKit: a 404 without the header, or a redirect, is a status failure), rather than
    /// after it (Chromium, Firefox).
    pub preflight_status_first: bool,
    /// The `TypeError` message script sees when a fetch fails for CORS or the network.
    pub fetch_type_error: &'static str,
    /// Whether an `@font-face` font from another origin must pass CORS (Chromium, Firefox,
    /// as the CSS Fonts spec says) or is used without any check (WebKit).
    pub fonts_need_cors: bool,
    /// What a fresh profile does with cross-site cookies.
    pub third_party_cookies: ThirdPartyCookies,
    /// Whether a cookie without `SameSite` is treated as `Lax` (kept off cross-site fetches).
    pub same_site_lax_by_default: bool,
    /// Whether `SameSite=None` without `Secure` is refused.
    pub none_needs_secure: bool,
    /// Whether plain http to a loopback name (`localhost`, `*.localhost`, 127/8) counts as
    /// potentially trustworthy: for `Secure` cookies, and for an https page's fetch, which is
    /// otherwise mixed content. WebKit counts only https (measured: tests/engine_cookies.rs,
    /// tests/engine_mixed.rs).
    pub loopback_http_is_secure: bool,
}

impl Quirks {
    /// How long a preflight whose `Access-Control-Max-Age` parsed to `max_age` seconds
    /// (the default already applied) stays cached.
    pub fn cache_lifetime(&self, max_age: i64) -> i64 {
        match self.max_age_cap {
            Some(cap) => max_age.min(cap),
            None => max_age,
        }
    }
}

const CHROMIUM: Quirks = Quirks {
    browser: Browser::Chromium,
    // Measured (tests/engine_cache_caps.rs, the clock moved under clockshift): cached at
    // 7199 s, not at 7201 s; services/network/cors/preflight_result.cc's kMaxTimeout.
    max_age_cap: Some(7200),
    cached_wildcard: CachedWildcard::AllButAuthorization,
    redirect_preflight_keeps_origin: false,
    sends_script_user_agent: false,
    cache_keyed_by_credentials: false,
    preflight_status_first: false,
    fetch_type_error: "Failed to fetch",
    fonts_need_cors: true,
    third_party_cookies: ThirdPartyCookies::Blocked,
    same_site_lax_by_default: true,
    none_needs_secure: true,
    loopback_http_is_secure: true,
};

const FIREFOX: Quirks = Quirks {
    browser: Browser::Firefox,
    // Measured (tests/engine_cache_caps.rs): Max-Age 100000 still cached after 99900 s,
    // so the 86400 s often quoted is not a cap in Firefox 153.
    max_age_cap: None,
    cached_wildcard: CachedWildcard::OnlyRequested,
    redirect_preflight_keeps_origin: true,
    sends_script_user_agent: true,
    cache_keyed_by_credentials: true,
    preflight_status_first: false,
    fetch_type_error: "NetworkError when attempting to fetch resource.",
    fonts_need_cors: true,
    // Measured (tests/engine_cookies.rs): a cross-site `sid=1; Path=/` is stored and sent
    // back from the same page (Total Cookie Protection partitions it), `SameSite=Lax` and
    // `SameSite=None` without `Secure` are refused, `Secure` works on *.localhost.
    third_party_cookies: ThirdPartyCookies::Partitioned,
    same_site_lax_by_default: false,
    none_needs_secure: true,
    loopback_http_is_secure: true,
};

const WEBKIT: Quirks = Quirks {
    browser: Browser::WebKit,
    // Measured (tests/engine_cache_caps.rs): cached at 599 s, not at 601 s.
    max_age_cap: Some(600),
    cached_wildcard: CachedWildcard::Everything,
    redirect_preflight_keeps_origin: false,
    sends_script_user_agent: true,
    cache_keyed_by_credentials: false,
    preflight_status_first: true,
    fetch_type_error: "Load failed",
    // Measured (tests/element_loads.rs): WebKitGTK 2.50 uses a cross-origin font with no
    // Access-Control-Allow-Origin at all; a `<link rel=preload as=font crossorigin>` of
    // the same URL is still refused.
    fonts_need_cors: false,
    // Measured (tests/engine_cookies.rs): no cross-site cookie is stored, whatever its
    // attributes; on one site, `SameSite=None` without `Secure` is kept and a `Secure` one
    // set over http://localhost is not.
    third_party_cookies: ThirdPartyCookies::Blocked,
    same_site_lax_by_default: false,
    none_needs_secure: false,
    loopback_http_is_secure: false,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_user_agents_are_told_apart() {
        for b in Browser::ALL {
            assert_eq!(Browser::parse(b.name()), Some(b));
            assert_eq!(b.quirks().browser, b);
        }
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36";
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0";
        let webkit = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15";
        assert_eq!(Browser::from_user_agent(chrome), Some(Browser::Chromium));
        assert_eq!(Browser::from_user_agent(firefox), Some(Browser::Firefox));
        assert_eq!(Browser::from_user_agent(webkit), Some(Browser::WebKit));
        assert_eq!(Browser::from_user_agent("curl/8.5.0"), None);
    }
}
