-- Väntelista (waiting list): registration only. When a cancellation frees a slot, the first
-- matching patient on the list is offered it by SMS; an offer expires after offer_minutes
-- (a timer) and the slot goes to the next patient; staff accept or decline for the patient.
--   POST   /api/v1/vantelista/entries               add a patient (staff)
--   GET    /api/v1/vantelista/entries               the list (staff)
--   DELETE /api/v1/vantelista/entries/{id}          take a patient off the list
--   GET    /api/v1/vantelista/offers                open offers
--   POST   /api/v1/vantelista/offers/{id}/accept    the patient said yes: books the slot (booking.book)
--   POST   /api/v1/vantelista/offers/{id}/decline   the patient said no
local input = require("input")
local store = require("store")
local offers = require("offers")

local STAFF = { roles = { "admin", "staff" } }

local function problem(status, type_, title, detail)
  return { status = status, json = { type = type_, title = title, status = status, detail = detail } }
end

kb.subscribe("booking.cancelled", function(event)
  local p = event.payload
  if not (p.booking_id and p.care_unit and p.practitioner and p.visit_type and p.start) then
    kb.log.warn("booking.cancelled without booking_id, care_unit, practitioner, visit_type or start: not offered")
    return
  end
  -- A slot in the past is not offered. The instant is compared, not the text: "…T08:30:00Z"
  -- and "…T09:30:00+01:00" are the same start.
  local start = kb.time.parse(p.start)
  if not start then
    kb.log.warn("booking.cancelled with a start that is not a time: not offered")
    return
  end
  if start <= kb.now() then return end
  offers.offer_slot({ cancelled_booking = tostring(p.booking_id), slot_id = p.slot_id, care_unit = p.care_unit,
                      practitioner = p.practitioner, visit_type = p.visit_type, start = p.start })
end)

kb.schedule("expire-offers", { every_minutes = 1 }, function()
  offers.expire_due()
end)

-- The body's contract: the box refuses what breaks it (400) before the function runs, and the
-- OpenAPI document publishes it. input.entry checks the values themselves.
local ENTRY = {
  type = "object", additionalProperties = false, required = { "patient", "phone", "care_unit" },
  properties = {
    patient = { type = "string", minLength = 10, maxLength = 13, example = "19121212-1212" },
    phone = { type = "string", minLength = 1, maxLength = 20, example = "070-111 11 11" },
    care_unit = { type = "string", minLength = 1, maxLength = 31, example = "SE2321000016-VC01" },
    visit_type = { type = "string", maxLength = 64, example = "rontgen" },
    practitioner = { type = "string", maxLength = 31, example = "SE2321000016-DR01" },
    latest = { type = "string", format = "date", example = "2026-12-31" },
  },
}

kb.route("POST", "/entries", { roles = STAFF.roles, summary = "Sätt upp en patient på väntelistan",
                               body = ENTRY, status = 201 }, function(req)
  local e, bad = input.entry(req.json)
  if not e then return bad end
  local id = store.add_entry(e, req.user.username)
  kb.audit("entry.add", { patient = e.patient, purpose = "vård", details = "väntelista " .. e.care_unit })
  return { status = 201, json = { id = id } }
end)

-- One audit record of a list that names every patient shown (each one's log extract finds it).
local function audit_shown(action, rows, noun)
  local shown = {}
  for i, r in ipairs(rows) do shown[i] = r.patient end
  if #shown > 0 then
    kb.audit(action, { subjects = shown, purpose = "vård", details = #rows .. " " .. noun })
  else
    kb.audit(action, { purpose = "vård", details = "0 " .. noun })
  end
end

kb.route("GET", "/entries", { roles = STAFF.roles, query = { "care_unit" }, summary = "Väntelistan", status = 200 }, function(req)
  local rows = store.entries(req.query.care_unit)
  audit_shown("entry.list", rows, "patienter")
  return { json = { entries = kb.array(rows) } }
end)

kb.route("DELETE", "/entries/{id}", { roles = STAFF.roles, summary = "Ta bort en patient från väntelistan",
                                       status = 204, problems = { 400, 404 } }, function(req)
  local id = input.id(req.params.id)
  if not id then return problem(400, "/problems/invalid-parameter", "Ogiltigt id", "id: a whole number expected") end
  local patient = store.patient_of_entry(id)
  if not patient or store.remove_entry(id) ~= 1 then
    return problem(404, "/problems/not-found", "Finns inte", "no waiting entry " .. tostring(req.params.id))
  end
  kb.audit("entry.remove", { patient = patient, purpose = "vård", details = "post " .. id })
end)

kb.route("GET", "/offers", { roles = STAFF.roles, summary = "Öppna erbjudanden", status = 200 }, function()
  local offers = store.open_offers()
  audit_shown("offer.list", offers, "erbjudanden")
  return { json = { offers = kb.array(offers) } }
end)

local function answer(fn, verb)
  return function(req)
    local id = input.id(req.params.id)
    if not id then return problem(400, "/problems/invalid-parameter", "Ogiltigt id", "id: a whole number expected") end
    local o, why, detail = fn(id)
    if why == "not-found" then return problem(404, "/problems/not-found", "Finns inte", "no offer " .. req.params.id) end
    if why == "closed" then
      return problem(409, "/problems/offer-closed", "Erbjudandet gäller inte längre", "the offer expired or was answered")
    end
    local offer = store.offer(id)
    local patient = offer and offer.patient or nil
    if why == "taken" then
      kb.audit("offer." .. verb, { patient = patient, purpose = "vård", outcome = "failed", details = "erbjudande " .. req.params.id .. ": tiden redan bokad" })
      return problem(409, "/problems/slot-taken", "Tiden hann bokas av någon annan",
                     "the slot was booked meanwhile; the patient keeps their place on the waiting list (" .. tostring(detail) .. ")")
    end
    if why == "refused" then
      kb.audit("offer." .. verb, { patient = patient, purpose = "vård", outcome = "failed", details = "erbjudande " .. req.params.id .. ": bokningen nekades" })
      return problem(422, "/problems/booking-refused", "Bokningen godtogs inte", tostring(detail))
    end
    if why == "unavailable" then
      return problem(503, "/problems/booking-unavailable", "Tidbokningen svarar inte", tostring(detail))
    end
    local booking_id = why  -- on success the second result is the booking's id (accept), or nil
    kb.audit("offer." .. verb, { patient = o.patient, purpose = "vård",
                                 details = "erbjudande " .. o.id .. (booking_id and (", bokning " .. booking_id) or "") })
    return { json = { id = o.id, state = verb == "accept" and "accepted" or "declined", booking_id = booking_id } }
  end
end

kb.route("POST", "/offers/{id}/accept", { roles = STAFF.roles, summary = "Patienten tackar ja", status = 200, problems = { 400, 404, 409 } },
         answer(offers.accept, "accept"))
kb.route("POST", "/offers/{id}/decline", { roles = STAFF.roles, summary = "Patienten tackar nej", status = 200, problems = { 400, 404, 409 } },
         answer(offers.decline, "decline"))
