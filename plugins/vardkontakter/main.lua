-- Vårdkontakter (care contacts): the region's monthly reimbursement report.
--
-- A care contact is recorded when the patient arrives for a booked visit (the event
-- checkin.arrived, also sent when staff mark a video or phone visit as started), once per
-- booking. The report counts contacts per care unit (vårdenhet), practitioner and visit
-- form for one calendar month:
--   GET /api/v1/vardkontakter/report?month=2026-11       JSON
--   GET /api/v1/vardkontakter/report.csv?month=2026-11   CSV for the region's import

local FORMS = { physical = true, video = true, phone = true }

-- "2026-11" -> "2026-11-01", "2026-12-01" (the month's first day and the next month's)
local function month_range(month)
  local y, m = string.match(month or "", "^(%d%d%d%d)%-(%d%d)$")
  y, m = tonumber(y), tonumber(m)
  if not y or m < 1 or m > 12 then return nil end
  local ny, nm = y, m + 1
  if nm == 13 then ny, nm = y + 1, 1 end
  return string.format("%04d-%02d-01", y, m), string.format("%04d-%02d-01", ny, nm)
end

local function bad_month(month)
  return { status = 400, json = { type = "/problems/invalid-month", title = "Ogiltig månad",
                                  detail = "month must be YYYY-MM, not " .. tostring(month) } }
end

-- The month asked for, by default the previous one (reports are made after the month).
local function requested_month(req)
  if req.query.month then return req.query.month end
  local y, m = string.match(kb.today(), "^(%d+)%-(%d+)")
  y, m = tonumber(y), tonumber(m) - 1
  if m == 0 then y, m = y - 1, 12 end
  return string.format("%04d-%02d", y, m)
end

local function contacts(month)
  local from, to = month_range(month)
  if not from then return nil end
  return kb.db.query([[
    SELECT care_unit, practitioner, visit_form, COUNT(*) AS contacts
    FROM vardkontakter_contacts
    WHERE contact_date >= ? AND contact_date < ?
    GROUP BY care_unit, practitioner, visit_form
    ORDER BY care_unit, practitioner, visit_form]], from, to)
end

-- Arrivals come in batches: every arrival queued when the box's event worker took them, in
-- order. One transaction writes them all, so a busy morning at the kiosks does not leave
-- arrivals waiting behind one commit each.
kb.subscribe("checkin.arrived", { batch = true }, function(events)
  kb.db.transaction(function()
    for _, event in ipairs(events) do
      local p = event.payload
      if not (p.booking_id and p.care_unit and p.practitioner and FORMS[p.visit_form]) then
        kb.log.warn("checkin.arrived without booking_id, care_unit, practitioner or visit_form: not counted")
      else
        -- The contact's Swedish day, whatever offset the start was written with.
        local start = kb.time.parse(p.start or "")
        local day = start and kb.time.format(start, "date") or kb.today()
        -- A second arrival for the same booking is the same contact.
        kb.db.exec([[INSERT OR IGNORE INTO vardkontakter_contacts
                     (booking_id, contact_date, care_unit, practitioner, visit_form, recorded_at)
                     VALUES (?, ?, ?, ?, ?, ?)]],
                   tostring(p.booking_id), day, p.care_unit, p.practitioner, p.visit_form, kb.now())
      end
    end
  end)
end)

kb.route("GET", "/report", { roles = { "admin", "staff" }, query = { "month" },
                             summary = "Vårdkontakter per vårdenhet, vårdgivare och besöksform för en månad" },
  function(req)
    local month = requested_month(req)
    local rows = contacts(month)
    if not rows then return bad_month(month) end
    local total = 0
    for _, r in ipairs(rows) do total = total + r.contacts end
    kb.audit("report.read", { purpose = "administration", details = "månad " .. month })
    return { json = { month = month, total = total, rows = kb.array(rows) } }
  end)

local function csv_field(s)
  s = tostring(s)
  if string.find(s, '[";\n\r,]') then s = '"' .. string.gsub(s, '"', '""') .. '"' end
  return s
end

kb.route("GET", "/report.csv", { roles = { "admin", "staff" }, query = { "month" }, summary = "Samma rapport som CSV" },
  function(req)
    local month = requested_month(req)
    local rows = contacts(month)
    if not rows then return bad_month(month) end
    local sep = kb.config("csv_separator") or ";"
    local lines = { table.concat({ "manad", "vardenhet", "vardgivare", "besoksform", "antal" }, sep) }
    for _, r in ipairs(rows) do
      lines[#lines + 1] = table.concat({ month, csv_field(r.care_unit), csv_field(r.practitioner), r.visit_form,
                                         tostring(r.contacts) }, sep)
    end
    kb.audit("report.export", { purpose = "administration", details = "CSV, månad " .. month })
    return {
      body = table.concat(lines, "\r\n") .. "\r\n",
      content_type = "text/csv; charset=utf-8",
      headers = { ["Content-Disposition"] = 'attachment; filename="vardkontakter-' .. month .. '.csv"' },
    }
  end)
