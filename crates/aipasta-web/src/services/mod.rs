//! Work the pages, the API and the command line share, beyond one request: domain services that
//! need both the providers and the store.

pub mod background_sync;
pub mod model_sync;
