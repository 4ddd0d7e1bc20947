//! A value that fits a schema, for an operation that documents none: what a response body or
//! header holds when the document has only the schema.
//!
//! Values are chosen, never drawn at random, so one document always gives the same routes
//! file. A value the schema states (`example`, `examples`, `const`, `default`, the first
//! `enum`) wins at any depth; otherwise one is built from `type`, `format` and the bounds.
//! Recursion is cut at [`GenOptions::max_depth`] followed `$ref`s: from there optional
//! properties are left out and arrays hold what `minItems` asks. Pure.

use serde_json::{json, Map, Value};

use super::doc::{Docs, Version};
use super::pattern;

/// What the caller may choose about generated values.
#[derive(Debug, Clone, Copy)]
pub struct GenOptions {
    /// Include properties the schema does not require (the default).
    pub optional: bool,
    /// How many `$ref`s deep a value may go before recursion is cut.
    pub max_depth: usize,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            optional: true,
            max_depth: 4,
        }
    }
}

/// A generator over one set of documents; collects notes on what it could not honour.
pub struct Gen<'a> {
    docs: &'a Docs,
    opts: GenOptions,
    pub notes: Vec<String>,
}

/// Where in the documents a schema is read, and how many `$ref`s led there.
#[derive(Clone, Copy)]
struct At<'a> {
    file: &'a str,
    depth: usize,
}

impl<'a> Gen<'a> {
    pub fn new(docs: &'a Docs, opts: GenOptions) -> Self {
        Gen {
            docs,
            opts,
            notes: Vec::new(),
        }
    }

    /// A value for `schema`, read in `file`.
    pub fn value(&mut self, file: &'a str, schema: &'a Value) -> Value {
        self.gen(At { file, depth: 0 }, schema)
    }

    fn gen(&mut self, at: At<'a>, schema: &'a Value) -> Value {
        let Some(s) = schema.as_object() else {
            // `true` or `{}`-like: anything fits.
            return json!("string");
        };
        if let Some(Value::String(r)) = s.get("$ref") {
            return match self.docs.resolve(at.file, r) {
                Ok((file, target)) => self.gen(
                    At {
                        file,
                        depth: at.depth + 1,
                    },
                    target,
                ),
                Err(e) => {
                    self.notes.push(format!("{e}; a string stands in"));
                    json!("string")
                }
            };
        }
        if let Some(v) = stated(s) {
            return v;
        }
        if let Some(Value::Array(all)) = s.get("allOf") {
            return self.all_of(at, s, all);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(Value::Array(alts)) = s.get(key) {
                // A non-null alternative says more than `null` would.
                let alt = alts.iter().find(|a| !is_null_schema(a)).or(alts.first());
                if let Some(alt) = alt {
                    return self.gen(at, alt);
                }
            }
        }
        match type_of(s).as_str() {
            "object" => self.object(at, s),
            "array" => self.array(at, s),
            "integer" => integer(s),
            "number" => number(s),
            "boolean" => json!(true),
            "null" => Value::Null,
            _ => self.string(s),
        }
    }

    /// Every part's value laid over the others: objects merge key by key.
    fn all_of(&mut self, at: At<'a>, s: &'a Map<String, Value>, all: &'a [Value]) -> Value {
        let mut merged = Map::new();
        let mut last = None;
        for part in all {
            match self.gen(at, part) {
                Value::Object(o) => merged.extend(o),
                v => last = Some(v),
            }
        }
        // Properties beside `allOf` belong to the same object.
        if s.contains_key("properties") {
            if let Value::Object(o) = self.object(at, s) {
                merged.extend(o);
            }
        }
        match last {
            Some(v) if merged.is_empty() => v,
            _ => Value::Object(merged),
        }
    }

    fn object(&mut self, at: At<'a>, s: &'a Map<String, Value>) -> Value {
        let required: Vec<&str> = s
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let cut = at.depth >= self.opts.max_depth;
        let mut out = Map::new();
        if let Some(Value::Object(props)) = s.get("properties") {
            for (name, prop) in props {
                let needed = required.contains(&name.as_str());
                if !needed && (cut || !self.opts.optional || self.write_only(at, prop)) {
                    continue;
                }
                out.insert(name.clone(), self.gen(at, prop));
            }
        }
        for name in required {
            out.entry(name.to_string())
                .or_insert_with(|| json!("string"));
        }
        if out.is_empty() && !cut {
            if let Some(extra @ Value::Object(_)) = s.get("additionalProperties") {
                out.insert("key".into(), self.gen(at, extra));
            }
        }
        Value::Object(out)
    }

    /// A `writeOnly` property (a password) is sent, never answered.
    fn write_only(&self, at: At<'a>, prop: &'a Value) -> bool {
        let prop = match prop.get("$ref").and_then(Value::as_str) {
            Some(r) => self.docs.resolve(at.file, r).map_or(prop, |(_, p)| p),
            None => prop,
        };
        prop.get("writeOnly").and_then(Value::as_bool) == Some(true)
    }

    fn array(&mut self, at: At<'a>, s: &'a Map<String, Value>) -> Value {
        let min = s.get("minItems").and_then(Value::as_u64).unwrap_or(0);
        let max = s
            .get("maxItems")
            .and_then(Value::as_u64)
            .unwrap_or(u64::MAX);
        let cut = at.depth >= self.opts.max_depth;
        let n = if cut { min } else { min.max(1).min(max) };
        let Some(items) = s.get("items").or_else(|| s.get("prefixItems")) else {
            return Value::Array(vec![json!("string"); n as usize]);
        };
        let items = match items {
            // Swagger / 3.1 tuple forms: the first item's schema stands for all.
            Value::Array(a) => match a.first() {
                Some(first) => first,
                None => return json!([]),
            },
            one => one,
        };
        let one = self.gen(at, items);
        if n > 1 && s.get("uniqueItems").and_then(Value::as_bool) == Some(true) {
            self.notes
                .push("uniqueItems with minItems > 1: the items are all the same".into());
        }
        Value::Array(vec![one; n as usize])
    }

    fn string(&mut self, s: &'a Map<String, Value>) -> Value {
        let format = s.get("format").and_then(Value::as_str).unwrap_or("");
        let mut v = match format {
            "date-time" => "2024-01-01T00:00:00Z",
            "date" => "2024-01-01",
            "time" => "12:00:00Z",
            "uuid" => "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "email" => "user@example.com",
            "uri" | "url" | "iri" => "https://example.com/",
            "uri-reference" | "iri-reference" => "/example",
            "hostname" | "idn-hostname" => "example.com",
            "ipv4" => "192.0.2.1",
            "ipv6" => "2001:db8::1",
            "byte" => "c3RyaW5n",
            _ => "string",
        }
        .to_string();
        if let Some(p) = s.get("pattern").and_then(Value::as_str) {
            match pattern::sample(p) {
                Some(sample) => v = sample,
                None => self
                    .notes
                    .push(format!("pattern `{p}` is not simple enough to fill")),
            }
        }
        let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = s
            .get("maxLength")
            .and_then(Value::as_u64)
            .map(|m| m as usize);
        while v.chars().count() < min {
            v.push('x');
        }
        if let Some(max) = max {
            v = v.chars().take(max).collect();
        }
        Value::String(v)
    }
}

/// A value the schema itself states: an example, a constant, a default or the first of an
/// enum (a null is one too).
fn stated(s: &Map<String, Value>) -> Option<Value> {
    if let Some(v) = s.get("example") {
        return Some(v.clone());
    }
    if let Some(Value::Array(e)) = s.get("examples") {
        if let Some(v) = e.first() {
            return Some(v.clone());
        }
    }
    if let Some(v) = s.get("const").or_else(|| s.get("default")) {
        return Some(v.clone());
    }
    let first_enum = s.get("enum").and_then(Value::as_array);
    first_enum
        .and_then(|e| e.iter().find(|v| !v.is_null()).or(e.first()))
        .cloned()
}

fn is_null_schema(s: &Value) -> bool {
    s.get("type").and_then(Value::as_str) == Some("null")
}

/// The type a value is built as: the first non-null of a list; implied by the keywords when
/// absent.
fn type_of(s: &Map<String, Value>) -> String {
    match s.get("type") {
        Some(Value::String(t)) => return t.clone(),
        Some(Value::Array(ts)) => {
            let t = ts.iter().filter_map(Value::as_str).find(|t| *t != "null");
            if let Some(t) = t.or(ts.first().and_then(Value::as_str)) {
                return t.to_string();
            }
        }
        _ => {}
    }
    let has = |k: &str| s.contains_key(k);
    if has("properties") || has("additionalProperties") || has("required") {
        "object"
    } else if has("items") || has("prefixItems") {
        "array"
    } else if has("minimum") || has("maximum") || has("multipleOf") {
        "number"
    } else {
        "string"
    }
    .to_string()
}

/// The bounds as numbers: OpenAPI 3.0 says "exclusive" with a boolean beside the bound,
/// 3.1 with the bound itself.
fn bounds(s: &Map<String, Value>) -> (Option<f64>, bool, Option<f64>, bool) {
    let num = |k: &str| s.get(k).and_then(Value::as_f64);
    let flag = |k: &str| s.get(k).and_then(Value::as_bool) == Some(true);
    let (mut lo, mut lo_ex) = (num("minimum"), flag("exclusiveMinimum"));
    let (mut hi, mut hi_ex) = (num("maximum"), flag("exclusiveMaximum"));
    if let Some(x) = num("exclusiveMinimum") {
        (lo, lo_ex) = (Some(x), true);
    }
    if let Some(x) = num("exclusiveMaximum") {
        (hi, hi_ex) = (Some(x), true);
    }
    (lo, lo_ex, hi, hi_ex)
}

fn integer(s: &Map<String, Value>) -> Value {
    let (lo, lo_ex, hi, hi_ex) = bounds(s);
    let lo = lo.map(|l| if lo_ex { l.floor() + 1.0 } else { l.ceil() });
    let hi = hi.map(|h| if hi_ex { h.ceil() - 1.0 } else { h.floor() });
    let mut v = match (lo, hi) {
        (Some(l), _) => l,
        (None, Some(h)) => h.min(1.0),
        (None, None) => 1.0,
    };
    if let Some(m) = s
        .get("multipleOf")
        .and_then(Value::as_f64)
        .filter(|m| *m > 0.0)
    {
        v = (v / m).ceil() * m;
    }
    json!(v as i64)
}

fn number(s: &Map<String, Value>) -> Value {
    let (lo, lo_ex, hi, hi_ex) = bounds(s);
    let v = match (lo, hi) {
        (Some(l), Some(h)) => (l + h) / 2.0,
        (Some(l), None) => l + if lo_ex { 1.0 } else { 0.0 },
        (None, Some(h)) => h - if hi_ex { 1.0 } else { 0.0 },
        (None, None) => 1.5,
    };
    if let Some(m) = s
        .get("multipleOf")
        .and_then(Value::as_f64)
        .filter(|m| *m > 0.0)
    {
        return json!((v / m).ceil() * m);
    }
    json!(v)
}

/// A schema made a JSON Schema a validator reads: OpenAPI 3.0's `nullable: true` becomes
/// `null` among the types (3.1 and JSON Schema say it that way).
pub fn json_schema(version: Version, schema: &Value) -> Value {
    match schema {
        Value::Object(o) => {
            let mut out: Map<String, Value> = o
                .iter()
                .map(|(k, v)| (k.clone(), json_schema(version, v)))
                .collect();
            if version != Version::OpenApi31 && out.remove("nullable") == Some(json!(true)) {
                nullable(&mut out);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| json_schema(version, v)).collect()),
        v => v.clone(),
    }
}

fn nullable(out: &mut Map<String, Value>) {
    match out.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            out.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(ts)) => ts.push(json!("null")),
        _ => {}
    }
    if let Some(Value::Array(e)) = out.get_mut("enum") {
        e.push(Value::Null);
    }
    // A `$ref` or a combinator beside `nullable` (3.0 has no other way to say "or null").
    for key in ["$ref", "allOf", "oneOf", "anyOf"] {
        if let Some(v) = out.remove(key) {
            let inner = Value::Object(Map::from_iter([(key.to_string(), v)]));
            out.insert("anyOf".into(), json!([inner, {"type": "null"}]));
            break;
        }
    }
}

#[cfg(test)]
mod tests;
