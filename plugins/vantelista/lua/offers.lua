-- The offer of a freed slot: to whom, the SMS, expiry and the next patient.
local store = require("store")

local M = {}

-- "2026-01-20T09:30:00+01:00" -> "20/1 kl. 09:30"
local function when(start)
  local _, m, d, hh, mm = string.match(start or "", "^(%d+)%-(%d+)%-(%d+)T(%d+):(%d+)")
  if not m then return tostring(start) end
  return string.format("%d/%d kl. %s:%s", tonumber(d), tonumber(m), hh, mm)
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

-- Staff accept on the patient's behalf (the patient called back): the offer is closed as
-- accepted and vantelista.offer.accepted tells the booking side which slot and patient.
-- Returns the offer, or nil and why.
function M.accept(id)
  local o = store.offer(id)
  if not o then return nil, "not-found" end
  if o.state ~= "open" or o.expires_at <= kb.now() then return nil, "closed" end
  store.close_offer(id, "accepted")
  kb.events.publish("vantelista.offer.accepted", {
    offer_id = id, patient = o.patient, phone = o.phone, slot_id = o.slot_id, care_unit = o.care_unit,
    practitioner = o.practitioner, visit_type = o.visit_type, start = o.start,
    cancelled_booking = o.cancelled_booking,
  })
  return o
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
