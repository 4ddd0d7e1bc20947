//! HAR import and the strict scenario JSON, through the real binary: `explain` on files in
//! the shapes real tools export, and `fixtures new --from-har`.

mod chromium;
mod explain;
mod fixtures;
