//! WatermelonDB's push as the server decodes it: the body (`PushBody`), the batch's shape check,
//! then every record of every known table through `Pushed`, each column read with its declared
//! type (and positions through their datum), as the tables' writers read them. Never a panic,
//! whatever the phone sends.
#![no_main]

use libfuzzer_sys::fuzz_target;
use outreach::domain::Actor;
use outreach::domain::field::verification::Thresholds;
use outreach::domain::sync::View;
use outreach::domain::sync::declare::pushed::Pushed;
use outreach::domain::sync::declare::{ColumnType, Write};
use outreach::domain::sync::push::check;
use outreach::domain::sync::tables::by_name;
use outreach::geo::Datum;
use outreach::http::sync::watermelon::{MAX_PUSH_RECORDS, PushBody};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<PushBody>(data) else { return };
    let changes: Vec<_> = body
        .changes
        .into_iter()
        .map(|(name, t)| {
            (name, outreach::domain::sync::push::TablePush { created: t.created, updated: t.updated, deleted: t.deleted })
        })
        .collect();
    if check(&changes, MAX_PUSH_RECORDS).is_err() {
        return;
    }
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
    let view = View { actor: Actor::system(), datum: Datum::Gcj02, today, thresholds: Thresholds::default() };
    for (name, batch) in &changes {
        let Some(table) = by_name(name) else { continue };
        let columns: Vec<_> = table.columns().into_iter().filter(|c| c.write != Write::Server).collect();
        for row in batch.created.iter().chain(&batch.updated) {
            let Ok(values) = Pushed::new(row, &columns, &view) else { continue };
            for c in &columns {
                match c.kind {
                    ColumnType::String if c.name.ends_with("_json") => {
                        let _ = values.json::<serde_json::Value>(c.name);
                    }
                    ColumnType::String => {
                        let _ = (values.opt_text(c.name), values.opt_id(c.name));
                    }
                    ColumnType::Number => {
                        let _ = (values.opt_number(c.name), values.int::<i32>(c.name), values.opt_time(c.name));
                    }
                    ColumnType::Boolean => {
                        let _ = values.opt_boolean(c.name);
                    }
                }
            }
            let _ = values.position("lat", "lon");
        }
    }
});
