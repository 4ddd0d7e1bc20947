//! Each stack's words for [`Settings`]: the configuration as data (`config`) and as the code
//! or settings a person pastes (`text`).

use serde_json::{json, Map, Value};

use super::library::{Library, DJANGO_HEADERS};
use super::read::names;
use super::settings::Settings;
use super::{nginx, Stack};

/// `(text, config)` for the settings after the fix.
/// `outermost`: FastAPI's middleware wraps the whole app instead of being added to it.
pub fn render(
    stack: Stack,
    s: &Settings,
    changes: &[String],
    lib: &Library,
    outermost: bool,
) -> (String, Value) {
    let config = config(stack, s, lib);
    let code = match stack {
        Stack::Express => express(&config),
        Stack::Fastapi if outermost => {
            python_call("app = CORSMiddleware(\n    app,\n", &config, "    ", ")")
        }
        Stack::Fastapi => python_call(
            "app.add_middleware(\n    CORSMiddleware,\n",
            &config,
            "    ",
            ")",
        ),
        Stack::Flask => python_call("CORS(\n    app,\n", &config, "    ", ")"),
        Stack::Django => django(&config),
        Stack::Nginx => nginx::block(s),
        Stack::Spring => spring(s, lib),
        Stack::Aspnet => aspnet(s),
        Stack::Actix => actix(s),
        Stack::Go => go(s),
    };
    let mut text = String::new();
    if changes.is_empty() {
        text.push_str(&format!(
            "{}: nothing to change for this request.\n",
            stack.title()
        ));
    } else {
        text.push_str(&format!("In {}, change:\n", stack.title()));
        for c in changes {
            text.push_str(&format!("  - {c}\n"));
        }
    }
    text.push_str("so that it reads:\n");
    text.push_str(&code);
    if !code.ends_with('\n') {
        text.push('\n');
    }
    (text, config)
}

/// The origins as one value: a lone name as a string where the library takes one.
fn origins(s: &Settings) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    if s.any_origin {
        out.push(json!("*"));
    }
    out.extend(s.origins.iter().map(|o| json!(o)));
    out
}

fn config(stack: Stack, s: &Settings, lib: &Library) -> Value {
    if stack == Stack::Nginx {
        return Value::String(nginx::directives(s));
    }
    let n = names(stack);
    let mut m = Map::new();
    match stack {
        Stack::Express => {
            let mut all = origins(s);
            all.extend(s.patterns.iter().map(|p| json!(p)));
            // npm cors's default is `*`: left out when that is all it says.
            let only_star = s.any_origin && all.len() == 1;
            if !only_star || s.credentials {
                m.insert(n.origins().into(), one_or_list(all));
            }
        }
        Stack::Django | Stack::Actix | Stack::Aspnet => {
            if s.any_origin {
                m.insert(n.any_origin().unwrap_or("").into(), json!(true));
            }
            if !s.origins.is_empty() {
                m.insert(n.origins().into(), json!(s.origins));
            }
        }
        Stack::Flask if s.any_origin && s.origins.is_empty() && s.patterns.is_empty() => {}
        _ => {
            let mut all = origins(s);
            if stack == Stack::Flask {
                all.extend(s.patterns.iter().map(|p| json!(p)));
            }
            m.insert(n.origins().into(), Value::Array(all));
        }
    }
    if let Some(p) = n.pattern().filter(|_| !s.patterns.is_empty()) {
        let v = if stack == Stack::Fastapi {
            json!(s.patterns.join("|"))
        } else {
            json!(s.patterns)
        };
        m.insert(p.into(), v);
    }
    let explicit = matches!(stack, Stack::Spring);
    match (&s.methods, explicit) {
        (Some(l), _) => {
            m.insert(n.methods().into(), json!(l));
        }
        (None, true) => {
            m.insert(n.methods().into(), json!(lib.default_methods));
        }
        _ => {}
    }
    match (&s.headers, explicit) {
        (Some(l), _) => {
            m.insert(n.headers().into(), json!(l));
        }
        (None, true) => {
            m.insert(n.headers().into(), json!(["*"]));
        }
        _ => {}
    }
    if !s.expose.is_empty() {
        m.insert(n.expose().into(), json!(s.expose));
    }
    if s.credentials {
        m.insert(n.credentials().into(), json!(true));
    }
    if let Some(age) = s.max_age {
        m.insert(n.max_age().into(), json!(age));
    }
    for (k, v) in &s.extras {
        m.entry(k.clone()).or_insert_with(|| v.clone());
    }
    Value::Object(m)
}

fn one_or_list(mut all: Vec<Value>) -> Value {
    if all.len() == 1 {
        all.remove(0)
    } else {
        Value::Array(all)
    }
}

/// A JavaScript literal: single-quoted strings, `/…/` strings as the regular expressions
/// they stand for.
fn js(v: &Value) -> String {
    match v {
        Value::String(s) if s.starts_with('/') && s.len() > 1 => s.clone(),
        Value::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Value::Array(a) => format!("[{}]", a.iter().map(js).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{ {} }}",
            o.iter()
                .map(|(k, v)| format!("{k}: {}", js(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

fn express(config: &Value) -> String {
    let Value::Object(m) = config else {
        return String::new();
    };
    if m.is_empty() {
        return "app.use(cors());\n".to_owned();
    }
    let mut out = String::from("app.use(cors({\n");
    for (k, v) in m {
        out.push_str(&format!("  {k}: {},\n", js(v)));
    }
    out.push_str("}));\n");
    out
}

/// A Python literal: JSON's lists and strings are Python's; the booleans and null differ.
fn py(v: &Value) -> String {
    match v {
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Null => "None".to_owned(),
        Value::Array(a) => format!("[{}]", a.iter().map(py).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{}: {}", json!(k), py(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

fn python_call(head: &str, config: &Value, indent: &str, close: &str) -> String {
    let Value::Object(m) = config else {
        return String::new();
    };
    let mut out = head.to_owned();
    for (k, v) in m {
        out.push_str(&format!("{indent}{k}={},\n", py(v)));
    }
    out.push_str(close);
    out.push('\n');
    out
}

fn django(config: &Value) -> String {
    let Value::Object(m) = config else {
        return String::new();
    };
    let mut out =
        String::from("# settings.py (corsheaders in INSTALLED_APPS, CorsMiddleware first)\n");
    for (k, v) in m {
        let default_plus = k == "CORS_ALLOW_HEADERS"
            && v.as_array().is_some_and(|a| {
                DJANGO_HEADERS
                    .iter()
                    .all(|d| a.iter().any(|x| x.as_str() == Some(*d)))
            });
        if default_plus {
            let extra: Vec<String> = v
                .as_array()
                .into_iter()
                .flatten()
                .filter(|x| !DJANGO_HEADERS.iter().any(|d| x.as_str() == Some(*d)))
                .map(py)
                .collect();
            out.insert_str(0, "from corsheaders.defaults import default_headers\n");
            out.push_str(&format!("{k} = (*default_headers, {})\n", extra.join(", ")));
        } else {
            out.push_str(&format!("{k} = {}\n", py(v)));
        }
    }
    out
}

fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("\"{i}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn spring(s: &Settings, lib: &Library) -> String {
    let methods = s
        .methods
        .clone()
        .unwrap_or_else(|| lib.default_methods.iter().map(|m| m.to_string()).collect());
    let headers = s.headers.clone().unwrap_or_else(|| vec!["*".into()]);
    let mut out = String::from("@Bean\nCorsConfigurationSource corsConfigurationSource() {\n    CorsConfiguration cors = new CorsConfiguration();\n");
    if s.any_origin {
        out.push_str("    cors.setAllowedOriginPatterns(List.of(\"*\"));\n");
    }
    if !s.origins.is_empty() {
        out.push_str(&format!(
            "    cors.setAllowedOrigins(List.of({}));\n",
            quoted(&s.origins)
        ));
    }
    if !s.patterns.is_empty() {
        out.push_str(&format!(
            "    cors.setAllowedOriginPatterns(List.of({}));\n",
            quoted(&s.patterns)
        ));
    }
    out.push_str(&format!(
        "    cors.setAllowedMethods(List.of({}));\n",
        quoted(&methods)
    ));
    out.push_str(&format!(
        "    cors.setAllowedHeaders(List.of({}));\n",
        quoted(&headers)
    ));
    if !s.expose.is_empty() {
        out.push_str(&format!(
            "    cors.setExposedHeaders(List.of({}));\n",
            quoted(&s.expose)
        ));
    }
    if s.credentials {
        out.push_str("    cors.setAllowCredentials(true);\n");
    }
    if let Some(age) = s.max_age {
        out.push_str(&format!("    cors.setMaxAge({age}L);\n"));
    }
    out.push_str("    UrlBasedCorsConfigurationSource source = new UrlBasedCorsConfigurationSource();\n    source.registerCorsConfiguration(\"/**\", cors);\n    return source;\n}\n// with Spring Security: http.cors(Customizer.withDefaults())\n");
    out
}

fn aspnet(s: &Settings) -> String {
    let mut calls = Vec::new();
    if s.any_origin {
        calls.push(".AllowAnyOrigin()".to_owned());
    }
    if !s.origins.is_empty() {
        calls.push(format!(".WithOrigins({})", quoted(&s.origins)));
    }
    if let Some(m) = &s.methods {
        calls.push(format!(".WithMethods({})", quoted(m)));
    }
    if let Some(h) = &s.headers {
        calls.push(format!(".WithHeaders({})", quoted(h)));
    }
    if !s.expose.is_empty() {
        calls.push(format!(".WithExposedHeaders({})", quoted(&s.expose)));
    }
    if s.credentials {
        calls.push(".AllowCredentials()".to_owned());
    }
    if let Some(age) = s.max_age {
        calls.push(format!(".SetPreflightMaxAge(TimeSpan.FromSeconds({age}))"));
    }
    let mut out = String::from(
        "builder.Services.AddCors(options => options.AddPolicy(\"frontend\", policy => policy",
    );
    for c in &calls {
        out.push_str(&format!("\n    {c}"));
    }
    out.push_str("));\n// …\napp.UseCors(\"frontend\"); // before UseAuthentication, UseAuthorization and the endpoints\n");
    out
}

fn rust_list(items: &[String]) -> String {
    format!("vec![{}]", quoted(items))
}

fn actix(s: &Settings) -> String {
    let mut out = String::from("Cors::default()");
    if s.any_origin {
        out.push_str("\n    .allow_any_origin()");
    }
    for o in &s.origins {
        out.push_str(&format!("\n    .allowed_origin(\"{o}\")"));
    }
    if let Some(m) = &s.methods {
        out.push_str(&format!("\n    .allowed_methods({})", rust_list(m)));
    }
    if let Some(h) = &s.headers {
        out.push_str(&format!("\n    .allowed_headers({})", rust_list(h)));
    }
    if !s.expose.is_empty() {
        out.push_str(&format!("\n    .expose_headers({})", rust_list(&s.expose)));
    }
    if s.credentials {
        out.push_str("\n    .supports_credentials()");
    }
    if let Some(age) = s.max_age {
        out.push_str(&format!("\n    .max_age({age})"));
    }
    out.push('\n');
    out
}

fn go(s: &Settings) -> String {
    let slice = |v: &[String]| format!("[]string{{{}}}", quoted(v));
    let mut fields = vec![format!(
        "AllowedOrigins: {},",
        slice(&{
            let mut o = s.origins.clone();
            if s.any_origin {
                o.insert(0, "*".into());
            }
            o
        })
    )];
    if let Some(m) = &s.methods {
        fields.push(format!("AllowedMethods: {},", slice(m)));
    }
    if let Some(h) = &s.headers {
        fields.push(format!("AllowedHeaders: {},", slice(h)));
    }
    if !s.expose.is_empty() {
        fields.push(format!("ExposedHeaders: {},", slice(&s.expose)));
    }
    if s.credentials {
        fields.push("AllowCredentials: true,".to_owned());
    }
    if let Some(age) = s.max_age {
        fields.push(format!("MaxAge: {age},"));
    }
    let mut out = String::from("c := cors.New(cors.Options{\n");
    for f in fields {
        out.push_str(&format!("\t{f}\n"));
    }
    out.push_str("})\nhandler := c.Handler(mux)\n");
    out
}
