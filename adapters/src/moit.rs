//! Placeholder: the moit adapter is being written.
