//! Issue #16, "works from anywhere": the binary as `cargo install` leaves it, run from an
//! empty folder, has the whole fixture library inside it; a user's own `./fixtures` (or
//! `--dir`) is laid over it and wins a clash, saying so; and the install extras
//! (`--version` with the commit, shell completions, the man page) come from the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::sandbox::{client, TestSandbox, BIN};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary alone in a `bin/` folder of its own, and an empty folder to run it in: nothing
/// of the checkout is within reach of either.
struct Installed {
    root: tempfile::TempDir,
    bin: PathBuf,
}

impl Installed {
    fn new() -> Installed {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("bin")).unwrap();
        std::fs::create_dir(root.path().join("work")).unwrap();
        let bin = root.path().join("bin/sandbox");
        // A hard link is instant; a copy (another file system) is what install does anyway.
        if std::fs::hard_link(BIN, &bin).is_err() {
            std::fs::copy(BIN, &bin).unwrap();
        }
        Installed { root, bin }
    }

    /// The empty folder the commands run in.
    fn work(&self) -> PathBuf {
        self.root.path().join("work")
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        self.run_in(&self.work(), args)
    }

    fn run_in(&self, dir: &Path, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(&self.bin)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn up(&self, args: &[&str]) -> TestSandbox {
        let ports = ["--port", "frontend=0", "--port", "api=0"];
        TestSandbox::start_bin(&self.bin, &self.work(), &[args, &ports].concat(), |_| {})
    }
}

/// The fixture folders of the checkout: what the binary must carry.
fn repo_fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("fixture.toml").is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn title_of(fixture_toml: &Path) -> String {
    let t: toml::Table = toml::from_str(&std::fs::read_to_string(fixture_toml).unwrap()).unwrap();
    t["title"].as_str().unwrap().to_string()
}

/// The page the static origin serves at `/`.
fn page(sb: &TestSandbox) -> String {
    let res = client()
        .get(format!("{}/", sb.url("frontend")))
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().unwrap()
}

/// What the API sends as Access-Control-Allow-Origin to the fixture's page origin.
fn acao(sb: &TestSandbox) -> Option<String> {
    client()
        .get(format!("{}/api/student", sb.url("api")))
        .header("Host", "lahore-api.localhost")
        .header("Origin", "http://karachi-dev.localhost:8080")
        .send()
        .unwrap()
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_string())
}

fn warnings(sb: &TestSandbox) -> Vec<String> {
    sb.events()
        .iter()
        .filter(|e| e["event"] == "warning")
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_built_in_library_lists_verifies_and_shows_from_an_empty_folder() {
    let inst = Installed::new();
    let (code, out, err) = inst.run(&["fixtures", "list", "--json"]);
    assert_eq!(code, 0, "{err}");
    let listed: Vec<Value> = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = listed.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, repo_fixtures());
    for f in &listed {
        assert_eq!(f["from"], "built-in", "{f}");
        assert_eq!(f["shadows_built_in"], false, "{f}");
    }
    let (code, text, _) = inst.run(&["fixtures", "list"]);
    assert_eq!(code, 0);
    assert_eq!(text.lines().count(), names.len(), "{text}");
    assert!(text.lines().all(|l| l.ends_with("(built-in)")), "{text}");

    let (code, out, err) = inst.run(&["fixtures", "verify"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("{0} of {0} fixtures verify", names.len())),
        "{out}"
    );
    assert!(!err.contains("shadows"), "{err}");

    let (code, out, err) = inst.run(&["fixtures", "show", "tutorial-wildcard-with-credentials"]);
    assert_eq!(code, 0, "{err}");
    let title = title_of(&repo().join("fixtures/tutorial-wildcard-with-credentials/fixture.toml"));
    assert!(
        out.starts_with(&format!("tutorial-wildcard-with-credentials — {title}\n")),
        "{out}"
    );
    assert!(
        out.contains("--- cors.toml\n+++ cors.fixed.toml\n@@ "),
        "{out}"
    );
    // Nothing was written where the command ran.
    assert_eq!(std::fs::read_dir(inst.work()).unwrap().count(), 0);
}

#[test]
fn up_serves_a_built_in_fixture_and_its_fix_and_says_it_is_the_built_in_copy() {
    let inst = Installed::new();
    let title = title_of(&repo().join("fixtures/wrong-port/fixture.toml"));

    let mut buggy = inst.up(&["--fixture", "wrong-port"]);
    let html = page(&buggy);
    assert!(html.contains(&format!("<title>{title}</title>")), "{html}");
    assert!(html.contains("id=\"fixture-requests\""), "{html}");
    let buggy_acao = acao(&buggy);
    let note = buggy.wait_event(|e| {
        e["event"] == "warning" && e["message"].as_str().unwrap().contains("built-in copy")
    });
    let note = note["message"].as_str().unwrap();
    assert!(
        note.starts_with("fixture `wrong-port`: serving the built-in copy"),
        "{note}"
    );
    // The copy lives in a private temporary folder that goes away with the sandbox.
    let unpacked = PathBuf::from(
        note.split("written for this run to ")
            .nth(1)
            .and_then(|rest| rest.split(" and removed").next())
            .unwrap(),
    );
    assert!(unpacked.join("cors.toml").is_file(), "{note}");
    assert!(
        buggy.terminate(crate::util::sandbox::DEADLINE).is_some(),
        "no exit on SIGTERM"
    );
    assert!(!unpacked.exists(), "{} left behind", unpacked.display());

    let fixed = inst.up(&["--fixture", "wrong-port", "--fixed"]);
    assert!(page(&fixed).contains(&format!("<title>{title}</title>")));
    let fixed_acao = acao(&fixed);
    assert_eq!(
        fixed_acao.as_deref(),
        Some("http://karachi-dev.localhost:8080")
    );
    assert_ne!(buggy_acao, fixed_acao, "--fixed serves the other policy");
    assert_eq!(std::fs::read_dir(inst.work()).unwrap().count(), 0);
}

#[test]
fn a_users_fixture_of_the_same_name_wins_and_the_clash_is_said_once() {
    let inst = Installed::new();
    // The user's own `wrong-port`, with a title of its own so that it can be told apart.
    let (code, out, err) = inst.run(&["fixtures", "new", "wrong-port"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("created ./fixtures/wrong-port: "), "{out}");
    let shadow = "fixture `wrong-port`: ./fixtures/wrong-port shadows the built-in one";
    assert_eq!(err.matches(shadow).count(), 1, "{err}");
    let mine = inst.work().join("fixtures/wrong-port/fixture.toml");
    let text = std::fs::read_to_string(&mine).unwrap();
    let scaffold_title = title_of(&mine);
    std::fs::write(&mine, text.replace(&scaffold_title, "My own wrong port")).unwrap();
    let (code, _, err) = inst.run(&["fixtures", "new", "wrong-port", "--page"]);
    assert_eq!(code, 0, "{err}");

    let (code, out, _) = inst.run(&["fixtures", "list", "--json"]);
    assert_eq!(code, 0);
    let listed: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(listed.len(), repo_fixtures().len(), "one entry per name");
    let entry = listed.iter().find(|f| f["name"] == "wrong-port").unwrap();
    assert_eq!(entry["from"], "./fixtures/wrong-port");
    assert_eq!(entry["shadows_built_in"], true);
    assert_eq!(entry["title"], "My own wrong port");
    let (_, text, _) = inst.run(&["fixtures", "list"]);
    let line = text.lines().find(|l| l.starts_with("wrong-port ")).unwrap();
    assert!(
        line.ends_with("(./fixtures/wrong-port, shadows the built-in one)"),
        "{line}"
    );

    for args in [
        &["fixtures", "show", "wrong-port"][..],
        &["fixtures", "verify", "wrong-port"],
        &["fixtures", "verify"],
    ] {
        let (code, out, err) = inst.run(args);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        assert_eq!(err.matches(shadow).count(), 1, "{args:?}: {err}");
    }

    let sb = inst.up(&["--fixture", "wrong-port"]);
    assert!(page(&sb).contains("<title>My own wrong port</title>"));
    sb.wait_event(|e| e["event"] == "warning" && e["message"] == shadow);
    let said = warnings(&sb);
    assert_eq!(said.iter().filter(|w| *w == shadow).count(), 1, "{said:?}");
    assert!(
        !said.iter().any(|w| w.contains("built-in copy")),
        "{said:?}"
    );
}

#[test]
fn dir_must_exist_except_for_new_which_creates_it_and_says_how_to_go_on() {
    let inst = Installed::new();
    for cmd in ["list", "verify"] {
        let (code, out, err) = inst.run(&["fixtures", cmd, "--dir", "missing"]);
        assert_eq!(code, 2, "{cmd}: {out}{err}");
        assert!(
            err.contains(
                "error: --dir missing: no such folder; give the folder that holds your fixtures"
            ),
            "{cmd}: {err}"
        );
    }

    let (code, out, err) = inst.run(&["fixtures", "new", "foo", "--dir", "x"]);
    assert_eq!(code, 0, "{err}");
    assert!(inst.work().join("x/foo/fixture.toml").is_file());
    assert!(out.starts_with("created x/foo: "), "{out}");
    // Each next step it prints, run as printed, finds the fixture.
    let steps: Vec<&str> = out.split('`').skip(1).step_by(2).collect();
    assert_eq!(
        steps,
        [
            "sandbox fixtures new --dir x foo --page",
            "sandbox fixtures verify --dir x foo"
        ]
    );
    for step in steps {
        let args: Vec<&str> = step.split(' ').skip(1).collect();
        let (code, out, err) = inst.run(&args);
        assert_eq!(code, 0, "{step}: {out}{err}");
    }
    let (code, out, _) = inst.run(&["fixtures", "list", "--dir", "x", "--json"]);
    assert_eq!(code, 0);
    let listed: Vec<Value> = serde_json::from_str(&out).unwrap();
    let foo = listed.iter().find(|f| f["name"] == "foo").unwrap();
    assert_eq!(foo["from"], "x/foo");
    assert_eq!(listed.len(), repo_fixtures().len() + 1);

    // A folder name that needs quoting is quoted, so the step still pastes as one word.
    let (code, out, err) = inst.run(&["fixtures", "new", "bar", "--dir", "my fixtures"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("`sandbox fixtures verify --dir 'my fixtures' bar`"),
        "{out}"
    );
}

#[test]
fn version_names_the_commit() {
    let inst = Installed::new();
    let (code, out, _) = inst.run(&["--version"]);
    assert_eq!(code, 0);
    let want = format!("sandbox {} (", env!("CARGO_PKG_VERSION"));
    let inner = out
        .trim_end()
        .strip_prefix(&want)
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{out:?}"));
    if inner == "unknown commit" {
        return;
    }
    let (hash, date) = inner.split_once(' ').unwrap_or_else(|| panic!("{out:?}"));
    assert!(
        hash.len() >= 7 && hash.chars().all(|c| c.is_ascii_hexdigit()),
        "{out:?}"
    );
    let d: Vec<&str> = date.split('-').collect();
    assert!(
        d.len() == 3 && [4, 2, 2] == [d[0].len(), d[1].len(), d[2].len()],
        "{out:?}"
    );
    // The commit is the checkout's, when git can say.
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repo())
        .output()
        .ok()
        .filter(|h| h.status.success());
    if let Some(h) = head {
        let head = String::from_utf8_lossy(&h.stdout);
        assert!(head.starts_with(hash), "{hash} is not HEAD {head}");
    }
}

#[test]
fn completions_are_scripts_their_shells_accept() {
    let inst = Installed::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let (code, script, err) = inst.run(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(
            script.contains("fixtures"),
            "{shell}: no subcommands in\n{script}"
        );
        let checker = match shell {
            "powershell" => "pwsh",
            other => other,
        };
        let file = inst.root.path().join(format!("completion.{shell}"));
        std::fs::write(&file, &script).unwrap();
        let checked = match checker {
            "pwsh" => Command::new(checker)
                .args(["-NoProfile", "-Command"])
                .arg(format!(
                    "$e = $null; [System.Management.Automation.Language.Parser]::ParseFile('{}', [ref]$null, [ref]$e) | Out-Null; if ($e) {{ exit 1 }}",
                    file.display()
                ))
                .output(),
            _ => Command::new(checker).arg("-n").arg(&file).output(),
        };
        match checked {
            Ok(o) => assert!(
                o.status.success(),
                "{checker} refuses the {shell} script: {}",
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("SKIPPED: {checker} is not installed; the {shell} script was not parsed")
            }
            Err(e) => panic!("{checker}: {e}"),
        }
    }
    let (code, _, err) = inst.run(&["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(err.contains("possible values: bash"), "{err}");
}

#[test]
fn man_prints_a_roff_page() {
    let inst = Installed::new();
    let (code, page, err) = inst.run(&["man"]);
    assert_eq!(code, 0, "{err}");
    // clap_mangen opens with the `\(aq` string definition (`.ie`/`.el`), then the title.
    let first = page
        .lines()
        .find(|l| !l.starts_with(".ie ") && !l.starts_with(".el "))
        .unwrap();
    assert!(first.starts_with(".TH sandbox 1 "), "{page}");
    assert!(first.contains(env!("CARGO_PKG_VERSION")), "{first}");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH SUBCOMMANDS"] {
        assert!(page.contains(section), "{section} missing:\n{page}");
    }
    assert!(page.contains("fixtures"), "{page}");
}
