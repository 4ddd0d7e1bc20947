//! Debian's real nginx, started by a test with a config it writes: `Nginx::start` runs
//! `nginx -p DIR -c nginx.conf` in the foreground and waits until every port accepts.
//! Without nginx the caller panics with how to install it (CI installs it in `.ci/test`).
#![allow(dead_code)]

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn nginx_path() -> Option<&'static str> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

/// A port free right now (bound to 0 and released): nginx needs a number in its config.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Nginx {
    child: Child,
}

impl Nginx {
    /// Starts nginx with `servers` (the `server { … }` blocks) inside an `http` block;
    /// `ports` are the ports those blocks listen on.
    pub fn start(dir: &Path, servers: &str, ports: &[u16]) -> Nginx {
        let binary = nginx_path().unwrap_or_else(|| {
            panic!("nginx is not installed: run `apt-get install nginx` (.ci/test does)")
        });
        let conf = format!(
            "worker_processes 1;\nerror_log {dir}/error.log;\npid {dir}/nginx.pid;\nuser root;\n\
             events {{ worker_connections 64; }}\nhttp {{\n  access_log off;\n  \
             client_body_temp_path {dir}/body;\n  proxy_temp_path {dir}/proxy;\n  \
             fastcgi_temp_path {dir}/fcgi;\n  uwsgi_temp_path {dir}/uwsgi;\n  \
             scgi_temp_path {dir}/scgi;\n{servers}\n}}\n",
            dir = dir.display()
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let child = Command::new(binary)
            .args(["-p", &dir.display().to_string(), "-c", "nginx.conf"])
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let mut n = Nginx { child };
        let deadline = Instant::now() + Duration::from_secs(15);
        for port in ports {
            while TcpStream::connect(("127.0.0.1", *port)).is_err() {
                if let Ok(Some(status)) = n.child.try_wait() {
                    let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
                    panic!("nginx exited with {status}: {log}");
                }
                assert!(Instant::now() < deadline, "nginx did not listen on {port}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        n
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
