//! `ccadmin backup FILE`: a consistent copy of a running SQLite database, taken under
//! load, restored by "stop, copy back, start".

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ccadmin::config::StorageArgs;
use serde_json::{Value, json};

use crate::process::ServerProcess;

fn backup(data_dir: &std::path::Path, file: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ccadmin"))
        .arg("backup")
        .arg("--data-dir")
        .arg(data_dir)
        .arg(file)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

#[tokio::test]
async fn a_backup_taken_under_load_restores_every_write_accepted_before_it_began() {
    // Arrange: a server taking account creates from 4 writers.
    let dir = tempfile::tempdir().expect("a temp dir");
    let storage = StorageArgs {
        data_dir: dir.path().join("live"),
        ..StorageArgs::default()
    };
    let server =
        ServerProcess::start_with(&storage, &["--workers", "2", "--feature-delay-ms", "0"]).await;
    let admin = server.admin().await;
    let accepted = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (base, admin, accepted, stop) = (server.address.clone(), admin.clone(), accepted.clone(), stop.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let body = json!({"name": format!("Backup {w} {i}"), "domains": [{"domainName": format!("b{w}x{i}.example.com")}],
                        "accountSize": 1, "features": {"voice": {}}});
                    let res = http.post(format!("{base}/api/admin/account/v1/accounts"))
                        .bearer_auth(&admin.token).header("appkey", &admin.appkey).json(&body)
                        .send().await.expect("an answer");
                    assert_eq!(res.status(), 202);
                    let body: Value = res.json().await.expect("JSON");
                    accepted.lock().unwrap().push(body["accountId"].as_str().expect("an id").to_owned());
                }
            })
        })
        .collect();
    while accepted.lock().unwrap().len() < 50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Act: back up while the writers go on.
    let before: Vec<String> = accepted.lock().unwrap().clone();
    let file = dir.path().join("copy.db");
    let started = Instant::now();
    // On the blocking pool: the writers share this test's one runtime thread.
    let (data_dir, target) = (storage.data_dir.clone(), file.clone());
    let out = tokio::task::spawn_blocking(move || backup(&data_dir, &target))
        .await
        .expect("the backup runs");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let during = accepted.lock().unwrap().len() - before.len();
    // Writes went on: the writers were not stopped for the copy.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = accepted.lock().unwrap().len();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.expect("a writer ends");
    }
    eprintln!(
        "backup took {took:?}; {during} creates accepted while it ran, {} after",
        after - before.len() - during
    );
    assert!(
        after > before.len() + during,
        "writes stopped after the backup"
    );
    // A second backup to the same file is refused rather than overwriting it.
    let again = backup(&storage.data_dir, &file);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));

    // Restore: stop, copy back (without the old WAL), start.
    assert!(server.terminate(Duration::from_secs(20)).is_some());
    let restored = StorageArgs {
        data_dir: dir.path().join("restored"),
        ..StorageArgs::default()
    };
    std::fs::create_dir_all(&restored.data_dir).expect("a dir");
    std::fs::copy(&file, restored.data_dir.join("ccadmin.db")).expect("copied back");
    let server = ServerProcess::start_with(&restored, &["--workers", "0"]).await;
    let admin = server.admin().await;
    let http = reqwest::Client::new();
    for id in &before {
        let res = http
            .get(format!(
                "{}/api/admin/account/v1/accounts/{id}",
                server.address
            ))
            .bearer_auth(&admin.token)
            .header("appkey", &admin.appkey)
            .send()
            .await
            .expect("an answer");
        assert_eq!(
            res.status(),
            200,
            "{id} accepted before the backup is missing"
        );
    }
    server.kill();

    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
        .await
        .expect("the copy opens");
    let check: String = sqlx::query_scalar("pragma integrity_check")
        .fetch_one(&mut conn)
        .await
        .expect("a check");
    assert_eq!(check, "ok");
}

#[tokio::test]
async fn a_backup_of_a_postgresql_database_points_to_pg_dump() {
    let out = Command::new(env!("CARGO_BIN_EXE_ccadmin"))
        .args([
            "backup",
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
            "/tmp/never-written.db",
        ])
        .output()
        .expect("the binary runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
    assert!(!std::path::Path::new("/tmp/never-written.db").exists());
}
