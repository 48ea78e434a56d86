//! Soak: a bounded mixed load on the real binary (a separate process) keeps every answer
//! the expected 2xx and the server's resident memory within 10 % of its level after the
//! first 10 seconds (on SQLite, plus what its page caches may still fill); afterwards
//! every accepted job reaches its end.
//!
//! The load runs 60 s, as in CI; `CCADMIN_SOAK_SECS` changes that for a local run (the
//! warm-up is then a third of it, at most 10 s). The figures (requests per kind,
//! requests per second, RSS, the job queue) are printed: `cargo nextest run soak
//! --no-capture`. To see what grows, attach `heaptrack -p <pid>` after the warm-up: the
//! allocations still live at the end are the growth.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, Creds, TestDb};
use crate::process::{DEMO_CLIENT, ServerProcess, client_credentials};

/// Concurrent clients.
const TASKS: u64 = 12;
const DEFAULT_SECS: u64 = 60;
/// The most the RSS may grow over its level at the end of the warm-up.
const RSS_BOUND: f64 = 1.10;
/// What one SQLite connection's page cache may hold (the default `cache_size`, 2,000
/// KiB). The caches fill as the database grows: `/metrics`, read every 5 s, counts the
/// whole job table, and each read connection's cache grows a step at each read until
/// it is full. That growth is bounded by configuration, not a leak, so it is allowed on
/// top of `RSS_BOUND`. Without the allowance the test failed now and then on SQLite
/// (+10.1 % in CI, +11.6 % locally), its steps lining up with the scrapes.
const SQLITE_CACHE_KIB: f64 = 2000.0;
const ACCOUNTS: &str = "/api/admin/account/v1/accounts";
const NUMBERS: &str = "/api/admin/voice/v1/accounts/ABCDEF/phone-numbers";
const AVAILABLE: &str = "/api/admin/voice/v1/accounts/ABCDEF/available-phone-numbers";
/// The first few errors are kept for the report; all are counted.
const ERRORS_KEPT: usize = 10;

backend_tests! {
    async fn a_minute_of_mixed_load_has_no_errors_and_flat_memory(b: Backend) {
        soak(b).await;
    }
}

/// The load's length and warm-up, from `CCADMIN_SOAK_SECS` (default 60 s).
fn durations() -> (u64, u64) {
    let secs = match std::env::var("CCADMIN_SOAK_SECS") {
        Ok(s) => s
            .parse::<u64>()
            .unwrap_or_else(|_| panic!("CCADMIN_SOAK_SECS={s} is not a number of seconds")),
        Err(_) => DEFAULT_SECS,
    };
    assert!(secs >= 3, "CCADMIN_SOAK_SECS must be at least 3");
    (secs, (secs / 3).min(10))
}

async fn soak(b: Backend) {
    let (secs, warmup) = durations();
    let started = Instant::now();
    let db = TestDb::create(&b).await;
    // Workers on, small delays: every write's job is due within tens of milliseconds.
    let args = [
        "--workers",
        "2",
        "--feature-delay-ms",
        "20",
        "--number-delay-ms",
        "20",
        "--element-delay-ms",
        "10",
        // The request journal (on under --demo) grows until it holds this many entries:
        // small enough to be full within the warm-up, so that what is measured after it
        // is a full journal dropping its oldest entries, whose memory must stay flat.
        "--journal-max-entries",
        "1000",
    ];
    let server = ServerProcess::start(&db, &args).await;
    let pid = server_pid(&server.address);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client");
    let admin = server.admin().await;
    let demo = client_credentials(&http, &server.address, DEMO_CLIENT)
        .await
        .expect("the demo client gets a token");
    let catalogue = inventory(&http, &server.address, &demo).await;
    assert!(catalogue.len() > 5000, "{} numbers", catalogue.len());
    let mut numbers: Vec<String> = catalogue.iter().map(|e| e.number.clone()).collect();
    shuffle(&mut numbers, &mut Rng::new(99));
    let load = Arc::new(Load {
        base: server.address.clone(),
        http,
        admin,
        demo,
        inventory: Mutex::new(numbers),
        catalogue,
        counts: Mutex::new(BTreeMap::new()),
        errors: Mutex::new((0, Vec::new())),
        skipped_adds: AtomicU64::new(0),
    });
    let setup = started.elapsed();

    // The load, and one RSS sample a second beside it.
    let load_start = Instant::now();
    let until = load_start + Duration::from_secs(secs);
    let sampler = std::thread::spawn(move || {
        let mut samples = Vec::new();
        for t in 1..=secs {
            let at = load_start + Duration::from_secs(t);
            if let Some(wait) = at.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            samples.push((t, rss_kib(pid)));
        }
        samples
    });
    let queue = tokio::spawn(sample_queue(load.clone(), load_start, secs));
    let tasks: Vec<_> = (0..TASKS)
        .map(|w| tokio::spawn(run_client(load.clone(), w, until)))
        .collect();
    for t in tasks {
        t.await.expect("a client task ends");
    }
    let load_time = load_start.elapsed();
    let samples = sampler.join().expect("the sampler ends");
    let queue = queue.await.expect("the queue sampler ends");
    let counts = load.counts.lock().unwrap().clone();

    // Every accepted job reaches its end.
    let drain_start = Instant::now();
    let drained = drain(&load).await;
    let drain_time = drain_start.elapsed();

    // The figures.
    let total: u64 = counts.values().sum();
    let (error_count, first_errors) = load.errors.lock().unwrap().clone();
    let rps = total as f64 / load_time.as_secs_f64();
    let baseline = samples
        .iter()
        .find(|(t, _)| *t == warmup)
        .and_then(|(_, kib)| *kib);
    let after: Vec<u64> = samples
        .iter()
        .filter(|(t, _)| *t >= warmup)
        .filter_map(|(_, kib)| *kib)
        .collect();
    let max = after.iter().copied().max();
    let mib = |kib: u64| kib as f64 / 1024.0;
    let backend = match b {
        Backend::Sqlite => "SQLite",
        Backend::Postgres(_) => "PostgreSQL",
    };
    eprintln!(
        "soak on {backend}: {secs} s load ({TASKS} clients) after {:.1} s setup, then {:.1} s drain",
        setup.as_secs_f64(),
        drain_time.as_secs_f64()
    );
    if let Ok(d) = &drained {
        eprintln!(
            "  jobs: {} pending when the load stopped; after the drain {:?}, {} took more than one attempt {:?}",
            d.backlog, d.by_state, d.retried, d.retry_errors
        );
    }
    eprintln!(
        "  {total} requests, {rps:.0} per second, {error_count} errors; {} numbers left to add, {} adds skipped",
        load.inventory.lock().unwrap().len(),
        load.skipped_adds.load(Ordering::Relaxed)
    );
    for (kind, n) in &counts {
        eprintln!("  {kind:<20} {n:>7}");
    }
    let queue: Vec<String> = queue
        .iter()
        .map(|(t, depth, wait)| format!("{t}s:{depth:.0}/{wait:.1}s"))
        .collect();
    eprintln!(
        "  job queue depth/oldest due job's wait {}",
        queue.join(" ")
    );
    let series: Vec<String> = samples
        .iter()
        .filter(|(t, _)| *t == 1 || t % 5 == 0)
        .map(|(t, kib)| match kib {
            Some(k) => format!("{t}s:{:.1}", mib(*k)),
            None => format!("{t}s:-"),
        })
        .collect();
    eprintln!("  RSS MiB {}", series.join(" "));
    if let (Some(base), Some(max)) = (baseline, max) {
        eprintln!(
            "  RSS baseline (t={warmup} s) {:.1} MiB, max over [{warmup} s, {secs} s] {:.1} MiB ({:+.1} %)",
            mib(base),
            mib(max),
            (max as f64 / base as f64 - 1.0) * 100.0
        );
    }
    for e in &first_errors {
        eprintln!("  error: {e}");
    }

    assert_eq!(
        error_count, 0,
        "{error_count} requests failed; the first: {first_errors:#?}"
    );
    assert!(
        samples.iter().all(|(_, kib)| kib.is_some()),
        "the server process went away during the load: {samples:?}"
    );
    let (baseline, max) = (baseline.unwrap(), max.unwrap());
    // The server's SQLite connections: the writer and up to two readers a core.
    let caches = match b {
        Backend::Sqlite => {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            (1 + 2 * cores) as f64 * SQLITE_CACHE_KIB
        }
        Backend::Postgres(_) => 0.0,
    };
    assert!(
        max as f64 <= baseline as f64 * RSS_BOUND + caches,
        "RSS grew from {baseline} KiB at {warmup} s to {max} KiB (allowed: 10 % and \
         {caches} KiB of page caches): {samples:?}"
    );
    if let Err(unfinished) = drained {
        panic!("jobs unfinished {drain_time:?} after the load: {unfinished}");
    }
    assert_eq!(server.terminate(Duration::from_secs(30)), Some(0));
}

/// What the clients share.
struct Load {
    base: String,
    http: reqwest::Client,
    admin: Creds,
    demo: Creds,
    /// Inventory numbers not added yet: each is added once.
    inventory: Mutex<Vec<String>>,
    /// The whole demo inventory, for searches.
    catalogue: Vec<Entry>,
    /// Expected answers, by kind of request.
    counts: Mutex<BTreeMap<&'static str, u64>>,
    /// Every other answer: how many, and the first few.
    errors: Mutex<(u64, Vec<String>)>,
    /// Adds not made because every inventory number had been added (a search instead).
    skipped_adds: AtomicU64,
}

/// An inventory number with its country and type.
struct Entry {
    number: String,
    country: String,
    kind: String,
}

/// An account a client created, with what it has put in it.
struct Created {
    id: String,
    name: String,
    domain: String,
    nodes: Vec<String>,
    element: bool,
    all_features: bool,
}

impl Load {
    fn error(&self, e: String) {
        let mut errors = self.errors.lock().unwrap();
        errors.0 += 1;
        if errors.1.len() < ERRORS_KEPT {
            errors.1.push(e);
        }
    }

    fn ok(&self, kind: &'static str) {
        *self.counts.lock().unwrap().entry(kind).or_default() += 1;
    }

    /// Sends a request; its JSON body (`Null` if empty) when the status is `expected`,
    /// else records an error.
    async fn call(
        &self,
        kind: &'static str,
        method: Method,
        path: &str,
        creds: &Creds,
        body: Option<&Value>,
        expected: u16,
    ) -> Option<Value> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&creds.token)
            .header("appkey", &creds.appkey);
        if let Some(b) = body {
            req = req.json(b);
        }
        let answer = match req.send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                res.text().await.map(|text| (status, text))
            }
            Err(e) => Err(e),
        };
        let (status, text) = match answer {
            Ok(a) => a,
            Err(e) => {
                self.error(format!("{kind}: {method} {path}: {e}"));
                return None;
            }
        };
        if status != expected {
            let text: String = text.chars().take(300).collect();
            self.error(format!(
                "{kind}: {method} {path}: {status} (expected {expected}): {text}"
            ));
            return None;
        }
        let body = if text.is_empty() {
            Value::Null
        } else {
            match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => {
                    self.error(format!("{kind}: {method} {path}: not JSON ({e})"));
                    return None;
                }
            }
        };
        self.ok(kind);
        Some(body)
    }

    async fn get(&self, kind: &'static str, path: &str, creds: &Creds) -> Option<Value> {
        self.call(kind, Method::GET, path, creds, None, 200).await
    }
}

/// One client: a weighted random mix of reads and writes until `until`.
async fn run_client(load: Arc<Load>, w: u64, until: Instant) {
    let mut rng = Rng::new(w);
    let mut demo = load.demo.clone();
    let admin = load.admin.clone();
    // Numbers this client added and has not released: (id, number).
    let mut held: VecDeque<(String, String)> = VecDeque::new();
    let mut created: Vec<Created> = Vec::new();
    let mut seq = 0u64;
    while Instant::now() < until {
        seq += 1;
        let roll = rng.below(100);
        match roll {
            0..=12 => {
                load.get("account get", &format!("{ACCOUNTS}/ABCDEF"), &demo)
                    .await;
            }
            13..=26 => {
                let queries = [
                    String::new(),
                    format!("pageSize=50&pageNumber={}", 1 + rng.below(4)),
                    "filter=type:TOLLFREE".to_owned(),
                    "filter=countryCode:US,type:LOCAL&pageSize=20".to_owned(),
                    "filter=status:ACTIVE&orderBy=displayName%20desc".to_owned(),
                    format!("filter=displayName:soak {w}*&pageSize=10"),
                    "filter=phoneNumber:%2B1212*&orderBy=type".to_owned(),
                    format!("filter=status:INACTIVE&pageNumber={}", 1 + rng.below(3)),
                ];
                let q = &queries[rng.below(queries.len() as u64) as usize];
                load.get("numbers list", &format!("{NUMBERS}?{q}"), &demo)
                    .await;
            }
            27..=38 => available(&load, &mut rng, &demo).await,
            39..=48 => {
                let next = load.inventory.lock().unwrap().pop();
                let Some(number) = next else {
                    load.skipped_adds.fetch_add(1, Ordering::Relaxed);
                    available(&load, &mut rng, &demo).await;
                    continue;
                };
                let body = json!({"phoneNumber": number, "displayName": format!("Soak {w} {seq}")});
                let added = load
                    .call("number add", Method::POST, NUMBERS, &demo, Some(&body), 202)
                    .await;
                if let Some(id) = added.as_ref().and_then(|a| a["phoneNumberId"].as_str()) {
                    held.push_back((id.to_owned(), number));
                }
            }
            49..=53 => {
                // Release the oldest, keeping a few to read.
                if held.len() > 4 {
                    let (id, _) = held.pop_front().unwrap();
                    load.call(
                        "number release",
                        Method::DELETE,
                        &format!("{NUMBERS}/{id}"),
                        &demo,
                        None,
                        204,
                    )
                    .await;
                } else {
                    load.get("account get", &format!("{ACCOUNTS}/ABCDEF"), &demo)
                        .await;
                }
            }
            54..=59 => {
                let Some((id, _)) = pick(&held, &mut rng) else {
                    continue;
                };
                let path = format!("{NUMBERS}/{id}");
                if roll < 57 {
                    load.get("number get", &path, &demo).await;
                } else {
                    let body = json!({"displayName": format!("Soak {w} {seq} renamed"),
                        "isCallingPartyNumber": seq.is_multiple_of(2)});
                    load.call("number put", Method::PUT, &path, &demo, Some(&body), 202)
                        .await;
                }
            }
            60..=62 => {
                let ids: Vec<&str> = held.iter().take(20).map(|(id, _)| id.as_str()).collect();
                let op = if roll == 62 { ":validate" } else { ":list" };
                load.call(
                    "numbers batch",
                    Method::POST,
                    &format!("{NUMBERS}{op}"),
                    &demo,
                    Some(&json!(ids)),
                    200,
                )
                .await;
            }
            63..=65 => create_account(&load, &admin, w, seq, &mut created).await,
            66..=69 => {
                if created.is_empty() {
                    create_account(&load, &admin, w, seq, &mut created).await;
                    continue;
                }
                let i = rng.below(created.len() as u64) as usize;
                let acc = &mut created[i];
                // Under the account, or under its first node.
                let parent = match acc.nodes.first() {
                    Some(first) if seq.is_multiple_of(2) => format!("{}/{first}", acc.name),
                    _ => acc.name.clone(),
                };
                let name = format!("Node {w} {seq}");
                let body = json!({"name": name, "parentPath": parent, "countryCode": "US"});
                let path = format!("{ACCOUNTS}/{}/organization-nodes", acc.id);
                if load
                    .call("node create", Method::POST, &path, &admin, Some(&body), 202)
                    .await
                    .is_some()
                {
                    acc.nodes.push(name);
                }
            }
            70..=71 => {
                let Some(acc) = created.iter_mut().find(|a| !a.element) else {
                    load.get("account get", &format!("{ACCOUNTS}/ABCDEF"), &demo)
                        .await;
                    continue;
                };
                let body = json!({"name": format!("Soak ACO {w} {seq}"), "environment": "Production",
                    "description": "Soak element"});
                let path = format!("/api/admin/voice/v1/accounts/{}/aco-elements", acc.id);
                if load
                    .call(
                        "element create",
                        Method::POST,
                        &path,
                        &admin,
                        Some(&body),
                        202,
                    )
                    .await
                    .is_some()
                {
                    acc.element = true;
                }
                let path = format!("/api/admin/voice/v1/accounts/{}/elements", acc.id);
                load.get("elements list", &path, &admin).await;
            }
            72..=74 => {
                if created.is_empty() {
                    create_account(&load, &admin, w, seq, &mut created).await;
                    continue;
                }
                let i = rng.below(created.len() as u64) as usize;
                let acc = &mut created[i];
                acc.all_features = !acc.all_features;
                let features = if acc.all_features {
                    json!({"voice": {}, "chat": {}, "email": {}})
                } else {
                    json!({"voice": {}})
                };
                let body = json!({"name": acc.name, "domains": [{"domainName": acc.domain}],
                    "accountSize": 5, "features": features});
                let path = format!("{ACCOUNTS}/{}", acc.id);
                load.call("account put", Method::PUT, &path, &admin, Some(&body), 202)
                    .await;
            }
            75..=78 => {
                if created.is_empty() {
                    load.get("account get", &format!("{ACCOUNTS}/AQWSDE"), &admin)
                        .await;
                    continue;
                }
                let ids: Vec<&str> = created
                    .iter()
                    .rev()
                    .take(10)
                    .map(|a| a.id.as_str())
                    .collect();
                let body = json!({"accountIds": ids});
                load.call(
                    "account statuses",
                    Method::POST,
                    &format!("{ACCOUNTS}:listStatuses"),
                    &admin,
                    Some(&body),
                    200,
                )
                .await;
            }
            79..=82 => {
                // A fresh token, used from now on.
                match client_credentials(&load.http, &load.base, DEMO_CLIENT).await {
                    Ok(fresh) => {
                        load.ok("token grant");
                        demo = fresh;
                    }
                    Err(e) => load.error(format!("token grant: {e}")),
                }
            }
            83..=85 => {
                let body = json!({"startDate": "2000-01-01T00:00:00Z", "endDate": "2999-01-01T00:00:00Z",
                    "type": "ACCOUNT"});
                let path = format!("{ACCOUNTS}/ABCDEF/audit-records:search?pageSize=10");
                load.call("audit search", Method::POST, &path, &demo, Some(&body), 200)
                    .await;
            }
            86..=90 => {
                let q = format!(
                    "filter=name:Soak*&pageSize={}&pageNumber={}",
                    5 + rng.below(46),
                    1 + rng.below(3)
                );
                load.get("accounts list", &format!("{ACCOUNTS}?{q}"), &admin)
                    .await;
            }
            91..=95 => {
                let Some(acc) = pick(&created, &mut rng) else {
                    continue;
                };
                let path = format!(
                    "{ACCOUNTS}/{}/organization-nodes?pageSize=10&children=true",
                    acc.id
                );
                load.get("nodes list", &path, &admin).await;
            }
            _ => {
                let kind = if roll.is_multiple_of(2) {
                    "LOCAL"
                } else {
                    "TOLLFREE"
                };
                let path = format!("/api/admin/voice/v1/accounts/ABCDEF/countries?type={kind}");
                load.get("countries", &path, &demo).await;
            }
        }
    }
}

/// The job queue's depth and its oldest due job's wait, from `/metrics`, every 5 s of
/// the load (for the report only).
async fn sample_queue(load: Arc<Load>, start: Instant, secs: u64) -> Vec<(u64, f64, f64)> {
    let mut out = Vec::new();
    for t in (5..=secs).step_by(5) {
        tokio::time::sleep_until((start + Duration::from_secs(t)).into()).await;
        let Ok(res) = load.http.get(format!("{}/metrics", load.base)).send().await else {
            continue;
        };
        let text = res.text().await.unwrap_or_default();
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
        };
        if let (Some(depth), Some(wait)) = (
            value("ccadmin_job_queue_depth"),
            value("ccadmin_job_oldest_due_seconds"),
        ) {
            out.push((t, depth, wait));
        }
    }
    out
}

/// An available-number search: a country and type's pages, or a fragment of a number.
async fn available(load: &Load, rng: &mut Rng, demo: &Creds) {
    let e = &load.catalogue[rng.below(load.catalogue.len() as u64) as usize];
    let group = format!("countryCode={}&type={}", e.country, e.kind);
    let q = match rng.below(3) {
        0 => format!("{group}&pageSize=20&pageNumber={}", 1 + rng.below(3)),
        // The last four digits: a suffix search.
        1 => format!("{group}&phoneNumber={}", &e.number[e.number.len() - 4..]),
        // The first six characters: a prefix search.
        _ => {
            let prefix = e.number.get(1..6).unwrap_or(&e.number[1..]);
            format!("{group}&phoneNumber=%2B{prefix}&pageSize=50")
        }
    };
    load.get("available search", &format!("{AVAILABLE}?{q}"), demo)
        .await;
}

async fn create_account(load: &Load, admin: &Creds, w: u64, seq: u64, created: &mut Vec<Created>) {
    let name = format!("Soak {w} {seq}");
    let domain = format!("soak{w}x{seq}.example.com");
    let body = json!({"name": name, "domains": [{"domainName": domain}], "accountSize": 5,
        "features": {"voice": {}, "chat": {}}});
    let answer = load
        .call(
            "account create",
            Method::POST,
            ACCOUNTS,
            admin,
            Some(&body),
            202,
        )
        .await;
    if let Some(id) = answer.as_ref().and_then(|a| a["accountId"].as_str()) {
        created.push(Created {
            id: id.to_owned(),
            name,
            domain,
            nodes: Vec::new(),
            element: false,
            all_features: false,
        });
    }
}

fn pick<'a, T>(items: impl IntoIterator<Item = &'a T>, rng: &mut Rng) -> Option<&'a T>
where
    T: 'a,
{
    let items: Vec<&T> = items.into_iter().collect();
    if items.is_empty() {
        None
    } else {
        Some(items[rng.below(items.len() as u64) as usize])
    }
}

/// Every number of the demo inventory, through the available-number search.
async fn inventory(http: &reqwest::Client, base: &str, demo: &Creds) -> Vec<Entry> {
    let get = |path: String| async move {
        let res = http
            .get(format!("{base}{path}"))
            .bearer_auth(&demo.token)
            .header("appkey", &demo.appkey)
            .send()
            .await
            .expect("the request is sent");
        assert_eq!(res.status(), 200, "{path}");
        res.json::<Value>().await.expect("a JSON body")
    };
    let mut out = Vec::new();
    for kind in ["LOCAL", "TOLLFREE"] {
        let countries = get(format!(
            "/api/admin/voice/v1/accounts/ABCDEF/countries?type={kind}"
        ))
        .await;
        for country in countries.as_array().expect("a list of countries") {
            let country = country.as_str().expect("a country code");
            let mut next = format!("{AVAILABLE}?countryCode={country}&type={kind}&pageSize=50");
            while !next.is_empty() {
                let page = get(next).await;
                for n in page["phoneNumbers"].as_array().expect("numbers") {
                    out.push(Entry {
                        number: n["phoneNumber"].as_str().expect("a number").to_owned(),
                        country: country.to_owned(),
                        kind: kind.to_owned(),
                    });
                }
                next = page["links"]["next"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
            }
        }
    }
    out
}

/// What the jobs looked like after the load.
struct Drained {
    /// Jobs pending when the load stopped.
    backlog: usize,
    /// Every job by state, after the drain.
    by_state: BTreeMap<String, usize>,
    /// Jobs that took more than one attempt, and a few of their last errors.
    retried: usize,
    retry_errors: Vec<String>,
}

/// Waits until no job is pending or running, then checks that none failed and that
/// every number the demo account holds is settled. `Err` says what is left.
async fn drain(load: &Load) -> Result<Drained, String> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let jobs = |query: String| async move {
        let path = format!("/_ccadmin/jobs?{query}");
        let body = load.get("drain", &path, &load.admin).await;
        body.and_then(|b| b["jobs"].as_array().cloned())
            .ok_or_else(|| format!("GET {path} failed"))
    };
    let backlog = jobs("state=pending&limit=10000".to_owned()).await?.len();
    loop {
        let pending = jobs("state=pending&limit=1".to_owned()).await?;
        let running = jobs("state=running&limit=1".to_owned()).await?;
        if pending.is_empty() && running.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("pending: {pending:?}, running: {running:?}"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let failed = jobs("state=failed&limit=10".to_owned()).await?;
    if !failed.is_empty() {
        return Err(format!("failed jobs: {failed:?}"));
    }
    let path = format!("{NUMBERS}?filter=status:INPROGRESS");
    let page = load
        .get("drain", &path, &load.demo)
        .await
        .ok_or("listing INPROGRESS numbers failed")?;
    if page["pagination"]["total"] != 0 {
        return Err(format!("numbers still INPROGRESS: {page}"));
    }
    let all = jobs("limit=10000".to_owned()).await?;
    let mut by_state = BTreeMap::new();
    let (mut retried, mut retry_errors) = (0, Vec::new());
    for j in &all {
        *by_state
            .entry(j["state"].as_str().unwrap_or("?").to_owned())
            .or_default() += 1;
        if j["attempts"].as_i64().unwrap_or(0) > 1 {
            retried += 1;
            if retry_errors.len() < 3 {
                retry_errors.push(format!(
                    "{} {}: {}",
                    j["kind"], j["attempts"], j["lastError"]
                ));
            }
        }
    }
    Ok(Drained {
        backlog,
        by_state,
        retried,
        retry_errors,
    })
}

/// The pid of the `ccadmin serve` child of this process listening at `address`.
fn server_pid(address: &str) -> u32 {
    let listen = address.trim_start_matches("http://").as_bytes();
    let me = std::process::id();
    for entry in std::fs::read_dir("/proc")
        .expect("/proc is readable")
        .flatten()
    {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let ours = args
            .windows(2)
            .any(|a| a[0] == b"--listen" && a[1] == listen);
        if ours && parent_of(pid) == Some(me) {
            return pid;
        }
    }
    panic!("no ccadmin child process listens at {address}");
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// The process's resident set size (`VmRSS`), KiB; `None` once it is gone.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// xorshift64*: a small deterministic generator, one per client.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng((seed + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}
