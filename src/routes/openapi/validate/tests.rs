use super::*;

const DOC: &str = r#"
openapi: 3.0.3
paths:
  /pets/{pet-id}:
    parameters:
      - {name: pet-id, in: path, required: true, schema: {type: integer, minimum: 1}}
    put:
      parameters:
        - {name: limit, in: query, schema: {type: integer, maximum: 50}}
        - {name: tags, in: query, schema: {type: array, items: {type: string, enum: [a, b]}}}
        - {$ref: '#/components/parameters/Trace'}
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Pet'}
      responses: {'200': {description: ok}}
components:
  parameters:
    Trace: {name: X-Trace, in: header, required: true, schema: {type: string, minLength: 3}}
  schemas:
    Pet:
      type: object
      required: [name]
      properties:
        name: {type: string}
        tag: {type: string, nullable: true}
        owner: {type: object, properties: {age: {type: integer}}}
"#;

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn each_broken_rule_names_its_field_and_a_valid_request_passes() {
    let docs = Docs::from_text(DOC, "api.yaml").unwrap();
    let c = RequestCheck::build(&docs, "put", "/pets/{pet-id}").unwrap();
    let path = pairs(&[("pet_id", "7")]);
    let query = pairs(&[("limit", "10"), ("tags", "a"), ("tags", "b")]);
    let headers = pairs(&[("x-trace", "abcd")]);
    let ok = RequestParts {
        path: &path,
        query: &query,
        headers: &headers,
        body: br#"{"name": "Rex", "tag": null}"#,
    };
    assert_eq!(c.check(&ok), vec![]);
    let (path, query, headers) = (
        pairs(&[("pet_id", "zero")]),
        pairs(&[("limit", "99"), ("tags", "c")]),
        pairs(&[]),
    );
    let bad = RequestParts {
        path: &path,
        query: &query,
        headers: &headers,
        body: br#"{"owner": {"age": "old"}}"#,
    };
    let got: Vec<(String, String)> = c
        .check(&bad)
        .into_iter()
        .map(|v| (v.field, v.rule))
        .collect();
    for want in [
        ("path.pet-id", "type"),
        ("query.limit", "maximum"),
        ("query.tags.0", "enum"),
        ("header.X-Trace", "required"),
        ("body.name", "required"),
        ("body.owner.age", "type"),
    ] {
        assert!(
            got.contains(&(want.0.to_string(), want.1.to_string())),
            "{want:?} in {got:?}"
        );
    }
    let empty = RequestParts { body: b"", ..ok };
    assert_eq!(c.check(&empty)[0].field, "body");
    assert!(matches!(
        RequestCheck::build(&docs, "get", "/nowhere"),
        Err(OpenApiError::NoOperation(_))
    ));
}
