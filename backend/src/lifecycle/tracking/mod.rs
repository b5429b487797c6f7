//! Tracking: carrier events in, one status vocabulary out; the parcel and the order follow.

pub mod normalize;
