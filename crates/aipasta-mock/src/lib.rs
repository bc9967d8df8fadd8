//! Mock upstream servers that speak the providers' real wire formats, for tests, benchmarks and
//! demos. The generation engine and accounts issues fill this crate (providers, OAuth/OIDC).
