//! Placeholder: the moj adapter is being written.
