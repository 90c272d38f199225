-- Reminder timing for booking.requested: sets payload.reminders to the hours before the
-- visit at which the patient is reminded; the booking plugin queues exactly these (instead
-- of its reminder_hours setting) for a patient with a phone number or e-mail. Video
-- visits get a late reminder with the link; reminders that would already be past when
-- the booking is made are left out. A patient who opted out gets none.
--
-- Payload fields read: visit_form, start ("YYYY-MM-DDTHH:MM:SS+01:00"), reminders_opt_out.
-- Field set: reminders (a list of hours, largest first; [] for none).
-- Settings (optional): reminder_hours = {physical = {72, 24}, video = {24, 1}, phone = {24}}.

local DEFAULT_HOURS = { physical = { 72, 24 }, video = { 24, 1 }, phone = { 24 } }

-- "2026-11-25T09:00:00+01:00" -> epoch seconds (nil when it is not such a time)
local function epoch(iso)
  if type(iso) ~= "string" then return nil end
  return (kb.time.parse(iso))
end

kb.on("booking.requested", { phase = "finalize" }, function(event)
  local p = event.payload
  if p.reminders_opt_out then
    p.reminders = kb.array()
    return
  end
  local start = epoch(p.start)
  if not start then return end  -- nothing to time against; the booking plugin validates start
  local hours = (kb.config("reminder_hours") or DEFAULT_HOURS)[p.visit_form] or {}
  local now = kb.now()
  local out = kb.array()
  for _, h in ipairs(hours) do
    if start - h * 3600 > now then out[#out + 1] = h end
  end
  table.sort(out, function(a, b) return a > b end)
  p.reminders = out
end)

-- Tests: `klinikbox lua test reminders.lua` (the test clock says 2026-01-15 12:00 UTC)

local function visit(form, start)
  return { patient = "191212121212", visit_form = form, start = start }
end

kb.test("a physical visit next week is reminded three days and one day before", function()
  local r = kb.fire("booking.requested", visit("physical", "2026-01-22T09:00:00+01:00"))
  kb.assert_eq(r.payload.reminders, { 72, 24 })
end)

kb.test("a video visit gets a reminder one hour before, with the link", function()
  local r = kb.fire("booking.requested", visit("video", "2026-01-22T09:00:00+01:00"))
  kb.assert_eq(r.payload.reminders, { 24, 1 })
end)

kb.test("reminders that would already be past are left out", function()
  -- 2026-01-16 10:00 Swedish time is 21 hours after the test clock's now.
  local r = kb.fire("booking.requested", visit("physical", "2026-01-16T10:00:00+01:00"))
  kb.assert_eq(r.payload.reminders, {})
  r = kb.fire("booking.requested", visit("video", "2026-01-16T10:00:00+01:00"))
  kb.assert_eq(r.payload.reminders, { 1 })
end)

kb.test("the time zone offset of start counts", function()
  -- 12:30Z on the 18th is 72.5 hours after now; 12:30+01:00 is 71.5 hours after now.
  kb.assert_eq(kb.fire("booking.requested", visit("physical", "2026-01-18T12:30:00Z")).payload.reminders, { 72, 24 })
  kb.assert_eq(kb.fire("booking.requested", visit("physical", "2026-01-18T12:30:00+01:00")).payload.reminders, { 24 })
end)

kb.test("a patient who opted out gets none", function()
  local p = visit("physical", "2026-01-22T09:00:00+01:00")
  p.reminders_opt_out = true
  kb.assert_eq(kb.fire("booking.requested", p).payload.reminders, {})
end)

kb.test("without a start nothing is set", function()
  kb.assert_eq(kb.fire("booking.requested", visit("phone", nil)).payload.reminders, nil)
end)
