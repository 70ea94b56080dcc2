//! The domain: pure data and rules, no I/O. Every function here takes `now` and ids as inputs.

pub mod assignment;
pub mod attachment;
pub mod audit;
pub mod comment;
pub mod delivery;
pub mod email;
pub mod event;
pub mod login;
pub mod matching;
pub mod notification;
pub mod priority;
pub mod report;
pub mod scope;
pub mod session;
pub mod sla;
pub mod task;
pub mod ticket;
pub mod ticket_number;
pub mod user;
pub mod validation;
pub mod visibility;
pub mod workflow;
