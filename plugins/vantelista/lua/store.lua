-- The waiting list's tables (migrations/0001_waiting_list.sql): every SQL statement of the
-- plugin is here.
local M = {}

function M.add_entry(e, by)
  local _, id = kb.db.exec([[INSERT INTO vantelista_entries
      (patient, phone, care_unit, visit_type, practitioner, latest, created_at, created_by)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)]],
    e.patient, e.phone, e.care_unit, e.visit_type, e.practitioner, e.latest, kb.now(), by)
  return id
end

function M.entries(care_unit)
  return kb.db.query([[SELECT id, patient, phone, care_unit, visit_type, practitioner, latest, state, created_at
      FROM vantelista_entries WHERE state IN ('waiting', 'offered') AND (? IS NULL OR care_unit = ?)
      ORDER BY created_at, id]], care_unit, care_unit)
end

function M.patient_of_entry(id)
  local row = kb.db.query("SELECT patient FROM vantelista_entries WHERE id = ?", id)[1]
  return row and row.patient
end

function M.remove_entry(id)
  return kb.db.exec("UPDATE vantelista_entries SET state = 'removed' WHERE id = ? AND state IN ('waiting', 'offered')", id)
end

-- The Swedish day of a start written with any offset ("2026-01-20T23:30:00Z" is the 21st),
-- the day a patient's "latest" is compared with.
function M.swedish_day(start)
  local t = kb.time.parse(start or "")
  return t and kb.time.format(t, "date") or string.sub(tostring(start), 1, 10)
end

-- The first waiting patient (longest on the list) the slot suits, who has not had this slot.
function M.first_match(slot)
  local rows = kb.db.query([[SELECT e.id, e.patient, e.phone FROM vantelista_entries e
      WHERE e.state = 'waiting' AND e.care_unit = ?
        AND (e.visit_type IS NULL OR e.visit_type = ?)
        AND (e.practitioner IS NULL OR e.practitioner = ?)
        AND (e.latest IS NULL OR e.latest >= ?)
        AND NOT EXISTS (SELECT 1 FROM vantelista_offers o WHERE o.entry_id = e.id AND o.cancelled_booking = ?)
      ORDER BY e.created_at, e.id LIMIT 1]],
    slot.care_unit, slot.visit_type, slot.practitioner, M.swedish_day(slot.start), slot.cancelled_booking)
  return rows[1]
end

function M.add_offer(entry_id, slot, expires_at)
  local _, id = kb.db.exec([[INSERT INTO vantelista_offers
      (entry_id, cancelled_booking, slot_id, care_unit, practitioner, visit_type, start, offered_at, expires_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)]],
    entry_id, slot.cancelled_booking, slot.slot_id, slot.care_unit, slot.practitioner, slot.visit_type, slot.start,
    kb.now(), expires_at)
  kb.db.exec("UPDATE vantelista_entries SET state = 'offered' WHERE id = ?", entry_id)
  return id
end

function M.offer(id)
  return kb.db.query([[SELECT o.*, e.patient, e.phone FROM vantelista_offers o
      JOIN vantelista_entries e ON e.id = o.entry_id WHERE o.id = ?]], id)[1]
end

function M.open_offers()
  return kb.db.query([[SELECT o.*, e.patient FROM vantelista_offers o JOIN vantelista_entries e ON e.id = o.entry_id
      WHERE o.state = 'open' ORDER BY o.expires_at]])
end

function M.due_offers(now)
  return kb.db.query("SELECT * FROM vantelista_offers WHERE state = 'open' AND expires_at <= ? ORDER BY expires_at, id", now)
end

-- Closes an open offer; the patient goes back to waiting (same place) or, when accepted,
-- is booked (booking_id: the booking booking.book made).
function M.close_offer(id, state, booking_id)
  local changed = kb.db.exec("UPDATE vantelista_offers SET state = ?, booking_id = ? WHERE id = ? AND state = 'open'",
    state, booking_id, id)
  if changed == 1 then
    kb.db.exec([[UPDATE vantelista_entries SET state = ? WHERE id = (SELECT entry_id FROM vantelista_offers WHERE id = ?)]],
      state == "accepted" and "booked" or "waiting", id)
  end
  return changed == 1
end

return M
