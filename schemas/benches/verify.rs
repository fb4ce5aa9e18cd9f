//! Placeholder until the verification benchmark lands.
fn main() {}
