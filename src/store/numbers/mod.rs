//! Phone numbers: the numbers accounts hold and the inventory they come from.
//!
//! - `add`: adding a number, its hold, journal entry and job, in two statements.
//! - `activation`: ending the activations of a batch of jobs in one read and one write.
//! - `held`: `phone_number`, an account's numbers (add, read, settings, statuses,
//!   delete).
//! - `pages`: the pages of an account's numbers, read from one index each.
//! - `inventory`: `number_inventory` and its documentation rules; holding and releasing
//!   one number, which moves its search rows and counts in the same transaction.
//! - `import`: loading many entries at once, then recounting and rebuilding the search
//!   rows (`search_rows` derives them in the process).
//! - `search`: the available-number search, one strategy per shape of fragment.

mod activation;
mod add;
mod held;
mod import;
mod inventory;
mod pages;
mod search;
mod search_rows;

pub use activation::{ActivationEnd, activation_targets, end_activations};
pub use add::{ActivationTarget, AddLookup, activation_target, add, add_lookup, end_activation};
pub use held::{
    delete, find_by_ids, find_by_numbers, finish_activation, get, get_by_number, insert,
    replace_settings, status_before_disable, transition,
};
pub use import::{InventoryLoad, recount_available, reindex_available};
pub use inventory::{
    countries, delete_inventory, documentation_rule, index_available, insert_inventory,
    inventory_entry, release, release_all, set_documentation_rule,
};
pub use pages::{NumberField, NumberQuery, list};
pub use search::{AvailableQuery, INDEXED_FRAGMENT_MIN, search_available};
