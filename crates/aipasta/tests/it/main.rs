//! Integration tests: one test binary, each test starting the app on a random port with a fresh
//! database (see `helpers`). Storage-facing tests run once per backend in `helpers::backends()`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test should panic loudly

mod access;
mod accounts;
mod browser;
mod browser_dashboard;
mod browser_dashboard_history;
mod browser_images;
mod browser_playground;
mod browser_playground_modes;
mod catalog;
mod catalog_sync;
mod config;
mod crash;
mod dashboard_api;
mod dashboard_history;
mod dashboard_pages;
mod durability;
mod forgery;
mod generation;
mod helpers;
mod http;
mod images;
mod invalidation;
mod markdown;
mod oauth;
mod page_errors;
mod pages;
mod playground;
mod playground_modes;
mod playground_runs;
mod providers;
mod redirects;
mod sampling;
mod serving;
mod startup_sync;
mod upstream_faults;
mod v1;
mod webdriver;
mod workers;
