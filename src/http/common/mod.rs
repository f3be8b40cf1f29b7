//! What every handler uses: problem+json errors ([`problem`]), the caller and query extractors
//! ([`extract`]), and JSON bodies with their limits ([`json`]).

pub mod extract;
pub mod json;
pub mod problem;
