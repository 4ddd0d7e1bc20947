//! Response templates: `{{params.id}}`, `{{query.page}}`, `{{headers.x-user}}`,
//! `{{cookies.session}}`, `{{body.user.name}}` and the helpers `{{uuid}}`, `{{now}}`, `{{seq}}`
//! and `{{random_int 1 100}}`; `{{origin.NAME}}` is the URL of the sandbox's origin NAME as
//! the browser reaches it, filled in when the sandbox loads the file (it knows its ports).
//!
//! Parsed once when the routes file loads, into a small AST, so a typo is a load error with a
//! position and never a 500 at request time. Rendering is pure: the caller passes what the
//! request carried and a source of randomness, so tests can pin both.

use serde_json::Value;

/// A parsed template: literal text and placeholders, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Expr(Expr),
}

/// One placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Param(String),
    Query(String),
    /// Lower-cased: header names are case-insensitive.
    Header(String),
    Cookie(String),
    /// A dotted path into the JSON request body; empty for the whole body.
    Body(Vec<String>),
    Uuid,
    Now,
    Seq,
    RandomInt(i64, i64),
    /// `{{origin.NAME}}` before the sandbox filled it in ([`Template::resolve_origins`]).
    Origin(String),
}

/// What is wrong with a template and where, as a byte offset into the template text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    pub offset: usize,
    pub message: String,
}

/// What the request carried, for rendering.
#[derive(Debug, Default, Clone)]
pub struct RequestData {
    pub params: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    /// Names lower-cased.
    pub headers: Vec<(String, String)>,
    pub cookies: Vec<(String, String)>,
    /// The body parsed as JSON, when it was JSON.
    pub body: Option<Value>,
}

/// Per-render values that are not in the request.
pub struct Helpers<'a> {
    /// The route's counter for this request (`{{seq}}`), starting at 1.
    pub seq: u64,
    /// RFC 3339 time of the request (`{{now}}`).
    pub now: String,
    /// Uniform random `u64`s, for `{{uuid}}` and `{{random_int}}`.
    pub random: &'a mut dyn FnMut() -> u64,
}

const OPEN: &str = "{{";
const CLOSE: &str = "}}";

impl Template {
    /// Parses `text`. `params` are the route's path parameter names: `{{params.x}}` for any
    /// other name could never render, so it is refused here.
    pub fn parse(text: &str, params: &[String]) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut at = 0;
        loop {
            let open = rest.find(OPEN);
            let close = rest.find(CLOSE);
            match (open, close) {
                (None, None) => {
                    if !rest.is_empty() {
                        parts.push(Part::Text(rest.to_string()));
                    }
                    break;
                }
                (None, Some(c)) => {
                    return Err(TemplateError {
                        offset: at + c,
                        message: "`}}` without an opening `{{`".into(),
                    })
                }
                (Some(o), Some(c)) if c < o => {
                    return Err(TemplateError {
                        offset: at + c,
                        message: "`}}` without an opening `{{`".into(),
                    })
                }
                (Some(o), _) => {
                    if o > 0 {
                        parts.push(Part::Text(rest[..o].to_string()));
                    }
                    let inner_start = o + OPEN.len();
                    let Some(len) = rest[inner_start..].find(CLOSE) else {
                        return Err(TemplateError {
                            offset: at + o,
                            message: "`{{` is never closed with `}}`".into(),
                        });
                    };
                    let inner = &rest[inner_start..inner_start + len];
                    if let Some(nested) = inner.find(OPEN) {
                        return Err(TemplateError {
                            offset: at + inner_start + nested,
                            message: "`{{` inside a placeholder; close the first one with `}}`"
                                .into(),
                        });
                    }
                    let expr = parse_expr(inner, params).map_err(|message| TemplateError {
                        offset: at + o,
                        message,
                    })?;
                    parts.push(Part::Expr(expr));
                    let consumed = inner_start + len + CLOSE.len();
                    at += consumed;
                    rest = &rest[consumed..];
                }
            }
        }
        Ok(Template { parts })
    }

    /// Fills every `{{origin.NAME}}` with NAME's URL from `origins` (name, URL); the first
    /// name that is not there is the error.
    pub fn resolve_origins(&mut self, origins: &[(String, String)]) -> Result<(), String> {
        for p in &mut self.parts {
            if let Part::Expr(Expr::Origin(name)) = p {
                let url = origins
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, u)| u.clone())
                    .ok_or_else(|| name.clone())?;
                *p = Part::Text(url);
            }
        }
        Ok(())
    }

    /// Whether the template has any placeholder (plain text needs no rendering).
    pub fn is_dynamic(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Expr(_)))
    }

    /// The expression when the template is exactly one placeholder and nothing else.
    pub fn only_expr(&self) -> Option<&Expr> {
        match self.parts.as_slice() {
            [Part::Expr(e)] => Some(e),
            _ => None,
        }
    }

    /// Renders as text. A value the request did not carry renders as the empty string.
    pub fn render(&self, req: &RequestData, h: &mut Helpers<'_>) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Expr(e) => match eval(e, req, h) {
                    None | Some(Value::Null) => {}
                    Some(Value::String(s)) => out.push_str(&s),
                    Some(other) => out.push_str(&other.to_string()),
                },
            }
        }
        out
    }

    /// Renders as a JSON value for a string inside a `json = …` body. A string that is exactly
    /// one placeholder takes the value's own JSON type (`"{{body.age}}"` → `42`, an object stays
    /// an object; a missing value is `null`); anything else renders as a string. Path, query,
    /// header and cookie values are always strings, so they stay strings.
    pub fn render_json(&self, req: &RequestData, h: &mut Helpers<'_>) -> Value {
        match self.only_expr() {
            Some(e) => eval(e, req, h).unwrap_or(Value::Null),
            None => Value::String(self.render(req, h)),
        }
    }
}

/// The names a placeholder may use, for the error message.
const KNOWN: &str = "params.NAME, query.NAME, headers.NAME, cookies.NAME, body.PATH, uuid, now, seq, random_int MIN MAX";

fn parse_expr(inner: &str, params: &[String]) -> Result<Expr, String> {
    let words: Vec<&str> = inner.split_whitespace().collect();
    let unknown = |what: &str| format!("unknown placeholder `{{{{{what}}}}}`; known: {KNOWN}");
    let Some(first) = words.first() else {
        return Err(format!("empty placeholder `{{{{}}}}`; known: {KNOWN}"));
    };
    if *first == "random_int" {
        let bounds: Vec<i64> = words[1..]
            .iter()
            .map(|w| w.parse::<i64>())
            .collect::<Result<_, _>>()
            .map_err(|_| "`random_int` takes two whole numbers, e.g. `{{random_int 1 100}}`")?;
        return match bounds.as_slice() {
            [lo, hi] if lo <= hi => Ok(Expr::RandomInt(*lo, *hi)),
            [_, _] => Err("`random_int MIN MAX` needs MIN <= MAX".into()),
            _ => Err("`random_int` takes two whole numbers, e.g. `{{random_int 1 100}}`".into()),
        };
    }
    if words.len() > 1 {
        return Err(unknown(inner.trim()));
    }
    match *first {
        "uuid" => return Ok(Expr::Uuid),
        "now" => return Ok(Expr::Now),
        "seq" => return Ok(Expr::Seq),
        "body" => return Ok(Expr::Body(Vec::new())),
        _ => {}
    }
    let Some((scope, name)) = first.split_once('.') else {
        return Err(unknown(first));
    };
    if name.is_empty() {
        return Err(format!("`{first}` names nothing after the dot"));
    }
    match scope {
        "params" if params.iter().any(|p| p == name) => Ok(Expr::Param(name.to_string())),
        "params" => Err(format!(
            "`{{{{params.{name}}}}}`: the route's path has no `{{{name}}}` (it has: {})",
            if params.is_empty() {
                "none".to_string()
            } else {
                params.join(", ")
            }
        )),
        "query" => Ok(Expr::Query(name.to_string())),
        "headers" => Ok(Expr::Header(name.to_ascii_lowercase())),
        "cookies" => Ok(Expr::Cookie(name.to_string())),
        "origin" => Ok(Expr::Origin(name.to_string())),
        "body" => {
            let path: Vec<String> = name.split('.').map(str::to_string).collect();
            if path.iter().any(String::is_empty) {
                return Err(format!("`{first}`: an empty field name between dots"));
            }
            Ok(Expr::Body(path))
        }
        _ => Err(unknown(first)),
    }
}

fn lookup(pairs: &[(String, String)], name: &str) -> Option<Value> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| Value::String(v.clone()))
}

/// Follows a dotted path into JSON; numeric segments index arrays.
pub fn body_at<'v>(body: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(body, |v, seg| match v {
        Value::Object(m) => m.get(seg),
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

fn eval(e: &Expr, req: &RequestData, h: &mut Helpers<'_>) -> Option<Value> {
    match e {
        Expr::Param(n) => lookup(&req.params, n),
        Expr::Query(n) => lookup(&req.query, n),
        Expr::Header(n) => lookup(&req.headers, n),
        Expr::Cookie(n) => lookup(&req.cookies, n),
        Expr::Body(path) => req.body.as_ref().and_then(|b| body_at(b, path)).cloned(),
        Expr::Uuid => Some(Value::String(uuid_v4(h.random))),
        Expr::Now => Some(Value::String(h.now.clone())),
        Expr::Seq => Some(Value::from(h.seq)),
        // Unfilled only where no sandbox loaded the file: shown as written, never dropped.
        Expr::Origin(n) => Some(Value::String(format!("{{{{origin.{n}}}}}"))),
        Expr::RandomInt(lo, hi) => {
            // i128 so that the full i64 range cannot overflow.
            let span = (*hi as i128 - *lo as i128 + 1) as u128;
            let pick = (h.random)() as u128 % span;
            Some(Value::from((*lo as i128 + pick as i128) as i64))
        }
    }
}

/// A random (version 4) UUID, lower-case hyphenated.
pub fn uuid_v4(random: &mut dyn FnMut() -> u64) -> String {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&random().to_le_bytes());
    b[8..].copy_from_slice(&random().to_le_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Vec<String> {
        vec!["id".to_string()]
    }

    #[test]
    fn parses_what_it_should_and_refuses_the_rest() {
        // (template, Ok(number of placeholders) | Err((offset, message fragment)))
        type Want = Result<usize, (usize, &'static str)>;
        let cases: &[(&str, Want)] = &[
            ("plain text", Ok(0)),
            ("", Ok(0)),
            ("{{params.id}}", Ok(1)),
            ("id={{ params.id }}&p={{query.page}}", Ok(2)),
            ("{{headers.X-User}} {{cookies.session}}", Ok(2)),
            ("{{body}} {{body.user.name}} {{body.items.0}}", Ok(3)),
            ("{{uuid}}{{now}}{{seq}}", Ok(3)),
            ("{{random_int 1 100}} {{random_int -5 -5}}", Ok(2)),
            ("a {single} brace", Ok(0)),
            ("x {{params.nope}}", Err((2, "has no `{nope}`"))),
            ("{{user.name}}", Err((0, "unknown placeholder"))),
            ("{{ }}", Err((0, "empty placeholder"))),
            ("{{uuid extra}}", Err((0, "unknown placeholder"))),
            ("ab {{query.page", Err((3, "never closed"))),
            ("ab }} cd", Err((3, "without an opening"))),
            ("{{query.a {{query.b}}", Err((10, "inside a placeholder"))),
            ("{{random_int 5 1}}", Err((0, "MIN <= MAX"))),
            ("{{random_int 1}}", Err((0, "two whole numbers"))),
            ("{{random_int a b}}", Err((0, "two whole numbers"))),
            ("{{query.}}", Err((0, "names nothing"))),
            ("{{body.a..b}}", Err((0, "empty field name"))),
        ];
        for (text, want) in cases {
            let got = Template::parse(text, &params());
            match (want, got) {
                (Ok(n), Ok(t)) => assert_eq!(
                    t.parts
                        .iter()
                        .filter(|p| matches!(p, Part::Expr(_)))
                        .count(),
                    *n,
                    "{text:?}"
                ),
                (Err((offset, frag)), Err(e)) => {
                    assert_eq!(e.offset, *offset, "{text:?}: {e}");
                    assert!(e.message.contains(frag), "{text:?}: {e}");
                }
                (want, got) => panic!("{text:?}: want {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn an_origin_placeholder_is_filled_with_its_url_and_shown_as_written_until_then() {
        let mut t = Template::parse("{{origin.payments}}/api/payment", &[]).unwrap();
        let mut random = || 0;
        let mut h = Helpers {
            seq: 1,
            now: String::new(),
            random: &mut random,
        };
        let req = RequestData::default();
        assert_eq!(t.render(&req, &mut h), "{{origin.payments}}/api/payment");
        let origins = [(
            "payments".to_string(),
            "http://payments.localhost:3001".to_string(),
        )];
        assert_eq!(t.clone().resolve_origins(&[]), Err("payments".to_string()));
        t.resolve_origins(&origins).unwrap();
        assert!(!t.is_dynamic());
        assert_eq!(
            t.render(&req, &mut h),
            "http://payments.localhost:3001/api/payment"
        );
    }

    #[test]
    fn renders_request_values_and_helpers() {
        let req = RequestData {
            params: vec![("id".into(), "7".into())],
            query: vec![("page".into(), "2".into())],
            headers: vec![("x-user".into(), "sana".into())],
            cookies: vec![("session".into(), "abc".into())],
            body: Some(serde_json::json!({"user": {"name": "Ahmad", "age": 30}, "tags": ["a"]})),
        };
        let mut n = 0u64;
        let mut random = || {
            n += 1;
            n
        };
        let mut h = Helpers {
            seq: 3,
            now: "2026-01-01T00:00:00Z".into(),
            random: &mut random,
        };
        let cases: &[(&str, &str)] = &[
            ("{{params.id}}/{{query.page}}", "7/2"),
            ("{{headers.X-USER}}:{{cookies.session}}", "sana:abc"),
            (
                "{{body.user.name}} {{body.user.age}} {{body.tags.0}}",
                "Ahmad 30 a",
            ),
            ("[{{query.missing}}]", "[]"),
            ("#{{seq}} at {{now}}", "#3 at 2026-01-01T00:00:00Z"),
            ("{{random_int 10 10}}", "10"),
        ];
        for (text, want) in cases {
            let t = Template::parse(text, &params()).unwrap();
            assert_eq!(t.render(&req, &mut h), *want, "{text:?}");
        }
        let json = |text: &str, h: &mut Helpers<'_>| {
            Template::parse(text, &params())
                .unwrap()
                .render_json(&req, h)
        };
        assert_eq!(json("{{body.user.age}}", &mut h), serde_json::json!(30));
        assert_eq!(
            json("{{body.user}}", &mut h),
            serde_json::json!({"name": "Ahmad", "age": 30})
        );
        assert_eq!(json("{{params.id}}", &mut h), serde_json::json!("7"));
        assert_eq!(json("{{body.nope}}", &mut h), Value::Null);
        assert_eq!(
            json("age {{body.user.age}}", &mut h),
            serde_json::json!("age 30")
        );
        let u = json("{{uuid}}", &mut h);
        let u = u.as_str().unwrap();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4", "version 4: {u}");
    }
}
