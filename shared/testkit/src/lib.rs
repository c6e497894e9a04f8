//! What the tests share (a dev-dependency only).
//!
//! - [`family`]: the synthetic families of the sample registry, as application forms.
//! - [`http`]: a JSON client for the API under test (feature `http`).
//! - [`serve`]: start the real `onething serve` binary and read its URL; stopped on drop.
//! - [`tokens`]: sign a token as `serve` expects (feature `tokens`).
//! - [`tools`]: the workspace root and the Python tools' virtualenv.
//! - [`moto`]: a moto server (AWS emulator) on a free port.

pub mod family;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "moto")]
pub mod moto;
pub mod serve;
#[cfg(feature = "tokens")]
pub mod tokens;
pub mod tools;
