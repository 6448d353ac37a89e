//! The binary as a person runs it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wangge_testkit::{TestDb, both_backends};

fn wangge(db_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(args)
        .env("WANGGE_DATABASE_URL", db_url)
        .env("WANGGE_KEY", "07".repeat(32))
        .env("RUST_LOG", "warn")
        .output()
        .expect("run wangge")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_explains_every_command() {
    let out = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = text(&out.stdout);
    for word in [
        "serve",
        "migrate",
        "demo",
        "grids",
        "--database-url",
        "WANGGE_DATABASE_URL",
    ] {
        assert!(help.contains(word), "--help lacks {word}:\n{help}");
    }
    let grids = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(["grids", "import", "--help"])
        .output()
        .unwrap();
    let grids = text(&grids.stdout);
    assert!(
        grids.contains("--effective") && grids.contains("--dry-run"),
        "{grids}"
    );
}

async fn demo_then_export_round_trips(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let accounts = dir.path().join("accounts.json");
    let out = wangge(
        &db.url,
        &["demo", "--accounts-file", accounts.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("16 grids"),
        "{}",
        text(&out.stdout)
    );
    let again = wangge(&db.url, &["demo"]);
    assert!(text(&again.stdout).contains("already loaded"));

    let path = dir.path().join("grids.geojson");
    let out = wangge(&db.url, &["grids", "export", "-o", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(doc["features"].as_array().unwrap().len(), 16);

    let out = wangge(&db.url, &["grids", "import", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("0 created, 0 redrawn, 0 renamed, 16 unchanged"),
        "{}",
        text(&out.stdout)
    );
}

async fn a_bad_boundary_file_names_each_feature_and_imports_nothing(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.geojson");
    let good = json!({"type": "Feature", "properties": {"code": "34017100100101", "name": "一", "community_name": "和平社区", "street_name": "幸福路街道", "district_name": "新城区"},
        "geometry": {"type": "Polygon", "coordinates": [[[117.0, 31.0], [117.01, 31.0], [117.01, 31.01], [117.0, 31.0]]]}});
    let unclosed = json!({"type": "Feature", "properties": {"code": "34017100100102", "name": "二"},
        "geometry": {"type": "Polygon", "coordinates": [[[117.1, 31.0], [117.11, 31.0], [117.11, 31.01], [117.1, 31.01]]]}});
    let swapped = json!({"type": "Feature", "properties": {"code": "34017100100103", "name": "三"},
        "geometry": {"type": "Polygon", "coordinates": [[[31.0, 117.2], [31.0, 117.21], [31.01, 117.21], [31.0, 117.2]]]}});
    std::fs::write(
        &path,
        json!({"type": "FeatureCollection", "features": [good, unclosed, swapped]}).to_string(),
    )
    .unwrap();
    let out = wangge(&db.url, &["grids", "import", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("feature 1: polygon 1: exterior ring is not closed"),
        "{err}"
    );
    assert!(
        err.contains("feature 2: coordinate [31, 117.2] has latitude and longitude swapped"),
        "{err}"
    );
    assert!(err.contains("nothing was imported"), "{err}");
    let export = wangge(&db.url, &["grids", "export"]);
    let doc: Value = serde_json::from_slice(&export.stdout).unwrap();
    assert!(
        doc["features"].as_array().unwrap().is_empty(),
        "nothing half-imported"
    );
}

async fn users_are_managed_from_the_command_line(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("test.key");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_wangge"))
            .args(args)
            .env("WANGGE_DATABASE_URL", &db.url)
            .env("WANGGE_KEY_FILE", &key)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let accounts = dir.path().join("accounts.json");
    let out = run(&["demo", "--accounts-file", accounts.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed: Value = serde_json::from_slice(&std::fs::read(&accounts).unwrap()).unwrap();
    let roles: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["role"].as_str().unwrap())
        .collect();
    for role in [
        "admin",
        "street_officer",
        "community_secretary",
        "grid_leader",
        "grid_worker",
        "unit_leader",
        "volunteer",
        "department_staff",
        "resident",
    ] {
        assert!(roles.contains(&role), "no demo account for {role}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&accounts).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let printed = text(&out.stdout);
    assert!(
        printed.contains("wangge.heping02") && printed.contains("households"),
        "{printed}"
    );

    let add = run(&[
        "user",
        "add",
        "--username",
        "li.mingfang",
        "--role",
        "grid_worker",
        "--grid",
        "34017100100103",
        "--name",
        "李明芳",
    ]);
    assert!(add.status.success(), "{}", text(&add.stderr));
    assert!(text(&add.stdout).contains("one-time password"));
    let bad_role = run(&["user", "add", "--username", "x.y", "--role", "mayor"]);
    assert!(!bad_role.status.success());
    assert!(text(&bad_role.stderr).contains("unknown role"));
    let no_scope = run(&["user", "add", "--username", "x.z", "--role", "grid_worker"]);
    assert!(!no_scope.status.success(), "a grid worker needs a grid");
    let unknown_grid = run(&[
        "user",
        "add",
        "--username",
        "x.w",
        "--role",
        "grid_worker",
        "--grid",
        "34017100100199",
    ]);
    assert!(text(&unknown_grid.stderr).contains("no grid with code"));

    let list = text(&run(&["user", "list"]).stdout);
    assert!(
        list.contains("li.mingfang") && list.contains("grid_worker") && list.contains("active"),
        "{list}"
    );
    let passwd = run(&["user", "passwd", "li.mingfang"]);
    assert!(text(&passwd.stdout).contains("new one-time password"));
    assert!(run(&["user", "disable", "li.mingfang"]).status.success());
    assert!(text(&run(&["user", "list"]).stdout).contains("disabled"));
    assert!(
        run(&["user", "disable", "li.mingfang", "--enable"])
            .status
            .success()
    );
    assert!(!run(&["user", "passwd", "nobody.here"]).status.success());

    // Open311 clients' keys: shown once, listed without the key, revoked.
    let add = run(&["apikey", "add", "civic-app"]);
    assert!(add.status.success(), "{}", text(&add.stderr));
    let out = text(&add.stdout);
    let key = out.lines().last().unwrap().trim().to_owned();
    assert!(key.starts_with("w311_") && key.len() > 30, "{out}");
    assert!(
        !run(&["apikey", "add", "civic-app"]).status.success(),
        "names are unique"
    );
    let list = text(&run(&["apikey", "list"]).stdout);
    assert!(list.contains("civic-app") && !list.contains(&key), "{list}");
    assert!(run(&["apikey", "revoke", "civic-app"]).status.success());
    assert!(text(&run(&["apikey", "list"]).stdout).contains("REVOKED"));
    assert!(!run(&["apikey", "revoke", "civic-app"]).status.success());

    let verify = run(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    assert!(
        text(&verify.stdout).contains("audit log intact"),
        "{}",
        text(&verify.stdout)
    );
}

both_backends!(
    users_are_managed_from_the_command_line,
    demo_then_export_round_trips,
    a_bad_boundary_file_names_each_feature_and_imports_nothing,
);

fn http_get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
}

#[test]
fn serve_with_demo_answers_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("wangge.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env("WANGGE_DATABASE_URL", &db)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr = loop {
        assert!(Instant::now() < deadline, "server did not start");
        let line = lines.next().expect("server output").unwrap();
        if let Some(rest) = line.split("open http://").nth(1) {
            // "open http://127.0.0.1:PORT/ (Ctrl-C to stop)"
            break rest.split('/').next().unwrap().to_owned();
        }
    };
    let health = http_get(&addr, "/healthz");
    assert!(health.starts_with("HTTP/1.0 200"), "{health}");
    assert!(
        health.contains(r#"{"status":"ok","database":"sqlite"}"#),
        "{health}"
    );
    let page = http_get(&addr, "/communities");
    assert!(page.contains("和平社区"), "{page}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "graceful shutdown exits 0, got {status}");
            break;
        }
        assert!(Instant::now() < deadline, "server ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_config_file_is_read_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("wangge.toml");
    let from_file = dir.path().join("from-file.db");
    std::fs::write(
        &config,
        format!("database_url = \"sqlite://{}\"\n", from_file.display()),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(["--config", config.to_str().unwrap(), "migrate"])
        .env_remove("WANGGE_DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(from_file.exists());
    let from_flag = dir.path().join("from-flag.db");
    let out = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "--database-url",
            &format!("sqlite://{}", from_flag.display()),
            "migrate",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(from_flag.exists());
    std::fs::write(&config, "databse_url = \"typo\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(["--config", config.to_str().unwrap(), "migrate"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("bad config file"));
}
