//! Stage 8, the inbox: support threads with shoppers, inbound mail, the intent classifier and
//! the automatic replies and proposed actions it allows.

pub mod intent;
