//! Deterministic simulation of profiles (placeholder, being written).
