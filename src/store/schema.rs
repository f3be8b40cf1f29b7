// Portable column types only (see STACK-NOTES): UUIDs and JSON as Text, UTC times as Timestamp.

diesel::table! {
    org_units (id) {
        id -> Text,
        parent_id -> Nullable<Text>,
        branch_id -> Text,
        path -> Text,
        kind -> Text,
        name -> Text,
        territory -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        phone -> Text,
        name -> Text,
        password_hash -> Text,
        role -> Text,
        org_unit_id -> Nullable<Text>,
        org_path -> Text,
        active -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        family_id -> Text,
        user_id -> Text,
        token_hash -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        spent_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(users -> org_units (org_unit_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(org_units, users, refresh_tokens);
