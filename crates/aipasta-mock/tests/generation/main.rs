//! The generation routes as a provider client sees them: answer and stream shapes per
//! provider, every scripted outcome, the script queue, recorded bodies, the Hugging Face tasks,
//! and (when `/work/shared/fixtures` exists) the shapes checked against the providers' own
//! specs and recordings.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cassettes;
mod hf;
mod openai;
mod openrouter;
mod outcomes;
mod support;
