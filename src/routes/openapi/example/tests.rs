use super::*;

fn gen_for(doc: &str, pointer: &str, opts: GenOptions) -> (Value, Vec<String>) {
    let docs = Docs::from_text(doc, "api.yaml").unwrap();
    let schema = docs.main_doc().pointer(pointer).unwrap().clone();
    let schema: &'static Value = Box::leak(Box::new(schema));
    let docs: &'static Docs = Box::leak(Box::new(docs));
    let mut g = Gen::new(docs, opts);
    let v = g.value("api.yaml", schema);
    (v, g.notes)
}

/// The generated value must satisfy the schema, as a real validator reads it.
fn check(doc: &str, name: &str, opts: GenOptions) -> Value {
    let docs = Docs::from_text(doc, "api.yaml").unwrap();
    let (v, notes) = gen_for(doc, &format!("/components/schemas/{name}"), opts);
    let root = json_schema(docs.version, docs.main_doc());
    let mut schema = json!({"$ref": format!("#/components/schemas/{name}")});
    schema["components"] = root["components"].clone();
    let draft = if docs.version == Version::OpenApi31 {
        jsonschema::Draft::Draft202012
    } else {
        jsonschema::Draft::Draft4
    };
    let validator = jsonschema::options()
        .with_draft(draft)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{name}: {v} fails: {errors:?} (notes {notes:?})"
    );
    v
}

const DOC30: &str = r#"
openapi: 3.0.3
paths: {}
components:
  schemas:
    Pet:
      type: object
      required: [id, name]
      properties:
        id: {type: integer, format: int64, minimum: 10}
        name: {type: string, minLength: 12}
        tag: {type: string, nullable: true}
        born: {type: string, format: date}
        seen: {type: string, format: date-time}
        uid: {type: string, format: uuid}
        mail: {type: string, format: email}
        home: {type: string, format: uri}
        code: {type: string, pattern: '^[A-Z]{3}-\d{2}$'}
        kind: {type: string, enum: [cat, dog]}
        weight: {type: number, format: float, minimum: 0, exclusiveMinimum: true, maximum: 5}
        secret: {type: string, writeOnly: true}
        owner: {$ref: '#/components/schemas/Owner'}
        toys: {type: array, minItems: 2, items: {type: string, example: ball}}
        status: {type: string, default: available}
    Owner:
      nullable: true
      allOf:
        - {$ref: '#/components/schemas/Named'}
        - type: object
          properties: {age: {type: integer, maximum: 3}}
    Named: {type: object, required: [name], properties: {name: {type: string}}}
    Node:
      type: object
      required: [value]
      properties:
        value: {type: integer}
        children: {type: array, items: {$ref: '#/components/schemas/Node'}}
        next: {$ref: '#/components/schemas/Node'}
    Shape:
      oneOf:
        - {type: object, required: [radius], properties: {radius: {type: number}}, additionalProperties: false}
        - {type: object, required: [side], properties: {side: {type: number}}, additionalProperties: false}
"#;

#[test]
fn every_construct_of_3_0_gives_a_value_its_schema_accepts() {
    let pet = check(DOC30, "Pet", GenOptions::default());
    assert_eq!(pet["id"], 10);
    assert_eq!(pet["code"], "AAA-00");
    assert_eq!(pet["kind"], "cat");
    assert_eq!(pet["status"], "available");
    assert_eq!(pet["toys"], json!(["ball", "ball"]));
    assert_eq!(pet["owner"]["name"], "string");
    assert!(pet.get("secret").is_none(), "writeOnly is never answered");
    let node = check(DOC30, "Node", GenOptions::default());
    assert!(node["next"]["next"].is_object(), "{node}");
    check(DOC30, "Shape", GenOptions::default());
    let only = check(
        DOC30,
        "Pet",
        GenOptions {
            optional: false,
            ..GenOptions::default()
        },
    );
    assert_eq!(only.as_object().unwrap().len(), 2, "{only}");
    // Stable: the same document gives the same value.
    assert_eq!(check(DOC30, "Pet", GenOptions::default()), pet);
}

const DOC31: &str = r##"{
  "openapi": "3.1.0",
  "paths": {},
  "components": {"schemas": {
    "Item": {"type": "object", "required": ["id", "note", "score"], "properties": {
      "id": {"type": "string", "format": "uuid"},
      "note": {"type": ["string", "null"], "maxLength": 3},
      "score": {"type": "number", "exclusiveMinimum": 1, "exclusiveMaximum": 2},
      "count": {"type": "integer", "multipleOf": 5, "minimum": 7},
      "flag": {"const": false},
      "label": {"type": "string", "examples": ["first"]},
      "link": {"anyOf": [{"type": "null"}, {"$ref": "#/components/schemas/Link"}]}
    }},
    "Link": {"type": "object", "properties": {"href": {"type": "string", "format": "uri"}}}
  }}
}"##;

#[test]
fn every_construct_of_3_1_gives_a_value_its_schema_accepts() {
    let item = check(DOC31, "Item", GenOptions::default());
    assert_eq!(item["note"], "str");
    assert_eq!(item["count"], 10);
    assert_eq!(item["label"], "first");
    assert_eq!(item["link"]["href"], "https://example.com/");
}

#[test]
fn a_broken_ref_is_a_note_not_a_panic() {
    let doc = "openapi: 3.1.0\npaths: {}\nx: {$ref: '#/nowhere'}\n";
    let (v, notes) = gen_for(doc, "/x", GenOptions::default());
    assert_eq!(v, json!("string"));
    assert!(notes[0].contains("#/nowhere"), "{notes:?}");
}
