use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Keyset pagination over a text primary key. Server-made ids are UUIDv7, so id order is creation
/// order and the cursor is simply the last id seen, encoded so clients treat it as opaque.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Converts every item, keeping the cursor.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page { items: self.items.into_iter().map(f).collect::<Result<_, _>>()?, next_cursor: self.next_cursor })
    }
}

impl PageRequest {
    pub fn encode_cursor(last_id: &str) -> String {
        URL_SAFE_NO_PAD.encode(last_id)
    }

    /// `None` when the cursor was not made by us.
    pub fn decode_cursor(cursor: &str) -> Option<String> {
        let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
        let id = String::from_utf8(bytes).ok()?;
        uuid::Uuid::parse_str(&id).ok()?;
        Some(id)
    }

    /// Builds the page from rows fetched with `limit + 1`, which tells whether more exist.
    pub fn page<T>(&self, mut rows: Vec<T>, id_of: impl Fn(&T) -> &str) -> Page<T> {
        let limit = usize::try_from(self.limit).unwrap_or(0);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| Self::encode_cursor(id_of(r)))
        } else {
            None
        };
        Page { items: rows, next_cursor }
    }
}
