//! The handlers of the route table (`route.rs`), one file per resource. A handler reads the
//! request, calls one use case of the application and shapes its answer; who may call it
//! is the route table's to say, and what the caller may touch is the use case's.

pub mod appointments;
pub mod births;
pub mod cases;
pub mod feedback;
pub mod parents;
pub mod public;
pub mod supervision;
pub mod tasks;
