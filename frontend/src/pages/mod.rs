pub mod dashboard;
pub mod login;
pub mod orders;
pub mod review;
