-- The offer of a freed slot: to whom, the SMS, expiry and the next patient.
local store = require("store")

local M = {}

-- "2026-01-20T09:30:00+01:00" -> "20/1 kl. 09:30", in Swedish time whatever offset the
-- text was written with ("2026-01-20T08:30:00Z" is the same "20/1 kl. 09:30").
local function when(start)
  local t = kb.time.parse(start or "")
  if not t then return tostring(start) end
  local day, clock = kb.time.format(t, "date"), kb.time.format(t, "time")
  local _, m, d = string.match(day, "^(%d+)%-(%d+)%-(%d+)$")
  return string.format("%d/%d kl. %s", tonumber(d), tonumber(m), clock)
end

local function sms_text(offer, minutes)
  local phone = kb.config("clinic_phone") or ""
  local call = phone ~= "" and (" Ring " .. phone .. " inom " .. minutes .. " minuter") or
                                (" Svara inom " .. minutes .. " minuter")
  return "En tid har blivit ledig " .. when(offer.start) .. "." .. call .. " om du vill ha den."
end

-- Offers `slot` ({cancelled_booking, slot_id, care_unit, practitioner, visit_type, start})
-- to the first matching patient. Returns the offer id, or nil when nobody matches.
function M.offer_slot(slot)
  local minutes = kb.config("offer_minutes") or 120
  return kb.db.transaction(function()
    local entry = store.first_match(slot)
    if not entry then return nil end
    local id = store.add_offer(entry.id, slot, kb.now() + minutes * 60)
    -- The SMS is queued in the same transaction: it exists exactly when the offer does.
    kb.send("vantelista.sms", { to = entry.phone, text = sms_text(slot, minutes) },
            { idempotency_key = "offer-" .. id })
    return id
  end)
end

local function slot_of(offer)
  return { cancelled_booking = offer.cancelled_booking, slot_id = offer.slot_id, care_unit = offer.care_unit,
           practitioner = offer.practitioner, visit_type = offer.visit_type, start = offer.start }
end

-- Expires the open offers whose time is up and offers each slot to the next patient.
-- Returns how many expired.
function M.expire_due()
  local n = 0
  for _, o in ipairs(store.due_offers(kb.now())) do
    if store.close_offer(o.id, "expired") then
      n = n + 1
      M.offer_slot(slot_of(o))
    end
  end
  return n
end

-- Staff accept on the patient's behalf (the patient called back): the slot is booked for
-- the patient through booking.book (the booking plugin's facility; the offer's id is the
-- key, so a repeated accept never books twice), then the offer is closed as accepted and
-- vantelista.offer.accepted tells whoever listens. Returns the offer and the booking's id,
-- or nil and why: "not-found", "closed", "taken" (someone booked the slot meanwhile: the
-- offer is closed as taken and the patient keeps their place on the list), "refused" (the
-- booking was refused, e.g. by a clinic's hook; the offer stays open) or "unavailable"
-- (the booking plugin is not running; the offer stays open), with a detail.
function M.accept(id)
  local o = store.offer(id)
  if not o then return nil, "not-found" end
  if o.state ~= "open" or o.expires_at <= kb.now() then return nil, "closed" end
  local booking_id
  if o.slot_id then
    local answer, why = kb.events.publish_sync("booking.book", {
      slot_id = o.slot_id, patient = o.patient, phone = o.phone, idempotency_key = "vantelista-offer-" .. id,
      note = "Från väntelistan",
    })
    if not answer then return nil, "refused", why end
    if answer.problem then
      local t = answer.problem.type
      if t == "/problems/slot-taken" or t == "/problems/slot-passed" or t == "/problems/no-such-slot" then
        store.close_offer(id, "taken")
        return nil, "taken", answer.problem.detail
      end
      return nil, "refused", answer.problem.detail
    end
    if not answer.booking_id then return nil, "unavailable", "the booking plugin did not answer booking.book" end
    booking_id = answer.booking_id
  end
  -- Closed once: a second accept of the same offer met the same booking (same key).
  store.close_offer(id, "accepted", booking_id)
  kb.events.publish("vantelista.offer.accepted", {
    offer_id = id, patient = o.patient, phone = o.phone, slot_id = o.slot_id, care_unit = o.care_unit,
    practitioner = o.practitioner, visit_type = o.visit_type, start = o.start,
    cancelled_booking = o.cancelled_booking, booking_id = booking_id,
  })
  return o, booking_id
end

-- The patient said no: the slot goes to the next patient at once.
function M.decline(id)
  local o = store.offer(id)
  if not o then return nil, "not-found" end
  if not store.close_offer(id, "declined") then return nil, "closed" end
  M.offer_slot(slot_of(o))
  return o
end

return M
