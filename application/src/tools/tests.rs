use super::*;
use serde_json::json;

fn parse(name: &str, args: Value) -> Result<ToolRequest, ToolError> {
    ToolRequest::parse(name, &args)
}

fn code(name: &str, args: Value) -> &'static str {
    match parse(name, args) {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

#[test]
fn a_viewer_is_offered_the_read_tools_only() {
    let viewer: Vec<&str> = catalog(false).iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        viewer,
        [
            "list_products",
            "check_stock",
            "stock_history",
            "get_forecast",
            "list_refills",
            "explain_refill",
            "list_notifications",
            "purchase_plan",
            "sales_summary",
            "rank_products",
            "stock_outlook",
            "product_timeline"
        ]
    );
    let manager = catalog(true);
    let writes: Vec<&str> = manager
        .iter()
        .filter(|t| !t.read_only)
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(
        writes,
        [
            "refill_stock",
            "set_min_stock",
            "receive_stock",
            "record_sale",
            "count_stock",
            "cancel_refill",
            "receive_refill"
        ]
    );
    assert_eq!(manager.len(), viewer.len() + writes.len());
}

#[test]
fn every_schema_is_a_closed_object_naming_its_required_fields() {
    for spec in catalog(true) {
        let schema = &spec.input_schema;
        assert_eq!(schema["type"], "object", "{}", spec.name);
        assert_eq!(schema["additionalProperties"], false, "{}", spec.name);
        assert!(schema["properties"].is_object(), "{}", spec.name);
        // A schema is sent alone (MCP tools/list, an LLM's tools): a `$ref` would point nowhere.
        assert!(
            !schema.to_string().contains("$ref"),
            "{}: {schema}",
            spec.name
        );
    }
    let refills = ToolName::ListRefills.input_schema();
    assert!(
        refills["properties"]["status"]
            .to_string()
            .contains("cancelled"),
        "{refills}"
    );
    let refill = ToolName::RefillStock.input_schema();
    assert_eq!(refill["required"], json!(["sku", "quantity", "reason"]));
    assert_eq!(refill["properties"]["quantity"]["minimum"], 1);
    let min = ToolName::SetMinStock.input_schema();
    assert_eq!(min["required"], json!(["sku", "quantity"]));
    let openai = ToolSpec::of(ToolName::CheckStock).openai_function();
    assert_eq!(openai["function"]["name"], "check_stock");
}

#[test]
fn arguments_are_checked_then_parsed_into_domain_types() {
    assert_eq!(code("drop_table", json!({})), "unknown_tool");
    assert_eq!(code("list_products", Value::Null), "ok");
    assert_eq!(
        code("list_products", json!({ "limit": 0 })),
        "invalid_arguments"
    );
    assert_eq!(
        code("list_products", json!({ "limit": 501 })),
        "invalid_arguments"
    );
    assert_eq!(
        code("list_products", json!({ "tenant": "other" })),
        "invalid_arguments"
    );
    assert_eq!(code("check_stock", json!({})), "invalid_arguments");
    assert_eq!(
        code("check_stock", json!({ "sku": "A", "name": "milk" })),
        "invalid_arguments"
    );
    assert_eq!(
        code("check_stock", json!({ "sku": "no spaces" })),
        "invalid_arguments"
    );
    assert_eq!(
        parse("check_stock", json!({ "name": " Milk " })),
        Ok(ToolRequest::CheckStock(ProductRef::Name("Milk".into())))
    );
    assert_eq!(
        code("stock_history", json!({ "sku": "A", "as_of": "yesterday" })),
        "invalid_arguments"
    );
    assert_eq!(
        code(
            "stock_history",
            json!({ "sku": "A", "as_of": "2026-01-01T00:00:00Z" })
        ),
        "ok"
    );
    assert_eq!(
        code("list_refills", json!({ "status": "lost" })),
        "invalid_arguments"
    );
    assert_eq!(
        code("explain_refill", json!({ "refill_id": "x" })),
        "invalid_arguments"
    );
    let refill = |q: Value, reason: &str| json!({ "sku": "A", "quantity": q, "reason": reason });
    assert_eq!(code("refill_stock", refill(json!(5), "low")), "ok");
    assert_eq!(
        code("refill_stock", refill(json!(0), "low")),
        "invalid_arguments"
    );
    assert_eq!(
        code("refill_stock", refill(json!("5"), "low")),
        "invalid_arguments"
    );
    assert_eq!(
        code("refill_stock", refill(json!(5), "  ")),
        "invalid_arguments"
    );
    assert_eq!(
        code("refill_stock", refill(json!(5), &"x".repeat(501))),
        "invalid_arguments"
    );
    // PostgreSQL cannot store U+0000: refused as bad arguments, not a store failure later.
    assert_eq!(
        code("refill_stock", refill(json!(5), "low\0")),
        "invalid_arguments"
    );
    assert_eq!(
        code("check_stock", json!({ "name": "mi\u{0}lk" })),
        "invalid_arguments"
    );
    // "Clear the minimum" must be said: a missing quantity is not a null one.
    assert_eq!(
        code("set_min_stock", json!({ "sku": "A" })),
        "invalid_arguments"
    );
    assert_eq!(
        parse("set_min_stock", json!({ "sku": "A", "quantity": null })),
        Ok(ToolRequest::SetMinStock {
            sku: restock_domain::Sku::parse("A").expect("sku"),
            quantity: None
        })
    );
    assert_eq!(
        code("set_min_stock", json!({ "sku": "A", "quantity": -1 })),
        "invalid_arguments"
    );
}
