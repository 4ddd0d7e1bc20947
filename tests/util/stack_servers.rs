//! The real servers of `tests/stack/` (Express + cors, FastAPI, Flask + flask-cors, Django +
//! django-cors-headers), Debian's nginx and an in-process actix-web + actix-cors, each started
//! with a CORS configuration given as data and killed on drop. Every one serves GET, PUT,
//! POST and DELETE /api/data (with `X-Total-Count: 42`) and GET /api/fail (a 500).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use super::nginx::{free_port, Nginx};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The venv `.ci/test` makes for the Python servers.
pub fn python() -> PathBuf {
    root().join("target/pyenv/bin/python")
}

/// Panics, loudly, when a server the stack tests need cannot run here.
pub fn require(stack: &str) {
    match stack {
        "express" => super::node::require_express("stack_real"),
        "fastapi" | "flask" | "django"
            if !python().exists() || !root().join("target/pyenv/.stack-ok").exists() =>
        {
            panic!(
                "stack_real: {} is missing: run .ci/test (it makes target/pyenv with fastapi, \
                     uvicorn, flask, flask-cors, django, django-cors-headers)",
                python().display()
            );
        }
        "nginx" if super::nginx::nginx_path().is_none() => {
            panic!(
                "stack_real: nginx is not installed: run `apt-get install nginx` (.ci/test does)"
            );
        }
        _ => {}
    }
}

pub enum Running {
    Child(Child, tempfile::TempDir),
    Nginx(Nginx, tempfile::TempDir),
    Actix(actix_web::dev::ServerHandle, std::thread::JoinHandle<()>),
}

pub struct Server {
    pub port: u16,
    running: Option<Running>,
}

impl Server {
    /// Starts `stack` with `config` (JSON options; nginx: the directives as a string).
    pub fn start(stack: &str, config: &Value) -> Server {
        Server::start_as(stack, config, false)
    }

    /// Starts `stack` as a `stack_fix` says: its `config`, and for FastAPI the middleware
    /// wrapping the whole app when the fix says `outermost`.
    pub fn start_fix(stack: &str, fix: &Value) -> Server {
        Server::start_as(stack, &fix["config"], fix["outermost"] == Value::Bool(true))
    }

    fn start_as(stack: &str, config: &Value, outermost: bool) -> Server {
        require(stack);
        match stack {
            "nginx" => nginx(config.as_str().expect("nginx config is text")),
            "actix" => actix(config.clone()),
            _ => script(stack, config, outermost),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        match self.running.take() {
            Some(Running::Child(mut c, _)) => {
                let _ = c.kill();
                let _ = c.wait();
            }
            Some(Running::Actix(handle, thread)) => {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(handle.stop(false));
                let _ = thread.join();
            }
            Some(Running::Nginx(n, dir)) => drop((n, dir)),
            None => {}
        }
    }
}

fn script(stack: &str, config: &Value, outermost: bool) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.json");
    std::fs::write(&file, config.to_string()).unwrap();
    let mut cmd = if stack == "express" {
        let mut c = Command::new("node");
        c.arg(root().join("tests/stack/express_server.js"))
            .env("NODE_PATH", super::node::node_modules());
        c
    } else {
        let mut c = Command::new(python());
        c.arg(root().join(format!("tests/stack/{stack}_server.py")));
        c
    };
    cmd.arg(&file);
    if outermost {
        cmd.arg("--outermost");
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start the {stack} server: {e}"));
    // The port line is written once the socket listens: reading it is the wait.
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
        panic!("the {stack} server did not start with {config} ({e}): {line:?}")
    });
    Server {
        port: v["port"].as_u64().unwrap() as u16,
        running: Some(Running::Child(child, dir)),
    }
}

/// nginx with the CORS directives in each API location, as a user pastes them.
fn nginx(directives: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let servers = format!(
        "server {{\n listen 127.0.0.1:{port};\n\
         location = /api/data {{\n{directives}\n add_header X-Total-Count 42 always;\n \
         default_type application/json;\n return 200 '{{\"ok\":true}}';\n }}\n\
         location = /api/fail {{\n{directives}\n return 500;\n }}\n}}\n"
    );
    let n = Nginx::start(dir.path(), &servers, &[port]);
    Server {
        port,
        running: Some(Running::Nginx(n, dir)),
    }
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(str::to_owned))
        .collect()
}

/// `actix_cors::Cors` built from `stack_fix.config`'s actix settings, call by call.
fn cors_from(c: &Value) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default();
    if c["allow_any_origin"] == Value::Bool(true) {
        cors = cors.allow_any_origin();
    }
    if c["send_wildcard"] == Value::Bool(true) {
        cors = cors.send_wildcard();
    }
    for o in strs(&c["allowed_origins"]) {
        cors = cors.allowed_origin(&o);
    }
    let methods = strs(&c["allowed_methods"]);
    if !methods.is_empty() {
        cors = cors.allowed_methods(methods.iter().map(|m| m.as_str()).collect::<Vec<_>>());
    }
    let headers = strs(&c["allowed_headers"]);
    if !headers.is_empty() {
        cors = cors.allowed_headers(headers.iter().map(|h| h.as_str()).collect::<Vec<_>>());
    }
    let expose = strs(&c["expose_headers"]);
    if !expose.is_empty() {
        cors = cors.expose_headers(expose.iter().map(|h| h.as_str()).collect::<Vec<_>>());
    }
    if c["supports_credentials"] == Value::Bool(true) {
        cors = cors.supports_credentials();
    }
    if let Some(age) = c["max_age"].as_u64() {
        cors = cors.max_age(age as usize);
    }
    cors
}

fn actix(config: Value) -> Server {
    use actix_web::{web, App, HttpResponse, HttpServer};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let data = || {
                HttpResponse::Ok()
                    .insert_header(("X-Total-Count", "42"))
                    .json(serde_json::json!({"ok": true}))
            };
            let server = HttpServer::new(move || {
                App::new()
                    .wrap(cors_from(&config))
                    .service(
                        web::resource("/api/data")
                            .route(web::get().to(move || async move { data() }))
                            .route(web::put().to(move || async move { data() }))
                            .route(web::post().to(move || async move { data() })),
                    )
                    .route(
                        "/api/fail",
                        web::get()
                            .to(|| async { HttpResponse::InternalServerError().body("boom") }),
                    )
            })
            .workers(1)
            .listen(listener)
            .unwrap()
            .run();
            tx.send(server.handle()).unwrap();
            let _ = server.await;
        });
    });
    let handle = rx.recv().expect("actix server started");
    Server {
        port,
        running: Some(Running::Actix(handle, thread)),
    }
}
