//! Placeholder: the mpi adapter is being written.
