//! Just enough URL and origin handling for the CORS model: parse absolute URLs, resolve a
//! `Location`, canonicalise the way Chromium prints URLs in console messages (lower-case
//! scheme and host, default port dropped, "/" for an empty path), and serialise origins.
//! It is not a WHATWG URL parser (no IDNA, no percent-encoding fixes) and must stay pure.

/// A parsed absolute URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// Lower-case scheme, without the colon.
    pub scheme: String,
    /// User name from the authority (empty when none).
    pub username: String,
    /// Password from the authority, if a colon followed the user name.
    pub password: Option<String>,
    /// Lower-case host; an IPv6 address keeps its brackets.
    pub host: String,
    /// Port, `None` when absent or the scheme's default.
    pub port: Option<u16>,
    /// Path plus query and fragment, as given (after the authority).
    pub rest: String,
}

/// A web origin: a (scheme, host, port) tuple or an opaque origin ("null").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A (scheme, host, port) origin as an http(s), ws(s) or ftp URL has.
    Tuple {
        /// Lower-case scheme.
        scheme: String,
        /// Lower-case host.
        host: String,
        /// Port, with the scheme's default filled in.
        port: u16,
    },
    /// An opaque origin, serialised as "null" (a sandboxed page, a `data:` URL).
    Opaque,
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

fn is_special(scheme: &str) -> bool {
    default_port(scheme).is_some() || scheme == "file"
}

/// Splits off a leading `scheme:` if the text has a syntactically valid scheme.
fn split_scheme(s: &str) -> Option<(&str, &str)> {
    let colon = s.find(':')?;
    let scheme = &s[..colon];
    let mut chars = scheme.chars();
    let first = chars.next()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) {
        return None;
    }
    Some((scheme, &s[colon + 1..]))
}

/// Bytes a host may never contain (URL standard's forbidden host code points, plus
/// controls and space).
fn is_forbidden_host_byte(b: u8) -> bool {
    b <= 0x20
        || b == 0x7f
        || matches!(
            b,
            b'#' | b'%'
                | b'/'
                | b':'
                | b'<'
                | b'>'
                | b'?'
                | b'@'
                | b'['
                | b'\\'
                | b']'
                | b'^'
                | b'|'
        )
}

impl Url {
    /// Parses an absolute URL with an authority (`scheme://…`). Special schemes may use
    /// any number of slashes, as browsers accept `http:/host`.
    pub fn parse(input: &str) -> Option<Url> {
        let input = input.trim_matches(|c: char| c <= ' ');
        let (scheme, after) = split_scheme(input)?;
        let scheme = scheme.to_ascii_lowercase();
        let after = after.replace('\\', "/");
        let authority_and_rest = if is_special(&scheme) {
            after.trim_start_matches('/')
        } else {
            after.strip_prefix("//")?
        };
        let end = authority_and_rest
            .find(['/', '?', '#'])
            .unwrap_or(authority_and_rest.len());
        let authority = &authority_and_rest[..end];
        let mut rest = authority_and_rest[end..].to_owned();
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
            None => (None, authority),
        };
        let (username, password) = match userinfo {
            Some(ui) => match ui.find(':') {
                Some(c) => (ui[..c].to_owned(), Some(ui[c + 1..].to_owned())),
                None => (ui.to_owned(), None),
            },
            None => (String::new(), None),
        };
        let (host, port_text) = if let Some(stripped) = hostport.strip_prefix('[') {
            let close = stripped.find(']')?;
            let host = format!("[{}]", &stripped[..close].to_ascii_lowercase());
            let tail = &stripped[close + 1..];
            let port = match tail.strip_prefix(':') {
                Some(p) => Some(p),
                None if tail.is_empty() => None,
                None => return None,
            };
            (host, port)
        } else {
            match hostport.rfind(':') {
                Some(c) => (hostport[..c].to_ascii_lowercase(), Some(&hostport[c + 1..])),
                None => (hostport.to_ascii_lowercase(), None),
            }
        };
        if host.is_empty() && scheme != "file" {
            return None;
        }
        if !host.starts_with('[') && host.bytes().any(is_forbidden_host_byte) {
            return None;
        }
        let port = match port_text {
            None | Some("") => None,
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => Some(p.parse::<u16>().ok()?),
            Some(_) => return None,
        };
        let port = if port == default_port(&scheme) {
            None
        } else {
            port
        };
        if is_special(&scheme) && !rest.starts_with('/') {
            rest.insert(0, '/');
        }
        Some(Url {
            scheme,
            username,
            password,
            host,
            port,
            rest,
        })
    }

    /// Resolves `reference` (a `Location` value) against this URL.
    pub fn join(&self, reference: &str) -> Option<Url> {
        let reference = reference.trim();
        if let Some((scheme, _)) = split_scheme(reference) {
            // "http:foo" relative to an http URL is a path reference in the URL standard;
            // only treat it as absolute when it names another scheme or has slashes.
            let same = scheme.eq_ignore_ascii_case(&self.scheme);
            let has_slash = reference[scheme.len() + 1..].starts_with('/');
            if !same || has_slash {
                return Url::parse(reference);
            }
            return self.join(&reference[scheme.len() + 1..]);
        }
        if reference.starts_with("//") {
            return Url::parse(&format!("{}:{}", self.scheme, reference));
        }
        let mut out = self.clone();
        let (path, _) = split_path(&self.rest);
        if reference.is_empty() {
            out.rest = strip_fragment(&self.rest).to_owned();
        } else if reference.starts_with('#') {
            out.rest = format!("{}{}", strip_fragment(&self.rest), reference);
        } else if reference.starts_with('?') {
            out.rest = format!("{path}{reference}");
        } else if reference.starts_with('/') {
            out.rest = normalize_dots(reference);
        } else {
            let dir = match path.rfind('/') {
                Some(i) => &path[..=i],
                None => "/",
            };
            out.rest = normalize_dots(&format!("{dir}{reference}"));
        }
        Some(out)
    }

    /// Whether the URL carries a user name or password.
    pub fn has_credentials(&self) -> bool {
        !self.username.is_empty() || self.password.is_some()
    }

    /// The port, or the scheme's default (0 for a scheme without one).
    pub fn effective_port(&self) -> u16 {
        self.port
            .or_else(|| default_port(&self.scheme))
            .unwrap_or(0)
    }

    /// The URL's origin: a tuple for schemes with a default port, otherwise opaque.
    pub fn origin(&self) -> Origin {
        if default_port(&self.scheme).is_some() {
            Origin::Tuple {
                scheme: self.scheme.clone(),
                host: self.host.clone(),
                port: self.effective_port(),
            }
        } else {
            Origin::Opaque
        }
    }

    /// Whether the scheme is `http` or `https`, the only ones this model lets a CORS
    /// request use.
    pub fn is_http_or_https(&self) -> bool {
        self.scheme == "http" || self.scheme == "https"
    }

    /// The canonical spelling Chromium prints (GURL spec).
    pub fn serialize(&self) -> String {
        let mut s = format!("{}://", self.scheme);
        if self.has_credentials() {
            s.push_str(&self.username);
            if let Some(p) = &self.password {
                s.push(':');
                s.push_str(p);
            }
            s.push('@');
        }
        s.push_str(&self.host);
        if let Some(p) = self.port {
            s.push_str(&format!(":{p}"));
        }
        s.push_str(&self.rest);
        s
    }

    /// The URL without its fragment: the preflight cache key uses the spec.
    pub fn without_fragment(&self) -> String {
        let mut u = self.clone();
        u.rest = strip_fragment(&self.rest).to_owned();
        u.serialize()
    }
}

fn strip_fragment(rest: &str) -> &str {
    match rest.find('#') {
        Some(i) => &rest[..i],
        None => rest,
    }
}

fn split_path(rest: &str) -> (&str, &str) {
    match rest.find(['?', '#']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    }
}

/// Removes `.` and `..` segments from the path part, keeping query and fragment.
fn normalize_dots(rest: &str) -> String {
    let (path, tail) = split_path(rest);
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => {
                if i == last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if i == last {
                    out.push("");
                }
            }
            other => out.push(other),
        }
    }
    format!("/{}{}", out.join("/"), tail)
}

impl Origin {
    /// Parses a serialized origin as a page would report it ("null" is opaque).
    pub fn parse(s: &str) -> Option<Origin> {
        let s = s.trim();
        if s == "null" {
            return Some(Origin::Opaque);
        }
        let url = Url::parse(s)?;
        if url.has_credentials() {
            return None;
        }
        match url.origin() {
            Origin::Opaque => None,
            o => Some(o),
        }
    }

    /// The ASCII serialisation: `scheme://host` plus `:port` when not the default port;
    /// "null" when opaque.
    pub fn serialize(&self) -> String {
        match self {
            Origin::Opaque => "null".to_owned(),
            Origin::Tuple { scheme, host, port } => {
                if default_port(scheme) == Some(*port) {
                    format!("{scheme}://{host}")
                } else {
                    format!("{scheme}://{host}:{port}")
                }
            }
        }
    }

    /// Same-origin test. An opaque origin is never same-origin with a URL here: the
    /// page's own opaque origin cannot be re-created from a URL.
    pub fn same_origin_with(&self, url: &Url) -> bool {
        match (self, url.origin()) {
            (Origin::Opaque, _) | (_, Origin::Opaque) => false,
            (a, b) => *a == b,
        }
    }

    /// Whether this is the opaque origin.
    pub fn is_opaque(&self) -> bool {
        matches!(self, Origin::Opaque)
    }
}

/// Approximates `GURL(value).is_valid()`, which Chromium uses only to pick between
/// `InvalidAllowOriginValue` and `AllowOriginMismatch` for a non-matching value.
pub fn gurl_is_valid(value: &str) -> bool {
    let Some((scheme, after)) = split_scheme(value) else {
        return false;
    };
    let scheme = scheme.to_ascii_lowercase();
    if is_special(&scheme) && scheme != "file" {
        // GURL accepts "http:host" and "http:/host" for special schemes.
        let body = after.trim_start_matches(['/', '\\']);
        let end = body.find(['/', '?', '#']).unwrap_or(body.len());
        let authority = &body[..end];
        let hostport = authority.rsplit('@').next().unwrap_or("");
        if hostport.starts_with('[') {
            return hostport.contains(']');
        }
        let (host, port) = match hostport.rfind(':') {
            Some(c) => (&hostport[..c], Some(&hostport[c + 1..])),
            None => (hostport, None),
        };
        if host.is_empty() || host.bytes().any(is_forbidden_host_byte) {
            return false;
        }
        if let Some(p) = port {
            if !p.is_empty()
                && (!p.bytes().all(|b| b.is_ascii_digit()) || p.parse::<u16>().is_err())
            {
                return false;
            }
        }
        return true;
    }
    true
}
