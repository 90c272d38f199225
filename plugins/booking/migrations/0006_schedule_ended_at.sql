-- When a schedule was ended (Avsluta): it makes no slot that starts after this instant, so
-- slots it made and that were withdrawn when it ended stay withdrawn when their day is made
-- again (after a restart, or when a closed day is opened), while another schedule that
-- replaces it may take their times. NULL: not ended (valid_to is where it runs out).
ALTER TABLE booking_schedules ADD COLUMN ended_at INTEGER;
