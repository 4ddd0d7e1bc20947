//! Stateful REST resources: `[[resource]] name = "students", seed = "students.json"` serves
//! list (filter, sort, pagination with `X-Total-Count`), get, create, replace, patch and delete
//! at `/api/students[/<id>]`, from an in-memory [`ResourceStore`].
//!
//! The store outlives routes reloads: a table is reset to its seed only when the seed's bytes
//! change (or on `POST /api/__reset/<name>`). With `--persist` each write is saved next to the
//! seed as `<seed stem>.state.json`, atomically (temp file, fsync, rename, fsync of the folder),
//! so a crash leaves either the old or the new state on disk; `persist` owns those files and
//! the rules for reading them back. The seed itself is never written: it stays the reset point
//! the user edits.

mod persist;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value};

pub use persist::{
    load_saved, save_atomically, state_path, SaveError, SetAside, StateWarning, MAX_STATE_BYTES,
};

/// Every resource lives under this path.
pub const PREFIX: &str = "/api/";
/// `POST /api/__reset/<name>` restores a seed (`POST /api/__reset` restores all).
pub const RESET_PREFIX: &str = "/api/__reset";
/// A resource holds at most this many items: a runaway script should hit a clear 507, not
/// eat memory.
pub const MAX_ITEMS: usize = 10_000;
/// `_limit` is capped here; a list without `_page`/`_limit` returns at most this many too.
pub const MAX_PAGE: usize = 1_000;

/// A validated `[[resource]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceSpec {
    pub name: String,
    pub seed_path: PathBuf,
    pub seed: Arc<Vec<Value>>,
    /// Digest of the seed's bytes: a change means "reset this table".
    pub seed_hash: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the seed is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the seed must be a JSON array of objects")]
    NotArray,
    #[error("seed item {0} is not an object")]
    NotObject(usize),
    #[error("seed item {0} has no `id` (a number or a string)")]
    NoId(usize),
    #[error("seed item {0} repeats id {1}")]
    DuplicateId(usize, String),
    #[error("the seed has more than {MAX_ITEMS} items")]
    TooMany,
}

/// Validates a seed file's bytes.
pub fn parse_seed(bytes: &[u8]) -> Result<Vec<Value>, SeedError> {
    let v: Value = serde_json::from_slice(bytes)?;
    let Value::Array(items) = v else {
        return Err(SeedError::NotArray);
    };
    if items.len() > MAX_ITEMS {
        return Err(SeedError::TooMany);
    }
    let mut seen = std::collections::HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let Value::Object(o) = item else {
            return Err(SeedError::NotObject(i));
        };
        let id = o.get("id").and_then(id_text).ok_or(SeedError::NoId(i))?;
        if !seen.insert(id.clone()) {
            return Err(SeedError::DuplicateId(i, id));
        }
    }
    Ok(items)
}

pub fn digest(bytes: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// An id as it appears in a URL: numbers and strings only.
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// What the handler sends back.
#[derive(Debug, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
    /// A saved state this request found unusable: the caller reports it.
    pub warning: Option<Box<StateWarning>>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Some(body),
            warning: None,
        }
    }

    fn error(status: u16, message: impl Into<String>) -> Reply {
        Reply::json(status, json!({ "error": message.into() }))
    }
}

#[derive(Debug)]
struct Table {
    seed_hash: u64,
    items: Vec<Value>,
    /// Why changes are not saved: a saved state that could not be moved aside is in the way.
    unsaved: Option<String>,
}

/// Every resource's current items, shared by all workers of one API origin.
#[derive(Debug, Default)]
pub struct ResourceStore {
    tables: Mutex<HashMap<String, Table>>,
    persist: AtomicBool,
}

impl ResourceStore {
    /// `--persist`: save each change next to the seed, and start from a saved state.
    pub fn set_persist(&self, on: bool) {
        self.persist.store(on, Ordering::Relaxed);
    }

    fn persisting(&self) -> bool {
        self.persist.load(Ordering::Relaxed)
    }

    /// Restores a seed (and overwrites the saved state, if persisting).
    pub fn reset(&self, spec: &ResourceSpec) -> Result<(), SaveError> {
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        let t = Table {
            seed_hash: spec.seed_hash,
            items: spec.seed.as_ref().clone(),
            unsaved: None,
        };
        if self.persisting() {
            save_atomically(&state_path(&spec.seed_path), &t.items)?;
        }
        tables.insert(spec.name.clone(), t);
        Ok(())
    }

    /// Answers one REST request. `id` is the decoded last path segment, if any.
    pub fn handle(
        &self,
        spec: &ResourceSpec,
        method: &str,
        id: Option<&str>,
        query: &[(String, String)],
        body: &[u8],
        random: &mut dyn FnMut() -> u64,
    ) -> Reply {
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        let warning = match self.refresh(&mut tables, spec) {
            Ok(w) => w,
            Err(reply) => return reply,
        };
        let Some(table) = tables.get_mut(&spec.name) else {
            return Reply::error(500, "resource table missing");
        };
        let mut reply = respond(
            &mut table.items,
            &spec.name,
            method,
            id,
            query,
            body,
            random,
        );
        let wrote = matches!(method, "POST" | "PUT" | "PATCH" | "DELETE")
            && (200..300).contains(&reply.status);
        if wrote && self.persisting() {
            // Saved under the lock, so files land in the order the changes happened.
            let saved = match &table.unsaved {
                Some(why) => Err((500, why.clone())),
                None => save_atomically(&state_path(&spec.seed_path), &table.items)
                    .map_err(|e| (e.status(), e.to_string())),
            };
            if let Err((status, why)) = saved {
                reply = Reply::error(
                    status,
                    format!("the change is kept in memory but not saved: {why}"),
                );
            }
        }
        reply.warning = warning;
        reply
    }

    /// Puts `spec`'s table in place when it is missing or its seed changed; says so when a
    /// saved state had to be passed over.
    fn refresh(
        &self,
        tables: &mut HashMap<String, Table>,
        spec: &ResourceSpec,
    ) -> Result<Option<Box<StateWarning>>, Reply> {
        let fresh = tables
            .get(&spec.name)
            .is_none_or(|t| t.seed_hash != spec.seed_hash);
        if fresh {
            // First use, or the seed changed under a reload: start over from the seed, or
            // (persisting, first use only) from the state saved last time.
            let seed_changed = tables.contains_key(&spec.name);
            let saved = match self.persisting() && !seed_changed {
                true => load_saved(&spec.name, &state_path(&spec.seed_path)),
                false => Ok(None),
            };
            let (saved, warning) = match saved {
                Ok(items) => (items, None),
                Err(w) => (None, Some(Box::new(w))),
            };
            let unsaved = match warning.as_deref() {
                Some(StateWarning {
                    aside: SetAside::Stuck(why),
                    ..
                }) => Some(format!("the unusable saved state is in the way ({why})")),
                _ => None,
            };
            let items = saved.unwrap_or_else(|| spec.seed.as_ref().clone());
            if seed_changed && self.persisting() {
                // Otherwise a restart would bring back the state from before the new seed.
                if let Err(e) = save_atomically(&state_path(&spec.seed_path), &items) {
                    return Err(Reply::error(
                        500,
                        format!("the new seed is in force but not saved: {e}"),
                    ));
                }
            }
            tables.insert(
                spec.name.clone(),
                Table {
                    seed_hash: spec.seed_hash,
                    items,
                    unsaved,
                },
            );
            return Ok(warning);
        }
        Ok(None)
    }
}

/// The reply to one request on a table, changing it for a write.
fn respond(
    items: &mut Vec<Value>,
    name: &str,
    method: &str,
    id: Option<&str>,
    query: &[(String, String)],
    body: &[u8],
    random: &mut dyn FnMut() -> u64,
) -> Reply {
    match (method, id) {
        ("GET" | "HEAD", None) => list(items, query),
        ("GET" | "HEAD", Some(id)) => match position(items, id) {
            Some(i) => Reply::json(200, items[i].clone()),
            None => not_found(name, id),
        },
        ("POST", None) => create(items, body, random),
        ("PUT", Some(id)) => replace(items, id, body),
        ("PATCH", Some(id)) => patch(items, id, body),
        ("DELETE", Some(id)) => match position(items, id) {
            Some(i) => {
                items.remove(i);
                Reply {
                    status: 204,
                    headers: Vec::new(),
                    body: None,
                    warning: None,
                }
            }
            None => not_found(name, id),
        },
        (_, None) => Reply {
            headers: vec![("Allow".into(), "GET, HEAD, POST".into())],
            ..Reply::error(405, format!("{method} is not allowed on a collection"))
        },
        (_, Some(_)) => Reply {
            headers: vec![("Allow".into(), "GET, HEAD, PUT, PATCH, DELETE".into())],
            ..Reply::error(405, format!("{method} is not allowed on an item"))
        },
    }
}

fn not_found(name: &str, id: &str) -> Reply {
    Reply::error(404, format!("no {name} with id {id}"))
}

fn position(items: &[Value], id: &str) -> Option<usize> {
    items
        .iter()
        .position(|v| v.get("id").and_then(id_text).as_deref() == Some(id))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn list(items: &[Value], query: &[(String, String)]) -> Reply {
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let mut rows: Vec<&Value> = items
        .iter()
        .filter(|item| {
            query
                .iter()
                .filter(|(k, _)| !k.starts_with('_'))
                .all(|(k, want)| item.get(k).map(text).as_deref() == Some(want.as_str()))
        })
        .collect();
    if let Some(field) = get("_sort") {
        // Numbers sort as numbers, everything else as text; missing fields sort first.
        rows.sort_by(|a, b| match (a.get(field), b.get(field)) {
            (Some(Value::Number(x)), Some(Value::Number(y))) => x
                .as_f64()
                .unwrap_or(0.0)
                .total_cmp(&y.as_f64().unwrap_or(0.0)),
            (x, y) => x.map(text).cmp(&y.map(text)),
        });
        if get("_order") == Some("desc") {
            rows.reverse();
        }
    }
    let total = rows.len();
    let parse = |k: &str| get(k).and_then(|v| v.parse::<usize>().ok());
    for k in ["_page", "_limit"] {
        if get(k).is_some() && parse(k).is_none_or(|n| n == 0) {
            return Reply::error(400, format!("`{k}` must be a whole number from 1"));
        }
    }
    let limit = parse("_limit")
        .unwrap_or(if get("_page").is_some() { 10 } else { MAX_PAGE })
        .min(MAX_PAGE);
    let page = parse("_page").unwrap_or(1);
    let start = (page - 1).saturating_mul(limit).min(total);
    let body: Vec<Value> = rows[start..]
        .iter()
        .take(limit)
        .map(|v| (*v).clone())
        .collect();
    Reply {
        status: 200,
        headers: vec![("X-Total-Count".into(), total.to_string())],
        body: Some(Value::Array(body)),
        warning: None,
    }
}

fn object(body: &[u8]) -> Result<Map<String, Value>, Reply> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(Reply::error(400, "the body must be a JSON object")),
        Err(e) => Err(Reply::error(400, format!("the body is not JSON: {e}"))),
    }
}

fn create(items: &mut Vec<Value>, body: &[u8], random: &mut dyn FnMut() -> u64) -> Reply {
    let mut o = match object(body) {
        Ok(o) => o,
        Err(r) => return r,
    };
    if items.len() >= MAX_ITEMS {
        return Reply::error(507, format!("the resource is full ({MAX_ITEMS} items)"));
    }
    match o.get("id") {
        Some(v) => match id_text(v) {
            Some(id) if position(items, &id).is_some() => {
                return Reply::error(409, format!("id {id} already exists"))
            }
            Some(_) => {}
            None => return Reply::error(400, "`id` must be a number or a non-empty string"),
        },
        None => {
            // Numeric ids continue from the largest; otherwise a random string id.
            let numeric = items
                .iter()
                .all(|v| v.get("id").is_some_and(Value::is_number));
            let id = if numeric {
                let max = items
                    .iter()
                    .filter_map(|v| v.get("id").and_then(Value::as_i64))
                    .max()
                    .unwrap_or(0);
                // Wrapping would hand out an id that exists (and a saved state with it
                // twice would not load again).
                let Some(next) = max.checked_add(1) else {
                    return Reply::error(
                        507,
                        format!("no numeric id is left after {max}: send the new item with an `id` of its own"),
                    );
                };
                Value::from(next)
            } else {
                Value::from(format!("{:016x}", random()))
            };
            o.insert("id".into(), id);
        }
    }
    let v = Value::Object(o);
    items.push(v.clone());
    Reply::json(201, v)
}

fn replace(items: &mut [Value], id: &str, body: &[u8]) -> Reply {
    let Some(i) = position(items, id) else {
        return not_found("item", id);
    };
    let mut o = match object(body) {
        Ok(o) => o,
        Err(r) => return r,
    };
    match o.get("id").map(id_text) {
        Some(Some(given)) if given != id => {
            return Reply::error(
                400,
                format!("the body's id {given} is not the URL's id {id}"),
            )
        }
        Some(None) => return Reply::error(400, "`id` must be a number or a non-empty string"),
        _ => {}
    }
    // Keep the stored id's type (7, not "7").
    let stored_id = items[i].get("id").cloned().unwrap_or(Value::Null);
    o.insert("id".into(), stored_id);
    items[i] = Value::Object(o);
    Reply::json(200, items[i].clone())
}

fn patch(items: &mut [Value], id: &str, body: &[u8]) -> Reply {
    let Some(i) = position(items, id) else {
        return not_found("item", id);
    };
    let o = match object(body) {
        Ok(o) => o,
        Err(r) => return r,
    };
    if o.get("id").and_then(id_text).is_some_and(|g| g != id) {
        return Reply::error(400, "the id cannot be changed");
    }
    if let Value::Object(target) = &mut items[i] {
        // JSON merge patch (RFC 7396) at the top level: null removes a field.
        for (k, v) in o {
            if k == "id" {
                continue;
            }
            if v.is_null() {
                target.remove(&k);
            } else {
                target.insert(k, v);
            }
        }
    }
    Reply::json(200, items[i].clone())
}

#[cfg(test)]
mod tests;
