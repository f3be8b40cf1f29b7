//! What every handler uses: problem+json errors ([`problem`]), the caller and query extractors
//! ([`extract`]), JSON bodies with their limits ([`json`]) and the client's address behind a
//! proxy ([`client`]).

pub mod client;
pub mod extract;
pub mod json;
pub mod problem;
