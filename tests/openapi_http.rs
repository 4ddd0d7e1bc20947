//! A mock API from schema-only OpenAPI documents, over HTTP against the real binary: every
//! operation answers its documented status and content type, and every body validates
//! against the operation's response schema as a real JSON Schema validator (the `jsonschema`
//! crate) reads it, `$ref`s to another file of the document included. The documents are
//! written here to cover each construct: cross-file refs, allOf/oneOf, nullable, recursion,
//! formats and bounds, a `servers` base path, OpenAPI 3.0 in YAML and 3.1 in JSON, no
//! example anywhere.

use std::collections::HashMap;
use std::path::Path;

use jsonschema::{Draft, Registry};
use serde_json::{json, Value};

use crate::lab_browser::wait_for;
use crate::util::chromium::{self, Browser};
use crate::util::sandbox::{client, run_cli, write, TestSandbox};

const API30: &str = r##"
openapi: 3.0.3
info: {title: Pets, version: '1'}
servers:
  - url: https://api.example.test/v2
paths:
  /pets:
    get:
      responses:
        '200':
          description: all pets
          content:
            application/json:
              schema: {type: array, items: {$ref: 'schemas.yaml#/Pet'}}
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: 'schemas.yaml#/NewPet'}
      responses:
        '201':
          description: made
          headers:
            Location: {schema: {type: string, format: uri}}
          content:
            application/json:
              schema: {$ref: 'schemas.yaml#/Pet'}
  /pets/{petId}:
    parameters:
      - {name: petId, in: path, required: true, schema: {type: integer}}
    get:
      responses:
        '200':
          description: one pet
          content:
            application/json:
              schema: {$ref: 'schemas.yaml#/Pet'}
        '404': {description: none}
    delete:
      responses:
        '204': {description: gone}
  /shapes:
    get:
      responses:
        '200':
          description: shapes
          content:
            application/json:
              schema:
                type: array
                minItems: 2
                items: {$ref: '#/components/schemas/Shape'}
  /tree:
    get:
      responses:
        '200':
          description: a tree
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Node'}
components:
  schemas:
    Shape:
      oneOf:
        - type: object
          required: [radius]
          additionalProperties: false
          properties: {radius: {type: number, minimum: 0.5, maximum: 9}}
        - type: object
          required: [side, unit]
          additionalProperties: false
          properties:
            side: {type: integer, format: int32, minimum: 3}
            unit: {type: string, enum: [cm, in]}
    Node:
      type: object
      required: [value]
      properties:
        value: {type: integer}
        note: {type: string, nullable: true, maxLength: 4}
        children: {type: array, items: {$ref: '#/components/schemas/Node'}}
"##;

const SCHEMAS30: &str = r##"
Pet:
  allOf:
    - {$ref: '#/NewPet'}
    - type: object
      required: [id, born]
      properties:
        id: {type: integer, format: int64, minimum: 1}
        born: {type: string, format: date-time}
        owner:
          nullable: true
          allOf: [{$ref: '#/Owner'}]
NewPet:
  type: object
  required: [name]
  properties:
    name: {type: string, minLength: 3}
    tag: {type: string, nullable: true}
    kind: {type: string, enum: [cat, dog]}
    code: {type: string, pattern: '^[A-Z]{2}-[0-9]{3}$'}
Owner:
  type: object
  required: [email, uid]
  properties:
    email: {type: string, format: email}
    uid: {type: string, format: uuid}
    site: {type: string, format: uri}
    since: {type: string, format: date}
"##;

const API31: &str = r##"{
  "openapi": "3.1.0",
  "info": {"title": "Items", "version": "1"},
  "paths": {
    "/items": {"get": {"responses": {"200": {"description": "items", "content": {"application/json": {
      "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}}}}}}},
    "/items/{itemId}": {"get": {
      "parameters": [{"name": "itemId", "in": "path", "required": true, "schema": {"type": "string"}}],
      "responses": {"200": {"description": "one", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Item"}}}}}}}
  },
  "components": {"schemas": {
    "Item": {"type": "object", "required": ["id", "label", "mode", "score"], "properties": {
      "id": {"type": "string", "format": "uuid"},
      "label": {"type": ["string", "null"], "minLength": 2},
      "mode": {"const": "fast"},
      "score": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
      "parent": {"anyOf": [{"$ref": "#/components/schemas/Item"}, {"type": "null"}]},
      "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}}
    }}
  }}
}"##;

/// OpenAPI 3.0's schema dialect as JSON Schema draft 4 reads it: `nullable: true` becomes
/// "or null"; the rest (example, readOnly…) is ignored by the validator anyway.
fn draft4(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out: serde_json::Map<String, Value> = m
                .iter()
                .filter(|(k, _)| k.as_str() != "nullable")
                .map(|(k, x)| (k.clone(), draft4(x)))
                .collect();
            if m.get("nullable") == Some(&Value::Bool(true)) {
                let inner = Value::Object(std::mem::take(&mut out));
                return json!({"anyOf": [inner, {"type": "null"}]});
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(draft4).collect()),
        other => other.clone(),
    }
}

const BASE: &str = "http://docs.test/";

/// What one operation must answer.
struct Op {
    method: &'static str,
    path: &'static str,
    body: Option<Value>,
    status: u16,
    /// JSON pointer to the response schema in the main file; `None`: no body.
    schema: Option<String>,
}

fn pointer(path: &str, method: &str, status: u16) -> Option<String> {
    // A JSON pointer in a URI fragment: `~` and `/` escaped, braces percent-encoded.
    let escaped = path
        .replace('~', "~0")
        .replace('/', "~1")
        .replace('{', "%7B")
        .replace('}', "%7D");
    Some(format!(
        "/paths/{escaped}/{method}/responses/{status}/content/application~1json/schema"
    ))
}

fn project(dir: &Path, files: &[(&str, &str)], main: &str) {
    write(
        dir,
        "sandbox.toml",
        "[[origin]]\nname = \"web\"\nkind = \"static\"\nport = 0\nroot = \"web\"\n\n\
         [[origin]]\nname = \"api\"\nkind = \"api\"\nport = 0\nroutes = \"api.toml\"\n",
    );
    write(dir, "web/index.html", "<!doctype html><p>page");
    for (name, text) in files {
        write(dir, name, text);
    }
    let (code, out, err) = run_cli(dir, &["init", "--from-openapi", main, "-o", "api.toml"]);
    assert_eq!(code, 0, "{out}{err}");
}

/// Calls every operation on the running mock and checks status, type and body.
fn check_all(
    sb: &TestSandbox,
    main: &str,
    files: HashMap<String, Value>,
    draft: Draft,
    ops: &[Op],
) {
    let api = sb.url("api").to_string();
    let http = client();
    let mut bad = Vec::new();
    // Every file of the document under one base, so `schemas.yaml#/Pet` resolves as the
    // document means it.
    let mut builder = Registry::new();
    for (name, value) in files {
        builder = builder
            .add(format!("{BASE}{name}"), value)
            .expect("a resource URI");
    }
    let registry = builder
        .prepare()
        .expect("the document's files as a registry");
    for op in ops {
        let url = format!("{api}{}", op.path);
        let mut req = http.request(op.method.parse().unwrap(), &url);
        if let Some(b) = &op.body {
            req = req.json(b);
        }
        let res = req.send().unwrap();
        let status = res.status().as_u16();
        let ctype = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let location = res.headers().get("location").is_some();
        let text = res.text().unwrap();
        if status != op.status {
            bad.push(format!(
                "{} {}: status {status}, documented {}",
                op.method, op.path, op.status
            ));
            continue;
        }
        if op.status == 201 && !location {
            bad.push(format!(
                "{} {}: the documented Location header is missing",
                op.method, op.path
            ));
        }
        let Some(ptr) = &op.schema else {
            if !text.is_empty() {
                bad.push(format!(
                    "{} {}: a body where none is documented: {text}",
                    op.method, op.path
                ));
            }
            continue;
        };
        if !ctype.starts_with("application/json") {
            bad.push(format!("{} {}: content type {ctype}", op.method, op.path));
        }
        let body: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                bad.push(format!(
                    "{} {}: not JSON ({e}): {text:?}",
                    op.method, op.path
                ));
                continue;
            }
        };
        let schema = json!({"$ref": format!("{BASE}{main}#{ptr}")});
        let validator = jsonschema::options()
            .with_draft(draft)
            .should_validate_formats(true)
            .with_registry(&registry)
            .build(&schema)
            .unwrap_or_else(|e| panic!("{} {}: schema: {e}", op.method, op.path));
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| e.to_string())
            .collect();
        if !errors.is_empty() {
            bad.push(format!(
                "{} {}: {body} breaks its schema: {errors:?}",
                op.method, op.path
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn a_schema_only_openapi_30_yaml_document_with_refs_across_files_answers_valid_bodies() {
    let d = tempfile::tempdir().unwrap();
    project(
        d.path(),
        &[
            ("openapi/api.yaml", API30),
            ("openapi/schemas.yaml", SCHEMAS30),
        ],
        "openapi/api.yaml",
    );
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let parse = |t: &str| draft4(&sandbox::routes::openapi::doc::parse(t).unwrap());
    let files = HashMap::from([
        ("api.yaml".to_string(), parse(API30)),
        ("schemas.yaml".to_string(), parse(SCHEMAS30)),
    ]);
    let ops = [
        Op {
            method: "GET",
            path: "/v2/pets",
            body: None,
            status: 200,
            schema: pointer("/pets", "get", 200),
        },
        Op {
            method: "POST",
            path: "/v2/pets",
            body: Some(json!({"name": "Whiskers", "kind": "cat"})),
            status: 201,
            schema: pointer("/pets", "post", 201),
        },
        Op {
            method: "GET",
            path: "/v2/pets/7",
            body: None,
            status: 200,
            schema: pointer("/pets/{petId}", "get", 200),
        },
        Op {
            method: "DELETE",
            path: "/v2/pets/7",
            body: None,
            status: 204,
            schema: None,
        },
        Op {
            method: "GET",
            path: "/v2/shapes",
            body: None,
            status: 200,
            schema: pointer("/shapes", "get", 200),
        },
        Op {
            method: "GET",
            path: "/v2/tree",
            body: None,
            status: 200,
            schema: pointer("/tree", "get", 200),
        },
    ];
    check_all(&sb, "api.yaml", files, Draft::Draft4, &ops);
    // Without the base path there is nothing: the document's servers URL is the prefix.
    let res = client()
        .get(format!("{}/pets", sb.url("api")))
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
}

#[test]
fn a_schema_only_openapi_31_json_document_answers_valid_bodies() {
    let d = tempfile::tempdir().unwrap();
    project(d.path(), &[("api.json", API31)], "api.json");
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let files = HashMap::from([(
        "api.json".to_string(),
        serde_json::from_str::<Value>(API31).unwrap(),
    )]);
    let ops = [
        Op {
            method: "GET",
            path: "/items",
            body: None,
            status: 200,
            schema: pointer("/items", "get", 200),
        },
        Op {
            method: "GET",
            path: "/items/abc",
            body: None,
            status: 200,
            schema: pointer("/items/{itemId}", "get", 200),
        },
    ];
    check_all(&sb, "api.json", files, Draft::Draft202012, &ops);
}

/// The frontend of the flow test: lists the pets, creates one (a preflighted JSON POST),
/// reads it back by the id the mock answered, and renders all three; cross-origin, as a
/// real frontend against its API.
const FLOW_PAGE: &str = r##"<!doctype html><meta charset=utf-8><title>pets</title>
<ul id=list></ul><p id=created></p><p id=one></p><p id=error></p>
<script>
(async () => {
  try {
    const config = await (await fetch('/__sandbox/config.json')).json();
    const api = config.apis[0].url + '/v2';
    const pets = await (await fetch(api + '/pets')).json();
    for (const p of pets) {
      const li = document.createElement('li');
      li.textContent = p.name + ' #' + p.id;
      document.getElementById('list').appendChild(li);
    }
    const res = await fetch(api + '/pets', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                             body: JSON.stringify({ name: 'Whiskers' }) });
    const made = await res.json();
    document.getElementById('created').textContent = res.status + ' ' + made.name + ' #' + made.id;
    const one = await (await fetch(api + '/pets/' + made.id)).json();
    document.getElementById('one').textContent = one.name + ' born ' + one.born;
    document.body.dataset.done = 'yes';
  } catch (e) {
    document.getElementById('error').textContent = String(e);
    document.body.dataset.done = 'error';
  }
})();
</script>"##;

#[test]
fn a_frontend_runs_list_create_read_against_the_generated_mock_in_chromium() {
    if !chromium::require_chromium("openapi_flow") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    project(
        d.path(),
        &[
            ("openapi/api.yaml", API30),
            ("openapi/schemas.yaml", SCHEMAS30),
        ],
        "openapi/api.yaml",
    );
    write(d.path(), "web/index.html", FLOW_PAGE);
    write(
        d.path(),
        "sandbox.toml",
        "[[origin]]\nname = \"web\"\nkind = \"static\"\nport = 0\nhostname = \"karachi-dev.localhost\"\nroot = \"web\"\n\n\
         [[origin]]\nname = \"api\"\nkind = \"api\"\nport = 0\nhostname = \"lahore-api.localhost\"\nroutes = \"api.toml\"\npolicy = \"cors.toml\"\n",
    );
    write(
        d.path(),
        "cors.toml",
        "allowed_origins = [\"sandbox:static\"]\nallowed_methods = [\"GET\", \"POST\"]\nallowed_headers = [\"Content-Type\"]\n",
    );
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let page_url = format!("{}/", sb.public_urls["web"]);
    let runtime = crate::lab_browser::runtime();
    let shown = runtime.block_on(async {
        let browser = Browser::launch().await.expect("launch chromium");
        let page = browser.new_isolated_page().await.expect("page");
        page.navigate(&page_url).await.expect("load the frontend");
        let shown = wait_for(
            &page,
            "document.body.dataset.done && [document.body.dataset.done, \
             Array.from(document.querySelectorAll('#list li')).map(l => l.textContent), \
             document.getElementById('created').textContent, document.getElementById('one').textContent, \
             document.getElementById('error').textContent]",
            "the page's flow",
        )
        .await;
        browser.close().await;
        shown
    });
    assert_eq!(shown[0], "yes", "{shown}");
    let list = shown[1].as_array().unwrap();
    assert!(!list.is_empty(), "{shown}");
    assert!(list[0].as_str().unwrap().contains('#'), "{shown}");
    assert!(shown[2].as_str().unwrap().starts_with("201 "), "{shown}");
    assert!(shown[3].as_str().unwrap().contains(" born 20"), "{shown}");
    // The write went through a real preflight.
    assert!(
        sb.events().iter().any(|e| e["event"] == "request"
            && e["preflight"] == true
            && e["verdict"]["outcome"] == "allowed"),
        "no allowed preflight in the journal"
    );
}

/// `validate = true`: a request that breaks its operation's schema gets a 422 naming the
/// field and the rule, over HTTP, and the CORS layer in front answers as before.
#[test]
fn requests_that_break_the_document_get_422_naming_the_field() {
    let d = tempfile::tempdir().unwrap();
    project(
        d.path(),
        &[
            ("openapi/api.yaml", API30),
            ("openapi/schemas.yaml", SCHEMAS30),
        ],
        "openapi/api.yaml",
    );
    // The generated file names the document and leaves validation off; turn it on.
    let routes = std::fs::read_to_string(d.path().join("api.toml")).unwrap();
    assert!(routes.contains("validate = false"), "{routes}");
    write(
        d.path(),
        "api.toml",
        &routes.replacen("validate = false", "validate = true", 1),
    );
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    let http = client();
    let cases = [
        ("POST", "/v2/pets", Some(json!({"name": 5})), "name"),
        ("POST", "/v2/pets", Some(json!({"kind": "cat"})), "name"),
        (
            "POST",
            "/v2/pets",
            Some(json!({"name": "Whiskers", "kind": "cow"})),
            "kind",
        ),
        ("GET", "/v2/pets/abc", None, "petId"),
    ];
    for (method, path, body, field) in cases {
        let mut req = http.request(method.parse().unwrap(), format!("{api}{path}"));
        if let Some(b) = &body {
            req = req.json(b);
        }
        let res = req.send().unwrap();
        assert_eq!(res.status().as_u16(), 422, "{method} {path} {body:?}");
        let why = res
            .headers()
            .get("x-sandbox-invalid")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let v: Value = res.json().unwrap();
        let violations = v["violations"].as_array().expect("violations");
        assert!(
            violations
                .iter()
                .any(|x| x["field"].as_str().unwrap_or("").contains(field)
                    && !x["rule"].as_str().unwrap_or("").is_empty()),
            "{method} {path}: {v}"
        );
        assert!(why.contains(field), "{why}");
    }
    // A request that matches is answered as generated.
    let ok = http
        .post(format!("{api}/v2/pets"))
        .json(&json!({"name": "Whiskers", "kind": "cat"}))
        .send()
        .unwrap();
    assert_eq!(ok.status().as_u16(), 201);
    // The CORS layer answers a preflight before validation could.
    let pre = http
        .request(reqwest::Method::OPTIONS, format!("{api}/v2/pets"))
        .header("Origin", sb.url("web"))
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .unwrap();
    assert_ne!(
        pre.status().as_u16(),
        422,
        "validation never answers a preflight"
    );
}
