//! Command line and environment: what to serve, where the data lives.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::store::{Durability, Location};

/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The default data directory.
pub const DEFAULT_DATA_DIR: &str = "./ccadmin-data";

/// ccadmin: the Avaya Experience Platform administration APIs, self-hosted.
#[derive(Debug, Parser)]
#[command(name = "ccadmin", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log format.
    #[arg(long, env = "CCADMIN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(StorageArgs),
    /// Manage accounts directly in the database.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Manage clients directly in the database.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage the number inventory.
    #[command(subcommand)]
    Inventory(InventoryCommand),
    /// Export or import the whole state as a snapshot (docs/state.md).
    #[command(subcommand)]
    State(StateCommand),
    /// Write a consistent copy of the SQLite database to FILE while the server runs
    /// (PostgreSQL: use pg_dump, see docs/operations.md).
    Backup {
        #[command(flatten)]
        storage: StorageArgs,
        /// Where to write the copy; must not exist yet.
        file: PathBuf,
    },
}

/// `ccadmin state ...`.
#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// Write a snapshot of everything to FILE (written to a temporary name, then
    /// renamed).
    Export {
        #[command(flatten)]
        storage: StorageArgs,
        /// The snapshot file to write.
        file: PathBuf,
        /// Leave the number inventory out (the held numbers' entries stay in).
        #[arg(long)]
        no_inventory: bool,
    },
    /// Replace everything in the database with the snapshot in FILE, in one
    /// transaction (migrations are applied first). A server on the same database
    /// picks the import up within a second.
    Import {
        #[command(flatten)]
        storage: StorageArgs,
        /// The snapshot file to load.
        file: PathBuf,
    },
}

/// `ccadmin inventory ...`.
#[derive(Debug, Subcommand)]
pub enum InventoryCommand {
    /// Import numbers from a CSV file with the header
    /// `phoneNumber,countryCode,type,areaCode,documentationRequired` (areaCode may be
    /// empty: the NANP area code is then taken from the number). Invalid rows are
    /// reported by line and skipped; on a fatal error nothing is imported.
    Import {
        #[command(flatten)]
        storage: StorageArgs,
        /// The CSV file.
        file: PathBuf,
        /// Skip the numbering-plan check of each number (for data already checked).
        #[arg(long)]
        no_plan_check: bool,
    },
}

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Directory of the embedded SQLite database (and the generated admin credentials).
    #[arg(long, env = "CCADMIN_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// `postgres://...` to use PostgreSQL instead of the embedded SQLite database.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// SQLite durability: `normal` survives a process crash, `full` also power loss.
    #[arg(long, env = "CCADMIN_DURABILITY", value_enum, default_value_t = Durability::Normal)]
    pub durability: Durability,
    /// Maximum database connections in the pool.
    #[arg(long, env = "CCADMIN_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,
    /// How long a request waits for a free database connection while all are in use,
    /// in milliseconds; past it the request gets 503. A busy pool is not an outage:
    /// this is long enough for a burst of writes to queue.
    #[arg(long, env = "CCADMIN_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 5_000)]
    pub db_acquire_timeout_ms: u64,
}

impl Default for StorageArgs {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            database_url: None,
            durability: Durability::Normal,
            db_max_connections: 16,
            db_acquire_timeout_ms: 5_000,
        }
    }
}

impl StorageArgs {
    /// The database the arguments select: PostgreSQL for a `postgres://` URL, else an
    /// SQLite file (`sqlite://PATH`, or `ccadmin.db` in the data directory).
    pub fn location(&self) -> anyhow::Result<Location> {
        match self.database_url.as_deref() {
            None | Some("") => Ok(Location::Sqlite(self.data_dir.join("ccadmin.db"))),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Location::Postgres(url.to_owned()))
            }
            Some(url) => match url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
            {
                Some(path) => Ok(Location::Sqlite(PathBuf::from(path))),
                None => anyhow::bail!(
                    "DATABASE_URL must start with postgres://, postgresql:// or sqlite://"
                ),
            },
        }
    }
}

/// The bootstrap Administrator, from the environment when the operator sets it.
#[derive(Debug, Clone, Default, Args)]
pub struct AdminArgs {
    /// Id of the default (platform) account, six letters; generated if unset.
    #[arg(long, env = "CCADMIN_ADMIN_ACCOUNT_ID")]
    pub admin_account_id: Option<String>,
    /// Client id of the bootstrap Administrator.
    #[arg(long, env = "CCADMIN_ADMIN_CLIENT_ID")]
    pub admin_client_id: Option<String>,
    /// Client secret of the bootstrap Administrator.
    #[arg(long, env = "CCADMIN_ADMIN_CLIENT_SECRET", hide_env_values = true)]
    pub admin_client_secret: Option<String>,
    /// Appkey of the bootstrap Administrator.
    #[arg(long, env = "CCADMIN_ADMIN_APPKEY", hide_env_values = true)]
    pub admin_appkey: Option<String>,
}

/// `ccadmin serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub storage: StorageArgs,
    #[command(flatten)]
    pub admin: AdminArgs,
    /// Address to listen on.
    #[arg(long, env = "CCADMIN_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Seed the demo accounts and credentials (idempotent) and print a quick start.
    #[arg(long, env = "CCADMIN_DEMO", conflicts_with = "state")]
    pub demo: bool,
    /// Load this snapshot (docs/state.md) at start, into an empty database (instead
    /// of the demo data).
    #[arg(long, env = "CCADMIN_STATE")]
    pub state: Option<PathBuf>,
    /// With --state: replace the data of a database that has some.
    #[arg(long, env = "CCADMIN_STATE_REPLACE", requires = "state")]
    pub state_replace: bool,
    /// Once the server accepts connections, write `HOST:PORT` and a newline to this
    /// file (through a temporary name and a rename): with `--listen 127.0.0.1:0`, how a
    /// test harness learns the port.
    #[arg(long, env = "CCADMIN_PORT_FILE")]
    pub port_file: Option<PathBuf>,
    /// Lifetime of access tokens, in seconds.
    #[arg(long, env = "CCADMIN_ACCESS_TOKEN_TTL", default_value_t = 900)]
    pub access_token_ttl: u64,
    /// Lifetime of refresh tokens, in seconds.
    #[arg(long, env = "CCADMIN_REFRESH_TOKEN_TTL", default_value_t = 86_400)]
    pub refresh_token_ttl: u64,
    /// How long an instance trusts what it read about a client, in milliseconds: the
    /// bound within which a revocation takes effect everywhere. Also the longest a
    /// single-resource GET body is kept (writes replace it sooner).
    #[arg(long, env = "CCADMIN_CLIENT_CACHE_TTL_MS", default_value_t = 2_000)]
    pub client_cache_ttl_ms: u64,
    /// Emulator mode (implied by --demo): honour `Prefer` headers and serve the
    /// `/_ccadmin` lifecycle controls. Never in production.
    #[arg(long, env = "CCADMIN_EMULATOR")]
    pub emulator: bool,
    /// Job workers in this process (0: jobs only run through the emulator controls).
    #[arg(long, env = "CCADMIN_WORKERS", default_value_t = 2)]
    pub workers: usize,
    /// How long a worker's claim on a job lasts, in milliseconds of real time; a job
    /// whose worker died is picked up again after this.
    #[arg(long, env = "CCADMIN_JOB_LEASE_MS", default_value_t = 10_000)]
    pub job_lease_ms: u64,
    /// Attempts before a transiently failing job fails for good.
    #[arg(long, env = "CCADMIN_JOB_MAX_ATTEMPTS", default_value_t = 5)]
    pub job_max_attempts: i32,
    /// Simulated time an account feature change or rename takes, in milliseconds.
    #[arg(long, env = "CCADMIN_FEATURE_DELAY_MS", default_value_t = 200)]
    pub feature_delay_ms: i64,
    /// Simulated time an element write takes, in milliseconds; 0 (the seed's
    /// behaviour) finishes it within the request, so the 202 already shows SUCCESS.
    #[arg(long, env = "CCADMIN_ELEMENT_DELAY_MS", default_value_t = 0)]
    pub element_delay_ms: i64,
    /// Simulated time a phone number's activation takes, in milliseconds.
    #[arg(long, env = "CCADMIN_NUMBER_DELAY_MS", default_value_t = 200)]
    pub number_delay_ms: i64,
    /// A bearer token that `GET /metrics` then requires (unset: served to anyone, like
    /// `/healthz`).
    #[arg(long, env = "CCADMIN_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Emulator mode: how many requests the request journal (`/_ccadmin/requests`)
    /// keeps, the oldest dropped first; 0 turns recording off.
    #[arg(long, env = "CCADMIN_JOURNAL_MAX_ENTRIES", default_value_t = 10_000)]
    pub journal_max_entries: usize,
    /// Emulator mode: about how many bytes of memory the request journal may take,
    /// the oldest entries dropped first; 0 turns recording off.
    #[arg(long, env = "CCADMIN_JOURNAL_MAX_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub journal_max_bytes: usize,
    /// How long to keep trying to reach PostgreSQL at start, in seconds, before giving
    /// up; meanwhile `/readyz` answers 503 and the API 503 with `Retry-After`.
    #[arg(long, env = "CCADMIN_DB_CONNECT_TIMEOUT", default_value_t = 60)]
    pub db_connect_timeout: u64,
}

impl ServeArgs {
    /// True when `Prefer` and the emulator controls are served.
    pub fn emulator_mode(&self) -> bool {
        self.emulator || self.demo
    }
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            storage: StorageArgs::default(),
            admin: AdminArgs::default(),
            listen: DEFAULT_LISTEN
                .parse()
                .expect("the default listen address is valid"),
            demo: false,
            state: None,
            state_replace: false,
            port_file: None,
            access_token_ttl: 900,
            refresh_token_ttl: 86_400,
            client_cache_ttl_ms: 2_000,
            emulator: false,
            workers: 2,
            job_lease_ms: 10_000,
            job_max_attempts: 5,
            feature_delay_ms: 200,
            element_delay_ms: 0,
            number_delay_ms: 200,
            metrics_token: None,
            journal_max_entries: 10_000,
            journal_max_bytes: 16 * 1024 * 1024,
            db_connect_timeout: 60,
        }
    }
}

/// `ccadmin account ...`.
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account and print it as JSON.
    Create {
        #[command(flatten)]
        storage: StorageArgs,
        /// Account name, unique on the platform.
        #[arg(long)]
        name: String,
        /// Domain names; the first is the default.
        #[arg(long = "domain", required = true)]
        domains: Vec<String>,
        /// Maximum number of users.
        #[arg(long, default_value_t = 10)]
        account_size: i64,
        /// ISO country code.
        #[arg(long)]
        country_code: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
}

/// `ccadmin client ...`.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Create a client and print its credentials as JSON (the secret only this once).
    Create {
        #[command(flatten)]
        storage: StorageArgs,
        /// The account the client belongs to.
        #[arg(long)]
        account: String,
        /// Roles: `Account Administrator`, or `Administrator` in the default account.
        #[arg(long = "role", default_value = "Account Administrator")]
        roles: Vec<String>,
        /// Features the client may change; `*` for all.
        #[arg(long = "feature", default_value = "*")]
        features: Vec<String>,
    },
}
