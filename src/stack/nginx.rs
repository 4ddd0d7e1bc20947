//! nginx: the CORS lines of a `location` block. Read from a user's `add_header` lines and
//! written as one block that answers the preflight itself (`return 204`) and marks every
//! `add_header` `always`, without which nginx leaves them off 4xx and 5xx answers. An `if`
//! block's own `add_header` lines replace the location's, so the preflight branch repeats
//! the origin and credentials lines.

use super::read::StackConfigError;
use super::settings::{comma_list, Settings};

pub fn read(path: &str, text: &str) -> Result<Settings, StackConfigError> {
    let mut s = Settings::default();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        let Some(rest) = line.strip_prefix("add_header") else {
            continue;
        };
        let rest = rest.trim().trim_end_matches(';').trim();
        let rest = rest.strip_suffix("always").unwrap_or(rest).trim();
        let Some((name, value)) = rest.split_once(char::is_whitespace) else {
            return Err(StackConfigError::Syntax {
                path: path.to_owned(),
                line: i + 1,
                column: raw.find("add_header").unwrap_or(0) + 1,
                reason: "add_header needs a name and a value".to_owned(),
            });
        };
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        match name.to_ascii_lowercase().as_str() {
            "access-control-allow-origin" if value == "*" => s.any_origin = true,
            "access-control-allow-origin" if value.starts_with('$') => {
                // `$http_origin`: reflects every origin. Kept as nothing allowed by name, so
                // the fix names the page's origin instead.
            }
            "access-control-allow-origin" => s.origins.push(value.to_owned()),
            "access-control-allow-methods" => s.methods = Some(comma_list(value)),
            "access-control-allow-headers" => s.headers = Some(comma_list(value)),
            "access-control-expose-headers" => s.expose = comma_list(value),
            "access-control-allow-credentials" => s.credentials = value == "true",
            "access-control-max-age" => s.max_age = value.parse().ok(),
            _ => {}
        }
    }
    Ok(s)
}

/// The directives to put inside the API's `location` block (the `config`), after the fix.
pub fn directives(s: &Settings) -> String {
    let origin = if s.any_origin {
        "*".to_owned()
    } else {
        // add_header sends one value; several origins need a `map $http_origin`.
        s.origins.first().cloned().unwrap_or_default()
    };
    let mut common = vec![format!(
        "add_header Access-Control-Allow-Origin \"{origin}\" always;"
    )];
    if !s.any_origin {
        common.push("add_header Vary Origin always;".to_owned());
    }
    if s.credentials {
        common.push("add_header Access-Control-Allow-Credentials \"true\" always;".to_owned());
    }
    let mut preflight = common.clone();
    let methods = s
        .methods
        .clone()
        .unwrap_or_else(|| vec!["GET".into(), "POST".into()]);
    preflight.push(format!(
        "add_header Access-Control-Allow-Methods \"{}\" always;",
        methods.join(", ")
    ));
    if let Some(h) = s.headers.as_ref().filter(|h| !h.is_empty()) {
        preflight.push(format!(
            "add_header Access-Control-Allow-Headers \"{}\" always;",
            h.join(", ")
        ));
    }
    if let Some(age) = s.max_age {
        preflight.push(format!("add_header Access-Control-Max-Age {age} always;"));
    }
    if !s.expose.is_empty() {
        common.push(format!(
            "add_header Access-Control-Expose-Headers \"{}\" always;",
            s.expose.join(", ")
        ));
    }
    let mut out = String::from("if ($request_method = OPTIONS) {\n");
    for l in &preflight {
        out.push_str(&format!("    {l}\n"));
    }
    out.push_str("    return 204;\n}\n");
    for l in &common {
        out.push_str(&format!("{l}\n"));
    }
    out
}

/// The `location` block a person pastes, with the directives inside.
pub fn block(s: &Settings) -> String {
    let mut out = String::from("location /api/ {\n");
    for l in directives(s).lines() {
        out.push_str(&format!("    {l}\n"));
    }
    out.push_str("    # … your proxy_pass / root / try_files, unchanged\n}\n");
    if s.origins.len() > 1 {
        out.push_str(
            "# several origins: add_header sends one value; choose it with\n\
             # map $http_origin $cors_origin { \"~^https?://(a|b)\\.example$\" $http_origin; }\n",
        );
    }
    out
}
