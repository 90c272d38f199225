-- The day view reads every slot of a unit in a day (hundreds on a busy day) with its
-- practitioner, visit type, room, end and withdrawn flag: with these columns in the index it
-- reads them from the index alone instead of looking each slot's row up in the table. The
-- index keeps the old one's name and leading columns (unit, start_at), so every other query
-- that used it still does.
DROP INDEX booking_slots_by_unit_time;
CREATE INDEX booking_slots_by_unit_time
  ON booking_slots(unit, start_at, practitioner, visit_type, room_id, end_at, withdrawn);
