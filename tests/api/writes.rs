//! The write path under concurrency: on SQLite concurrent write transactions share one
//! commit (each caller in a savepoint of its own); these check its rules on both
//! backends: a 202 is committed, one caller's failure or cancellation rolls back only
//! its own work.

use std::time::Duration;

use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Creds, TestApp, spawn_app, status_json};

const NUMBERS: &str = "/api/admin/voice/v1/accounts/ABCDEF/phone-numbers";

/// `n` numbers the demo inventory offers (US LOCAL, no documents needed).
async fn available(app: &TestApp, creds: &Creds, n: usize) -> Vec<String> {
    let (status, page) = status_json(
        app.get(
            &format!("/api/admin/voice/v1/accounts/ABCDEF/available-phone-numbers?countryCode=US&type=LOCAL&areaCode=212&pageSize={n}"),
            creds,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let numbers: Vec<String> = page["phoneNumbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["phoneNumber"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(numbers.len(), n, "{page}");
    numbers
}

/// What a task needs to send requests to the server.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    base: String,
}

fn client(app: &TestApp) -> Client {
    Client {
        http: app.http.clone(),
        base: app.address.clone(),
    }
}

/// Sends an add of `number`, with a client timeout if given; `None` when the client
/// gave up first.
async fn add(
    app: &Client,
    creds: &Creds,
    number: &str,
    timeout: Option<Duration>,
) -> Option<(u16, Value)> {
    let mut req = app
        .http
        .post(format!("{}{NUMBERS}", app.base))
        .bearer_auth(&creds.token)
        .header("appkey", &creds.appkey)
        .json(&json!({"phoneNumber": number}));
    if let Some(t) = timeout {
        req = req.timeout(t);
    }
    match req.send().await {
        Ok(res) => Some(status_json(res).await),
        Err(e) if e.is_timeout() => None,
        Err(e) => panic!("the add of {number} failed: {e}"),
    }
}

/// The number `number` of the demo account as listed, if it holds it.
async fn held(app: &TestApp, creds: &Creds, number: &str) -> Option<Value> {
    let encoded = number.replace('+', "%2B");
    let (status, page) = status_json(
        app.get(&format!("{NUMBERS}?filter=phoneNumber:{encoded}"), creds)
            .await,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    page["phoneNumbers"].as_array().unwrap().first().cloned()
}

backend_tests! {
    async fn concurrent_adds_with_repeats_answer_one_202_each_and_every_202_ends(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let numbers = available(&app, &demo, 30).await;
        // Each number twice, interleaved with adds that fail (a number not offered),
        // all at once: the writers' batches mix successes, conflicts and failures.
        let (mut tasks, mut bad) = (Vec::new(), Vec::new());
        for (i, number) in numbers.iter().chain(numbers.iter()).enumerate() {
            let (c, creds, number) = (client(&app), demo.clone(), number.clone());
            tasks.push(tokio::spawn(async move { (number.clone(), add(&c, &creds, &number, None).await.unwrap()) }));
            if i % 6 == 0 {
                let (c, creds) = (client(&app), demo.clone());
                bad.push(tokio::spawn(async move { add(&c, &creds, &format!("+1999555{i:04}"), None).await.unwrap() }));
            }
        }
        let mut answers: std::collections::BTreeMap<String, Vec<(u16, Value)>> = Default::default();
        for t in tasks {
            let (number, answer) = t.await.unwrap();
            answers.entry(number).or_default().push(answer);
        }
        for t in bad {
            let (status, body) = t.await.unwrap();
            assert_eq!(status, 400, "{body}");
        }
        app.finish_jobs().await;
        for (number, mut got) in answers {
            got.sort_by_key(|(s, _)| *s);
            let statuses: Vec<u16> = got.iter().map(|(s, _)| *s).collect();
            assert_eq!(statuses, [202, 409], "{number}: {got:?}");
            assert_eq!(got[1].1["violations"][0]["field"], "phoneNumber", "{}", got[1].1);
            let id = got[0].1["phoneNumberId"].as_str().unwrap();
            let (status, n) = status_json(app.get(&format!("{NUMBERS}/{id}"), &demo).await).await;
            assert_eq!(status, 200, "{number} was answered 202, so it is there: {n}");
            assert_eq!(n["phoneNumber"], number.as_str());
            assert_eq!(n["status"], "ACTIVE", "{number}: its activation ended");
        }
    }

    async fn adds_whose_clients_give_up_leave_the_others_committed_and_nothing_half_done(b: Backend) {
        let app = spawn_app(&b).await;
        let demo = app.demo().await;
        let numbers = available(&app, &demo, 40).await;
        // Every other client gives up after 0 to 4 ms: some before their transaction,
        // some inside it, some after its commit; the others wait for their answer.
        let mut tasks = Vec::new();
        for (i, number) in numbers.iter().enumerate() {
            let (c, creds, number) = (client(&app), demo.clone(), number.clone());
            let timeout = (i % 2 == 1).then(|| Duration::from_millis((i % 5) as u64));
            tasks.push(tokio::spawn(async move { (number.clone(), timeout, add(&c, &creds, &number, timeout).await) }));
        }
        let mut settled = Vec::new();
        for t in tasks {
            let (number, timeout, answer) = t.await.unwrap();
            match (timeout, answer) {
                (None, Some((status, body))) => {
                    assert_eq!(status, 202, "{number}: {body}");
                    settled.push(number);
                }
                (None, None) => unreachable!("no timeout was set"),
                (Some(_), Some((status, body))) => {
                    assert_eq!(status, 202, "{number}: {body}");
                    settled.push(number);
                }
                (Some(_), None) => {
                    // The add may or may not have committed; either way it is whole.
                    // Give the server time to finish what the client left.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    match held(&app, &demo, &number).await {
                        Some(_) => settled.push(number),
                        None => {
                            let (status, body) = add(&client(&app), &demo, &number, None).await.unwrap();
                            assert_eq!(status, 202, "{number} is not held, so it is still available: {body}");
                            settled.push(number);
                        }
                    }
                }
            }
        }
        app.finish_jobs().await;
        assert_eq!(settled.len(), numbers.len());
        for number in &settled {
            let n = held(&app, &demo, number).await.unwrap_or_else(|| panic!("{number} was accepted, so it is there"));
            assert_eq!(n["status"], "ACTIVE", "{number}: {n}");
            // Held once: a repeat is the account's own number again.
            let (status, body) = add(&client(&app), &demo, number, None).await.unwrap();
            assert_eq!(status, 409, "{number}: {body}");
        }
        // The server still writes.
        let more = available(&app, &demo, 1).await;
        let (status, body) = add(&client(&app), &demo, &more[0], None).await.unwrap();
        assert_eq!(status, 202, "{body}");
    }

    async fn a_writer_that_fails_or_is_cancelled_rolls_back_only_its_own_work(b: Backend) {
        use ccadmin::store::emulator::{set_state, state};
        let app = spawn_app(&b).await;
        let db = ccadmin::open(&app.args.storage).await.unwrap();
        // A writes and holds its transaction while B, C and D start theirs: on SQLite
        // they queue for the one connection and end up in A's batch.
        let mut a = db.write().await.unwrap();
        set_state(&mut a, "writes-a", "1").await.unwrap();
        let failing = {
            let db = db.clone();
            tokio::spawn(async move {
                let mut tx = db.write().await.unwrap();
                set_state(&mut tx, "writes-b", "1").await.unwrap();
                // An error after a write: the transaction is dropped uncommitted.
                drop(tx);
            })
        };
        let cancelled = {
            let db = db.clone();
            tokio::spawn(async move {
                tokio::time::timeout(Duration::from_millis(100), async {
                    let mut tx = db.write().await.unwrap();
                    set_state(&mut tx, "writes-c", "1").await.unwrap();
                    // A caller whose request goes away mid-transaction.
                    std::future::pending::<()>().await;
                })
                .await
                .expect_err("the caller is cancelled")
            })
        };
        let committed = {
            let db = db.clone();
            tokio::spawn(async move {
                let mut tx = db.write().await.unwrap();
                set_state(&mut tx, "writes-d", "1").await.unwrap();
                tx.commit().await.unwrap();
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        a.commit().await.unwrap();
        failing.await.unwrap();
        cancelled.await.unwrap();
        committed.await.unwrap();
        let mut read = db.read().await.unwrap();
        for (key, kept) in [("writes-a", true), ("writes-b", false), ("writes-c", false), ("writes-d", true)] {
            let value = state(&mut read, key).await.unwrap();
            assert_eq!(value.is_some(), kept, "{key}: {value:?}");
        }
        drop(read);
        // The connection is clean for the next writer.
        let mut tx = db.write().await.unwrap();
        set_state(&mut tx, "writes-e", "1").await.unwrap();
        tx.commit().await.unwrap();
        let mut read = db.read().await.unwrap();
        assert_eq!(state(&mut read, "writes-e").await.unwrap().as_deref(), Some("1"));
        drop(read);
        db.close().await;
    }

    async fn a_writer_cancelled_while_its_transaction_begins_leaves_none_open(b: Backend) {
        use ccadmin::store::emulator::{set_state, state};
        let app = spawn_app(&b).await;
        let db = ccadmin::open(&app.args.storage).await.unwrap();
        // A first write, so that the write connection is in hand and the next caller's
        // first poll gets as far as sending its first statement.
        let mut tx = db.write().await.unwrap();
        set_state(&mut tx, "begin-0", "1").await.unwrap();
        tx.commit().await.unwrap();
        // Write transactions that run no statement, one dropped and one committed, also
        // leave the connection to the next (on SQLite their `BEGIN` was never sent).
        drop(db.write().await.unwrap());
        db.write().await.unwrap().commit().await.unwrap();
        let mut cancelled_in_begin = 0;
        for i in 1..=20 {
            // Polled once, then dropped: a request whose client went away just as its
            // transaction was beginning. On SQLite a caller's `BEGIN` (or `SAVEPOINT`)
            // goes with its first statement, which the first poll sends to the
            // connection's thread and mostly returns before its answer; the statements
            // still run there. (When the answer was quicker, or on PostgreSQL, the
            // transaction is dropped uncommitted.)
            let cancelled_key = format!("cancelled-{i}");
            let mut begin = Box::pin(async {
                let mut tx = db.write().await?;
                set_state(&mut tx, &cancelled_key, "1").await?;
                Ok::<_, ccadmin::store::StoreError>(tx)
            });
            let first = std::future::poll_fn(|cx| std::task::Poll::Ready(begin.as_mut().poll(cx))).await;
            cancelled_in_begin += usize::from(first.is_pending());
            drop(first);
            drop(begin);
            // That transaction is not left open under the next caller: it begins its
            // own and commits it.
            let key = format!("begin-{i}");
            let mut tx = db.write().await.unwrap_or_else(|e| panic!("round {i}: {e}"));
            set_state(&mut tx, &key, "1").await.unwrap_or_else(|e| panic!("round {i}: {e}"));
            tx.commit().await.unwrap_or_else(|e| panic!("round {i}: {e}"));
            let mut read = db.read().await.unwrap();
            assert_eq!(state(&mut read, &key).await.unwrap().as_deref(), Some("1"), "round {i}");
            // And the cancelled caller's write was rolled back.
            assert_eq!(state(&mut read, &cancelled_key).await.unwrap(), None, "round {i}");
        }
        if matches!(b, crate::helpers::Backend::Sqlite) {
            assert!(cancelled_in_begin > 0, "no round was cancelled while its BEGIN ran");
        }
        db.close().await;
    }
}

/// The WAL's checkpoint sequence number (big-endian, bytes 12..16 of its header): SQLite
/// moves it each time a writer starts the log over, which it does only after a
/// checkpoint copied the whole log into the database.
fn wal_restarts(app: &TestApp) -> u32 {
    let wal = std::fs::read(app.db.data_dir().unwrap().join("ccadmin.db-wal")).unwrap();
    u32::from_be_bytes(wal[12..16].try_into().unwrap())
}

/// The write connection never checkpoints (its commits would wait for it); the server
/// checkpoints the log on a read connection a while after commits. Without that, the
/// log would never start over and would grow with every write for the server's life.
#[tokio::test]
async fn sqlite_checkpoints_the_log_after_commits_so_that_it_starts_over() {
    let app = spawn_app(&crate::helpers::Backend::Sqlite).await;
    let creds = app.demo().await;
    let numbers = available(&app, &creds, 3).await;
    let restarts = wal_restarts(&app);
    for number in &numbers {
        let (status, body) = status_json(
            app.post(NUMBERS, &creds, &json!({ "phoneNumber": number }))
                .await,
        )
        .await;
        assert_eq!(status, 202, "{body}");
        // Past the checkpoint's delay (100 ms): the next commit finds the log copied.
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    assert!(
        wal_restarts(&app) > restarts,
        "the log never started over: nothing checkpointed it"
    );
}

/// Under writes that never pause, every background checkpoint ends behind the writer
/// (commits land while it copies), so the log would never start over by itself and
/// would grow for as long as the writes go on. When a checkpoint finds the log long, the
/// writer copies the rest between two of its transactions, and the log starts over while
/// the writes continue.
#[tokio::test]
async fn sqlite_the_log_starts_over_under_writes_that_never_pause() {
    use ccadmin::store::emulator::set_state;
    let app = spawn_app(&crate::helpers::Backend::Sqlite).await;
    let db = ccadmin::open(&app.args.storage).await.unwrap();
    let restarts = wal_restarts(&app);
    // Four writers keep the queue full; each row fills a page of its own, so the log
    // passes the writer's threshold (1,000 pages) in a few hundred commits.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (db, stop) = (db.clone(), stop.clone());
            tokio::spawn(async move {
                let value = "x".repeat(4000);
                let mut i = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Acquire) {
                    let mut tx = db.write().await.unwrap();
                    set_state(&mut tx, &format!("log-{w}-{i}"), &value)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                    i += 1;
                }
                i
            })
        })
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while wal_restarts(&app) == restarts && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let restarted = wal_restarts(&app) > restarts;
    stop.store(true, std::sync::atomic::Ordering::Release);
    let mut commits = 0;
    for w in writers {
        commits += w.await.unwrap();
    }
    db.close().await;
    assert!(
        restarted,
        "the log never started over in 30 s of writes that never paused ({commits} commits)"
    );
}
