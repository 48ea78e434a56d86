//! The server's clock. Token expiry and every stored timestamp read it, so that the
//! emulator can later move time without touching those call sites.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Wall-clock time plus an offset (zero unless the emulator advances it).
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// Milliseconds since the Unix epoch, as this server sees them.
    pub fn now_ms(&self) -> i64 {
        crate::domain::time::now_ms() + self.offset_ms.load(Ordering::Relaxed)
    }
}
