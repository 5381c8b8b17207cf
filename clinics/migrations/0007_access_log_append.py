# One statement appends to the access log on PostgreSQL: the function takes the chain's lock,
# reads the last entry, hashes the new one onto it and inserts it. Python builds the canonical
# content around the two values only known under the lock (the time, clamped so it never runs
# backwards along the chain, and the previous hash), so `clinics.access_log.entry_digest`
# recomputes exactly the hash the database wrote. SQLite (development) appends in Python.
from django.db import migrations

from clinics.constraints import postgres_sql

APPEND_SQL = """
CREATE FUNCTION clinics_accesslog_append(
    lock_key bigint,
    head text,
    middle text,
    tail text,
    p_at timestamptz,
    p_user_id bigint,
    p_username text,
    p_organisation_id bigint,
    p_action text,
    p_via text,
    p_patient_id bigint,
    p_patient_ids jsonb,
    p_ip_address inet,
    p_user_agent text,
    p_path text
) RETURNS TABLE (new_id bigint, new_at timestamptz, new_previous text, new_hash text)
LANGUAGE plpgsql AS $$
DECLARE
    previous text;
    previous_at timestamptz;
    stamp timestamptz;
    stamp_text text;
    chained text;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    SELECT e.entry_hash, e.at INTO previous, previous_at
        FROM clinics_accesslogentry e ORDER BY e.id DESC LIMIT 1;
    previous := coalesce(previous, repeat('0', 64));
    stamp := greatest(p_at, previous_at);
    -- datetime.isoformat() in UTC: microseconds only when there are any.
    stamp_text := to_char(stamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN date_part('microseconds', stamp)::bigint % 1000000 = 0 THEN ''
                ELSE to_char(stamp AT TIME ZONE 'UTC', '.US') END
        || '+00:00';
    chained := encode(
        sha256(convert_to(head || stamp_text || middle || previous || tail, 'UTF8')), 'hex'
    );
    RETURN QUERY
        INSERT INTO clinics_accesslogentry (
            at, user_id, username, organisation_id, action, via, patient_id, patient_ids,
            ip_address, user_agent, path, previous_hash, entry_hash
        ) VALUES (
            stamp, p_user_id, p_username, p_organisation_id, p_action, p_via, p_patient_id,
            p_patient_ids, p_ip_address, p_user_agent, p_path, previous, chained
        )
        RETURNING id, at, previous_hash::text, entry_hash::text;
END;
$$;
"""
DROP_APPEND_SQL = "DROP FUNCTION IF EXISTS clinics_accesslog_append;"


class Migration(migrations.Migration):
    dependencies = [("clinics", "0006_pg_trgm")]

    operations = [
        migrations.RunPython(postgres_sql(APPEND_SQL), postgres_sql(DROP_APPEND_SQL)),
    ]
