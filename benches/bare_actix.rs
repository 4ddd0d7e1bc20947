//! The framework floor for `benches/run`: a bare actix-web + actix-cors app answering the
//! sandbox's JSON route with the same bytes under the same policy, so the run can say what
//! the sandbox's own layers (Host guard, routes, verdict, journal, access log) cost on top.
//!
//! `benches/run` starts it as `bare_actix --serve PORT ORIGIN BODY_FILE CONTENT_TYPE`. Run by
//! `cargo bench` without those arguments it says so and exits, so a plain `cargo bench`
//! never hangs on it.

use actix_cors::Cors;
use actix_web::{web, App, HttpResponse, HttpServer};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(at) = args.iter().position(|a| a == "--serve") else {
        println!(
            "bare_actix: started by benches/run only (--serve PORT ORIGIN BODY_FILE CONTENT_TYPE)"
        );
        return Ok(());
    };
    let [port, origin, body, content_type] = match &args[at + 1..] {
        [p, o, b, c, ..] => [p.clone(), o.clone(), b.clone(), c.clone()],
        _ => {
            eprintln!("bare_actix: --serve PORT ORIGIN BODY_FILE CONTENT_TYPE");
            std::process::exit(2);
        }
    };
    let port: u16 = port.parse().map_err(std::io::Error::other)?;
    let body = web::Bytes::from(std::fs::read(&body)?);
    // The sandbox's worker count (serve::worker_count): the same threads on the same cores.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            // The benchmark's cors.toml, as the sandbox builds it.
            let cors = Cors::default()
                .allowed_origin(&origin)
                .allowed_methods(["GET", "PUT"])
                .allowed_headers(["Content-Type", "X-PKR-Auth"])
                .max_age(None)
                .block_on_origin_mismatch(false);
            let (body, content_type) = (body.clone(), content_type.clone());
            App::new().wrap(cors).route(
                "/api/student",
                web::get().to(move || {
                    let (body, content_type) = (body.clone(), content_type.clone());
                    async move { HttpResponse::Ok().content_type(content_type).body(body) }
                }),
            )
        })
        .workers(workers)
        .bind(("127.0.0.1", port))?
        .run()
        .await
    })
}
