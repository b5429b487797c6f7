//! The checked-in SDL is the API contract: this fails when the code's schema drifts from it.
//! Run with UPDATE_SCHEMA=1 to rewrite `backend/schema.graphql` after an intended change.

#[test]
fn the_checked_in_sdl_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let current = orderflow::schema::sdl();
    if std::env::var("UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &current).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == current,
        "backend/schema.graphql differs from the schema in code; review the change and run \
         `UPDATE_SCHEMA=1 cargo test -p orderflow --test api schema` to accept it"
    );
}

#[test]
fn the_core_api_names_of_the_design_are_in_the_schema() {
    let sdl = orderflow::schema::sdl();
    for name in [
        "signUp(input: SignUpInput!): AuthPayload!",
        "login(input: LoginInput!): AuthPayload!",
        "me: Me!",
        "refreshToken(input: RefreshTokenInput!)",
        "accessToken: String",
        "userErrors: [UserError!]!",
        "createWarehouse(input: CreateWarehouseInput!)",
        "createProduct(input: CreateProductInput!)",
        "adjustStock(input: AdjustStockInput!)",
        "stockLevels(sku: String!): [StockLevel!]!",
        "createChannelConnection(input: CreateChannelConnectionInput!)",
        "createOrder(input: CreateOrderInput!)",
        "orders(first: Int, after: String, filter: OrderFilterInput",
        "order(id: ID!): Order",
        "orderEvents(orderId: ID)",
        "enum OrderState",
        "enum Platform",
    ] {
        assert!(sdl.contains(name), "missing from the schema: {name}");
    }
}
