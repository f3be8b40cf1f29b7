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
        time_zone -> Text,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
        seq -> BigInt,
        address -> Text,
        contact_phone -> Text,
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
        seq -> BigInt,
        scope_seq -> BigInt,
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

diesel::table! {
    partners (id) {
        id -> Text,
        branch_id -> Text,
        org_unit_id -> Text,
        org_path -> Text,
        owner_id -> Text,
        name -> Text,
        category -> Text,
        status -> Text,
        lat -> Double,
        lon -> Double,
        lat_band -> BigInt,
        address -> Text,
        contact_name -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        audience_size -> Nullable<BigInt>,
        audience_unit -> Nullable<Text>,
        pain_points -> Text,
        agreed_benefits -> Text,
        visit_cadence_days -> Integer,
        geofence_m -> Integer,
        territory_unit_id -> Nullable<Text>,
        create_digest -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        seq -> BigInt,
        created_seq -> BigInt,
    }
}

diesel::table! {
    partner_status_changes (id) {
        id -> Text,
        partner_id -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        changed_by -> Text,
        note -> Nullable<Text>,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        org_path -> Text,
        actor_id -> Text,
        entity -> Text,
        entity_id -> Text,
        action -> Text,
        changes -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    sync_counter (id) {
        id -> Integer,
        value -> BigInt,
    }
}

diesel::table! {
    visits (id) {
        id -> Text,
        branch_id -> Text,
        org_unit_id -> Text,
        org_path -> Text,
        user_id -> Text,
        partner_id -> Nullable<Text>,
        visited_at -> Timestamp,
        lat -> Double,
        lon -> Double,
        lat_band -> BigInt,
        accuracy_m -> Double,
        purpose -> Text,
        notes -> Text,
        outcome -> Nullable<Text>,
        next_step -> Nullable<Text>,
        next_visit_at -> Nullable<Timestamp>,
        mock_location -> Nullable<Bool>,
        location_age_s -> Nullable<Double>,
        verified -> Bool,
        distance_m -> Nullable<Double>,
        reasons -> Text,
        create_digest -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        seq -> BigInt,
        created_seq -> BigInt,
        project_id -> Nullable<Text>,
    }
}

diesel::table! {
    visit_photos (id) {
        id -> Text,
        visit_id -> Text,
        branch_id -> Text,
        org_path -> Text,
        sha256 -> Text,
        thumb_sha256 -> Text,
        width -> Integer,
        height -> Integer,
        bytes -> BigInt,
        exif_lat -> Nullable<Double>,
        exif_lon -> Nullable<Double>,
        exif_time -> Nullable<Timestamp>,
        exif_offset_minutes -> Nullable<Integer>,
        uploaded_by -> Text,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        seq -> BigInt,
        created_seq -> BigInt,
    }
}

diesel::table! {
    sync_tombstones (seq, entity, record_id) {
        seq -> BigInt,
        entity -> Text,
        record_id -> Text,
        org_path -> Text,
        user_id -> Nullable<Text>,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        branch_id -> Text,
        org_unit_id -> Text,
        org_path -> Text,
        owner_id -> Text,
        partner_id -> Text,
        project_id -> Nullable<Text>,
        title -> Text,
        theme -> Text,
        description -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        venue -> Text,
        lat -> Double,
        lon -> Double,
        lat_band -> BigInt,
        capacity -> Integer,
        registration_deadline -> Timestamp,
        registration_code -> Text,
        registration_open -> Bool,
        status -> Text,
        registered_count -> Integer,
        retention_days -> Integer,
        create_digest -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        seq -> BigInt,
        created_seq -> BigInt,
    }
}

diesel::table! {
    event_steps (event_id, step) {
        event_id -> Text,
        step -> Text,
        position -> Integer,
        checklist -> Text,
        due_at -> Timestamp,
        completed_at -> Nullable<Timestamp>,
        completed_by -> Nullable<Text>,
        notes -> Nullable<Text>,
        evidence -> Text,
        figures -> Nullable<Text>,
        sync_id -> Text,
        seq -> BigInt,
    }
}

diesel::table! {
    registrations (id) {
        id -> Text,
        event_id -> Text,
        name -> Nullable<Text>,
        phone -> Nullable<Text>,
        ticket_code -> Text,
        status -> Text,
        consent_version -> Text,
        consent_at -> Timestamp,
        registered_at -> Timestamp,
        checked_in_at -> Nullable<Timestamp>,
        checked_in_by -> Nullable<Text>,
        erased_at -> Nullable<Timestamp>,
        lead_id -> Nullable<Text>,
        seq -> BigInt,
        ticket_hash -> Nullable<Text>,
    }
}

diesel::table! {
    leads (id) {
        id -> Text,
        branch_id -> Text,
        org_unit_id -> Text,
        org_path -> Text,
        owner_id -> Text,
        project_id -> Nullable<Text>,
        name -> Text,
        phone -> Text,
        source -> Text,
        source_id -> Nullable<Text>,
        status -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        kind -> Text,
        partner_id -> Nullable<Text>,
        segment -> Text,
        portrait_tags -> Text,
        needs -> Text,
        product_interest -> Text,
        expected_amount_fen -> Nullable<BigInt>,
        converted_amount_fen -> Nullable<BigInt>,
        converted_at -> Nullable<Timestamp>,
        lost_reason -> Nullable<Text>,
        do_not_contact -> Bool,
        create_digest -> Text,
        seq -> BigInt,
        created_seq -> BigInt,
        conversion_product -> Nullable<Text>,
        conversion_reference -> Nullable<Text>,
        conversion_confirmed_at -> Nullable<Timestamp>,
        conversion_confirmed_by -> Nullable<Text>,
    }
}

diesel::table! {
    lead_history (id) {
        id -> Text,
        lead_id -> Text,
        kind -> Text,
        from_value -> Nullable<Text>,
        to_value -> Text,
        note -> Nullable<Text>,
        changed_by -> Text,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    projects (id) {
        id -> Text,
        branch_id -> Text,
        org_unit_id -> Text,
        org_path -> Text,
        name -> Text,
        segment -> Text,
        portrait_tags -> Text,
        product_package -> Text,
        service_package -> Text,
        starts_on -> Date,
        ends_on -> Date,
        status -> Text,
        lead_id -> Text,
        supervisor_id -> Nullable<Text>,
        created_by -> Text,
        create_digest -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        seq -> BigInt,
    }
}

diesel::table! {
    project_members (project_id, user_id) {
        project_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    project_targets (project_id, metric, user_id) {
        project_id -> Text,
        metric -> Text,
        user_id -> Text,
        value -> Double,
    }
}

diesel::table! {
    project_manual_metrics (id) {
        id -> Text,
        project_id -> Text,
        name -> Text,
        unit -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    project_manual_values (id) {
        id -> Text,
        metric_id -> Text,
        project_id -> Text,
        user_id -> Nullable<Text>,
        on_date -> Date,
        value -> Double,
        entered_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    project_points_rules (project_id, action) {
        project_id -> Text,
        action -> Text,
        points -> Integer,
        daily_cap -> Nullable<Integer>,
    }
}

diesel::table! {
    project_milestones (id) {
        id -> Text,
        project_id -> Text,
        title -> Text,
        due_on -> Date,
        done_at -> Nullable<Timestamp>,
        done_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    project_visit_days (project_id, day, user_id) {
        project_id -> Text,
        user_id -> Text,
        day -> Date,
        visits -> Integer,
        verified -> Integer,
    }
}

diesel::table! {
    points_entries (id) {
        id -> Text,
        project_id -> Text,
        user_id -> Text,
        action -> Text,
        source_type -> Text,
        source_id -> Text,
        points -> Integer,
        occurred_at -> Timestamp,
        reverses_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    award_pool_entries (id) {
        id -> Text,
        project_id -> Text,
        position -> BigInt,
        kind -> Text,
        amount_fen -> BigInt,
        balance_fen -> BigInt,
        user_id -> Text,
        period -> Nullable<Text>,
        period_from -> Nullable<Date>,
        note -> Text,
        recorded_by -> Text,
        create_digest -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    practice_cases (id) {
        id -> Text,
        branch_id -> Text,
        org_unit_id -> Text,
        org_path -> Text,
        author_id -> Text,
        title -> Text,
        segment -> Text,
        partner_category -> Nullable<Text>,
        what_done -> Text,
        results -> Text,
        figures -> Text,
        project_id -> Nullable<Text>,
        photos -> Text,
        status -> Text,
        published_by -> Nullable<Text>,
        published_at -> Nullable<Timestamp>,
        useful_count -> BigInt,
        create_digest -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    practice_case_votes (case_id, user_id) {
        case_id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    coaching_plans (id) {
        id -> Text,
        branch_id -> Text,
        org_unit_id -> Text,
        org_path -> Text,
        trainee_id -> Text,
        coach_id -> Nullable<Text>,
        coach_name -> Text,
        phase -> Text,
        observe_started_on -> Date,
        practice_started_on -> Nullable<Date>,
        lead_started_on -> Nullable<Date>,
        completed_on -> Nullable<Date>,
        notes -> Text,
        created_by -> Text,
        create_digest -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    coaching_reviews (id) {
        id -> Text,
        plan_id -> Text,
        phase -> Text,
        reviewed_on -> Date,
        author_id -> Text,
        summary -> Text,
        went_well -> Text,
        to_improve -> Text,
        create_digest -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    supervisions (id) {
        id -> Text,
        branch_id -> Text,
        org_unit_id -> Text,
        org_path -> Text,
        supervisor_id -> Text,
        project_id -> Nullable<Text>,
        visited_at -> Timestamp,
        lat -> Double,
        lon -> Double,
        accuracy_m -> Double,
        mock_location -> Nullable<Bool>,
        location_age_s -> Nullable<Double>,
        verified -> Bool,
        distance_m -> Nullable<Double>,
        reasons -> Text,
        checklist -> Text,
        review_worked -> Text,
        review_change -> Text,
        create_digest -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        seq -> BigInt,
        created_seq -> BigInt,
    }
}

diesel::table! {
    supervision_findings (id) {
        id -> Text,
        supervision_id -> Text,
        branch_id -> Text,
        org_unit_id -> Text,
        org_path -> Text,
        owner_id -> Text,
        title -> Text,
        detail -> Text,
        due_on -> Date,
        status -> Text,
        done_at -> Nullable<Timestamp>,
        done_by -> Nullable<Text>,
        done_note -> Nullable<Text>,
        created_by -> Text,
        create_digest -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        seq -> BigInt,
        created_seq -> BigInt,
    }
}

diesel::joinable!(users -> org_units (org_unit_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(partners -> users (owner_id));
diesel::joinable!(partner_status_changes -> partners (partner_id));
diesel::joinable!(visits -> users (user_id));
diesel::joinable!(visit_photos -> visits (visit_id));
diesel::table! {
    sync_resends (user_id, entity, record_id) {
        user_id -> Text,
        entity -> Text,
        record_id -> Text,
        seq -> BigInt,
    }
}

diesel::table! {
    sync_rejections (id) {
        id -> Text,
        user_id -> Text,
        table_name -> Text,
        record_id -> Text,
        code -> Text,
        message -> Text,
        detail -> Text,
        existing_id -> Nullable<Text>,
        created_at -> Timestamp,
        seq -> BigInt,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    org_units,
    users,
    refresh_tokens,
    partners,
    partner_status_changes,
    audit_log,
    visits,
    visit_photos,
    sync_tombstones,
    sync_counter,
    sync_resends,
    sync_rejections,
    events,
    event_steps,
    registrations,
    leads,
    lead_history,
    projects,
    project_members,
    project_targets,
    project_manual_metrics,
    project_manual_values,
    project_points_rules,
    project_milestones,
    points_entries,
    award_pool_entries,
    practice_cases,
    practice_case_votes,
    coaching_plans,
    coaching_reviews,
    supervisions,
    supervision_findings,
    project_visit_days,
);
