use super::*;

fn spec(items: Value) -> ResourceSpec {
    let bytes = serde_json::to_vec(&items).unwrap();
    ResourceSpec {
        name: "students".into(),
        seed_path: PathBuf::from("/nonexistent/students.json"),
        seed: Arc::new(parse_seed(&bytes).unwrap()),
        seed_hash: digest(&bytes),
    }
}

fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn seeds_are_validated() {
    let cases: &[(&str, &str)] = &[
        ("{", "not JSON"),
        ("{}", "array"),
        ("[1]", "not an object"),
        ("[{\"name\": \"a\"}]", "no `id`"),
        ("[{\"id\": 1}, {\"id\": 1}]", "repeats id 1"),
    ];
    for (text, want) in cases {
        let e = parse_seed(text.as_bytes()).unwrap_err().to_string();
        assert!(e.contains(want), "{text}: {e}");
    }
}

#[test]
fn lists_and_collections_are_capped() {
    let many: Vec<Value> = (1..=MAX_ITEMS).map(|i| json!({"id": i})).collect();
    let s = spec(Value::Array(many));
    let store = ResourceStore::default();
    let mut r = || 1u64;
    let l = store.handle(&s, "GET", None, &[], b"", &mut r);
    assert_eq!(l.body.unwrap().as_array().unwrap().len(), MAX_PAGE);
    assert_eq!(
        l.headers[0].1,
        MAX_ITEMS.to_string(),
        "the total is the real one"
    );
    let l = store.handle(&s, "GET", None, &q(&[("_limit", "5000")]), b"", &mut r);
    assert_eq!(l.body.unwrap().as_array().unwrap().len(), MAX_PAGE);
    let full = store.handle(&s, "POST", None, &[], b"{}", &mut r);
    assert_eq!(full.status, 507);
}

#[test]
fn rest_round_trip() {
    let s = spec(json!([
        {"id": 1, "name": "Ahmad", "city": "Lahore"},
        {"id": 2, "name": "Sana", "city": "Karachi"},
        {"id": 3, "name": "Bilal", "city": "Lahore"},
    ]));
    let store = ResourceStore::default();
    let mut r = || 7u64;
    let l = store.handle(
        &s,
        "GET",
        None,
        &q(&[("city", "Lahore"), ("_sort", "name"), ("_order", "desc")]),
        b"",
        &mut r,
    );
    assert_eq!(
        l.body.unwrap(),
        json!([{"id": 3, "name": "Bilal", "city": "Lahore"}, {"id": 1, "name": "Ahmad", "city": "Lahore"}])
    );
    assert_eq!(
        l.headers,
        vec![("X-Total-Count".to_string(), "2".to_string())]
    );
    let p = store.handle(
        &s,
        "GET",
        None,
        &q(&[("_page", "2"), ("_limit", "2")]),
        b"",
        &mut r,
    );
    assert_eq!(
        p.body.unwrap(),
        json!([{"id": 3, "name": "Bilal", "city": "Lahore"}])
    );
    let c = store.handle(&s, "POST", None, &[], br#"{"name": "Zara"}"#, &mut r);
    assert_eq!((c.status, c.body.unwrap()["id"].clone()), (201, json!(4)));
    assert_eq!(
        store.handle(&s, "POST", None, &[], b"[1]", &mut r).status,
        400
    );
    assert_eq!(
        store
            .handle(&s, "POST", None, &[], br#"{"id": 1}"#, &mut r)
            .status,
        409
    );
    let u = store.handle(
        &s,
        "PATCH",
        Some("4"),
        &[],
        br#"{"city": "Quetta"}"#,
        &mut r,
    );
    assert_eq!(
        u.body.unwrap(),
        json!({"id": 4, "name": "Zara", "city": "Quetta"})
    );
    let u = store.handle(&s, "PUT", Some("4"), &[], br#"{"name": "Z"}"#, &mut r);
    assert_eq!(u.body.unwrap(), json!({"id": 4, "name": "Z"}));
    assert_eq!(
        store
            .handle(&s, "DELETE", Some("4"), &[], b"", &mut r)
            .status,
        204
    );
    assert_eq!(
        store.handle(&s, "GET", Some("4"), &[], b"", &mut r).status,
        404
    );
    assert_eq!(
        store.handle(&s, "PUT", None, &[], b"{}", &mut r).status,
        405
    );
    assert_eq!(
        store
            .handle(&s, "GET", None, &q(&[("_page", "0")]), b"", &mut r)
            .status,
        400
    );
}

#[test]
fn generated_ids_stop_at_the_largest_instead_of_wrapping() {
    let s = spec(json!([{"id": i64::MAX - 1}]));
    let store = ResourceStore::default();
    let mut r = || 1u64;
    let c = store.handle(&s, "POST", None, &[], b"{}", &mut r);
    assert_eq!(
        (c.status, c.body.unwrap()["id"].clone()),
        (201, json!(i64::MAX))
    );
    let full = store.handle(&s, "POST", None, &[], b"{}", &mut r);
    assert_eq!(full.status, 507, "{:?}", full.body);
    let all = store.handle(&s, "GET", None, &[], b"", &mut r);
    assert_eq!(
        all.body.unwrap().as_array().unwrap().len(),
        2,
        "nothing lost"
    );
}

#[test]
fn an_unusable_saved_state_is_moved_aside_and_never_overwritten() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("students.state.json");
    assert_eq!(load_saved("students", &path), Ok(None), "none saved yet");
    save_atomically(&path, &[json!({"id": 1})]).unwrap();
    assert_eq!(
        load_saved("students", &path),
        Ok(Some(vec![json!({"id": 1})]))
    );
    // Two bad states in the same second get two names: the first is not overwritten.
    let mut kept = Vec::new();
    for bad in ["{", "[1]"] {
        std::fs::write(&path, bad).unwrap();
        let w = load_saved("students", &path).unwrap_err();
        let SetAside::Kept(to) = w.aside else {
            panic!("{w}")
        };
        assert_eq!(std::fs::read_to_string(&to).unwrap(), bad);
        assert!(!path.exists());
        kept.push(to);
    }
    assert_ne!(kept[0], kept[1]);
    assert!(kept[0].exists());
}
