//! `--stack-config FILE`: the user's current CORS configuration in their stack's own names,
//! read into [`Settings`]. JSON for every stack (Express's options object, FastAPI's and
//! Flask-CORS's keyword arguments, Django's `CORS_*` settings, the other stacks' settings
//! as `stack_fix.config` writes them); nginx's `add_header` lines as they are written.

use serde_json::{Map, Value};

use super::settings::{comma_list, Settings};
use super::{nginx, Stack};

#[derive(Debug, thiserror::Error)]
pub enum StackConfigError {
    #[error("{path}:{line}:{column}: {reason}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        reason: String,
    },
    #[error("{path}: `{key}`: {reason}")]
    Value {
        path: String,
        key: String,
        reason: String,
    },
}

/// Option names per stack: (origins, methods, request headers, exposed headers,
/// credentials, max age).
pub(super) struct Names {
    origins: &'static [&'static str],
    patterns: &'static [&'static str],
    any_origin: Option<&'static str>,
    methods: &'static [&'static str],
    headers: &'static [&'static str],
    expose: &'static [&'static str],
    credentials: &'static [&'static str],
    max_age: &'static [&'static str],
}

pub(super) fn names(stack: Stack) -> Names {
    match stack {
        Stack::Express => Names {
            origins: &["origin"],
            patterns: &[],
            any_origin: None,
            methods: &["methods"],
            headers: &["allowedHeaders", "headers"],
            expose: &["exposedHeaders"],
            credentials: &["credentials"],
            max_age: &["maxAge"],
        },
        Stack::Fastapi => Names {
            origins: &["allow_origins"],
            patterns: &["allow_origin_regex"],
            any_origin: None,
            methods: &["allow_methods"],
            headers: &["allow_headers"],
            expose: &["expose_headers"],
            credentials: &["allow_credentials"],
            max_age: &["max_age"],
        },
        Stack::Flask => Names {
            origins: &["origins"],
            patterns: &[],
            any_origin: None,
            methods: &["methods"],
            headers: &["allow_headers"],
            expose: &["expose_headers"],
            credentials: &["supports_credentials"],
            max_age: &["max_age"],
        },
        Stack::Django => Names {
            origins: &["CORS_ALLOWED_ORIGINS", "CORS_ORIGIN_WHITELIST"],
            patterns: &["CORS_ALLOWED_ORIGIN_REGEXES", "CORS_ORIGIN_REGEX_WHITELIST"],
            any_origin: Some("CORS_ALLOW_ALL_ORIGINS"),
            methods: &["CORS_ALLOW_METHODS"],
            headers: &["CORS_ALLOW_HEADERS"],
            expose: &["CORS_EXPOSE_HEADERS"],
            credentials: &["CORS_ALLOW_CREDENTIALS"],
            max_age: &["CORS_PREFLIGHT_MAX_AGE"],
        },
        Stack::Spring => Names {
            origins: &["allowedOrigins"],
            patterns: &["allowedOriginPatterns"],
            any_origin: None,
            methods: &["allowedMethods"],
            headers: &["allowedHeaders"],
            expose: &["exposedHeaders"],
            credentials: &["allowCredentials"],
            max_age: &["maxAge"],
        },
        Stack::Aspnet => Names {
            origins: &["origins"],
            patterns: &[],
            any_origin: Some("allowAnyOrigin"),
            methods: &["methods"],
            headers: &["headers"],
            expose: &["exposedHeaders"],
            credentials: &["allowCredentials"],
            max_age: &["preflightMaxAgeSeconds"],
        },
        Stack::Actix => Names {
            origins: &["allowed_origins"],
            patterns: &[],
            any_origin: Some("allow_any_origin"),
            methods: &["allowed_methods"],
            headers: &["allowed_headers"],
            expose: &["expose_headers"],
            credentials: &["supports_credentials"],
            max_age: &["max_age"],
        },
        Stack::Go | Stack::Nginx => Names {
            origins: &["AllowedOrigins"],
            patterns: &[],
            any_origin: None,
            methods: &["AllowedMethods"],
            headers: &["AllowedHeaders"],
            expose: &["ExposedHeaders"],
            credentials: &["AllowCredentials"],
            max_age: &["MaxAge"],
        },
    }
}

impl Names {
    pub(super) fn origins(&self) -> &'static str {
        self.origins[0]
    }
    pub(super) fn pattern(&self) -> Option<&'static str> {
        self.patterns.first().copied()
    }
    pub(super) fn any_origin(&self) -> Option<&'static str> {
        self.any_origin
    }
    pub(super) fn methods(&self) -> &'static str {
        self.methods[0]
    }
    pub(super) fn headers(&self) -> &'static str {
        self.headers[0]
    }
    pub(super) fn expose(&self) -> &'static str {
        self.expose[0]
    }
    pub(super) fn credentials(&self) -> &'static str {
        self.credentials[0]
    }
    pub(super) fn max_age(&self) -> &'static str {
        self.max_age[0]
    }
}

pub fn read(stack: Stack, path: &str, text: &str) -> Result<Settings, StackConfigError> {
    if stack == Stack::Nginx {
        return nginx::read(path, text);
    }
    let value: Value = serde_json::from_str(text).map_err(|e| StackConfigError::Syntax {
        path: path.to_owned(),
        line: e.line(),
        column: e.column(),
        reason: format!(
            "{e}: --stack-config for {} is JSON (the options as stack_fix.config writes them)",
            stack.as_str()
        )
        .replace(&format!(" at line {} column {}", e.line(), e.column()), ""),
    })?;
    let Value::Object(map) = value else {
        return Err(StackConfigError::Syntax {
            path: path.to_owned(),
            line: 1,
            column: 1,
            reason: "expected a JSON object of options".to_owned(),
        });
    };
    from_map(stack, path, map)
}

fn from_map(
    stack: Stack,
    path: &str,
    map: Map<String, Value>,
) -> Result<Settings, StackConfigError> {
    let n = names(stack);
    let bad = |key: &str, reason: &str| StackConfigError::Value {
        path: path.to_owned(),
        key: key.to_owned(),
        reason: reason.to_owned(),
    };
    let mut s = Settings {
        // Each library's default for a missing origin option: npm cors and Flask-CORS allow
        // every origin, the others none.
        any_origin: matches!(stack, Stack::Express | Stack::Flask)
            && !n.origins.iter().any(|k| map.contains_key(*k)),
        ..Settings::default()
    };
    for (key, value) in map {
        let k = key.as_str();
        if n.origins.contains(&k) {
            origin_value(stack, &value, &mut s).map_err(|r| bad(k, r))?;
        } else if n.patterns.contains(&k) {
            s.patterns.extend(
                strings(&value).ok_or_else(|| bad(k, "expected a string or a list of strings"))?,
            );
        } else if n.any_origin == Some(k) {
            s.any_origin = value
                .as_bool()
                .ok_or_else(|| bad(k, "expected true or false"))?;
        } else if n.methods.contains(&k) {
            s.methods = Some(strings(&value).ok_or_else(|| bad(k, "expected a list of methods"))?);
        } else if n.headers.contains(&k) {
            s.headers =
                Some(strings(&value).ok_or_else(|| bad(k, "expected a list of header names"))?);
        } else if n.expose.contains(&k) {
            s.expose = strings(&value).ok_or_else(|| bad(k, "expected a list of header names"))?;
        } else if n.credentials.contains(&k) {
            s.credentials = value
                .as_bool()
                .ok_or_else(|| bad(k, "expected true or false"))?;
        } else if n.max_age.contains(&k) {
            s.max_age = Some(
                value
                    .as_u64()
                    .ok_or_else(|| bad(k, "expected a number of seconds"))?,
            );
        } else {
            s.extras.insert(key, value);
        }
    }
    Ok(s)
}

/// A string ("a,b" split on commas, as npm cors and Flask-CORS accept) or a list of them.
fn strings(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::String(s) => Some(comma_list(s)),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

/// An origin option: `*`, a name, a pattern, a list of those, or Express's booleans.
fn origin_value(stack: Stack, v: &Value, s: &mut Settings) -> Result<(), &'static str> {
    let items: Vec<&str> = match v {
        Value::Bool(b) if stack == Stack::Express => {
            // `true` reflects any origin, `false` turns CORS off.
            s.any_origin = *b;
            return Ok(());
        }
        Value::String(one) => vec![one.as_str()],
        Value::Array(items) => items
            .iter()
            .map(Value::as_str)
            .collect::<Option<_>>()
            .ok_or("expected origins as strings")?,
        _ => return Err("expected an origin, a list of origins or `*`"),
    };
    for item in items {
        if item == "*" {
            s.any_origin = true;
        } else if stack == Stack::Express && item.starts_with('/') && item.len() > 1 {
            s.patterns.push(item.to_owned());
        } else if stack == Stack::Flask && item.contains(['^', '$', '\\', '(', '[']) {
            // Flask-CORS treats an origin with regular-expression characters as a pattern.
            s.patterns.push(item.to_owned());
        } else {
            s.origins.push(item.to_owned());
        }
    }
    Ok(())
}
