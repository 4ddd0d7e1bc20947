//! Unit tests for the browser model.
