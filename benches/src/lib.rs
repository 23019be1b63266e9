//! Criterion benchmarks for Tandem live in .
