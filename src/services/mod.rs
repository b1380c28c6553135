//! What the HTTP layer asks for beyond storage: passwords, signing keys and the server secret,
//! rate limits, session purge, strict sessions, deleted accounts, in-flight caps, token minting.

pub mod deleted;
pub mod inflight;
pub mod keys;
pub mod limits;
pub mod password;
pub mod purge;
pub mod secret;
pub mod strict;
pub mod token;
