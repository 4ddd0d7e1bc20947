//! Helpers shared by the integration tests (each test module picks what it needs).
pub mod chromium;
pub mod clock;
pub mod cookie_reports;
pub mod engine_oracle;
pub mod fetch_oracle;
pub mod nginx;
pub mod node;
pub mod raw_http;
pub mod raw_server;
pub mod sandbox;
pub mod stack_servers;
pub mod tls;
pub mod wire_server;
