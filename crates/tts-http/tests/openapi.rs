//! The OpenAPI document says exactly what the server does (a schemathesis run in CI checks it against
//! a live server, see scripts/api-fuzz.sh): secured operations document 401 and 429, errors use the
//! `ErrorBody` schema, parameter constraints match the parser, and no body is a bare object.

use serde_json::Value;

fn doc() -> Value {
    serde_json::to_value(tts_http::openapi()).unwrap()
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if ["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                out.push((method.clone(), path.clone(), op.clone()));
            }
        }
    }
    out
}

#[test]
fn secured_operations_document_401_and_429_and_errors_use_error_body() {
    let doc = doc();
    for (method, path, op) in operations(&doc) {
        let responses = op["responses"].as_object().unwrap();
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        if secured {
            assert!(responses.contains_key("401"), "{method} {path} lacks 401");
            assert!(
                responses["401"]["headers"].get("WWW-Authenticate").is_some(),
                "{method} {path}: 401 names WWW-Authenticate"
            );
        }
        if !["/healthz", "/readyz"].contains(&path.as_str()) {
            assert!(responses.contains_key("429"), "{method} {path} lacks 429");
            assert!(
                responses["429"]["headers"].get("Retry-After").is_some(),
                "{method} {path}"
            );
        }
        assert!(responses.contains_key("503"), "{method} {path} lacks 503");
        if op.get("requestBody").is_some() {
            for status in ["400", "413", "415", "422"] {
                assert!(responses.contains_key(status), "{method} {path} lacks {status}");
            }
        }
        for (status, r) in responses {
            // The readiness probe answers its per-dependency checks, also when it says 503.
            if path == "/readyz" && status == "503" {
                assert_eq!(
                    r["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/Readiness"
                );
                continue;
            }
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    r["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
        }
    }
}

#[test]
fn paging_parameters_carry_their_bounds() {
    let doc = doc();
    let mut lists = 0;
    for (method, path, op) in operations(&doc) {
        let Some(params) = op["parameters"].as_array() else {
            continue;
        };
        for p in params {
            match p["name"].as_str().unwrap() {
                "page" => {
                    lists += 1;
                    assert_eq!(p["schema"]["minimum"], 1, "{method} {path}");
                }
                "page_size" => {
                    assert_eq!(p["schema"]["minimum"], 1, "{method} {path}");
                    assert_eq!(p["schema"]["maximum"], 100, "{method} {path}");
                }
                _ => {}
            }
        }
        if method == "get"
            && op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .is_some_and(|r| r.contains("Paginated"))
        {
            assert!(
                params.iter().any(|p| p["name"] == "page"),
                "{path} is paginated without ?page="
            );
        }
    }
    assert!(lists >= 10, "every list takes ?page=: {lists}");
}

#[test]
fn bodies_have_real_schemas() {
    let doc = doc();
    let schemas = &doc["components"]["schemas"];
    // Audit states are any JSON value, null included.
    assert!(schemas["AuditOut"]["properties"]["before"].get("type").is_none());
    assert!(schemas["AuditOut"]["properties"]["after"].get("type").is_none());
    // The workflow body is the definition, not a bare object.
    let create = &doc["paths"]["/workflows/"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    let mut name = create["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
    while let Some(next) = schemas[name]["$ref"].as_str() {
        name = next.rsplit('/').next().unwrap();
    }
    let body = &schemas[name];
    let props = body["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{name}: {body}"));
    for field in ["name", "match_key", "steps", "transitions", "sla"] {
        assert!(props.contains_key(field), "{name} lacks {field}");
    }
    assert!(schemas["WorkflowOut"].to_string().contains("Workflow"));
    // Ticket bodies refuse unknown fields, and say so.
    assert_eq!(schemas["TicketIn"]["additionalProperties"], false);
    assert_eq!(schemas["TicketPatch"]["additionalProperties"], false);
    assert_eq!(schemas["TicketPut"]["additionalProperties"], false);
    let required: Vec<&str> = schemas["TicketPut"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(required, ["subject", "category"]);
}
