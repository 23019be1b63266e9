//! Wide lab-table reader (placeholder, being written).
