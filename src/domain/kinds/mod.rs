//! The closed vocabularies stored as text that several capabilities share — roles, and the kinds
//! and statuses of partners, leads, events and projects — and `text_enum!`, which makes one.
//! Imports nothing from the rest of the domain.

pub mod event_kind;
pub mod lead_kind;
pub mod partner_kind;
pub mod project_kind;
pub mod role;

macro_rules! text_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s).ok_or(())
            }
        }
    };
}

/// A closed vocabulary stored as text: serde, OpenAPI schema, `as_str` and `FromStr` in one place.
pub(crate) use text_enum;
