//! Integration tests of the domain: check-character validators and the case
//! workflow.

mod categories;
mod validators;
mod workflow;
