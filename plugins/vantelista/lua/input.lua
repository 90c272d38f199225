-- Checks what staff send to the waiting list; returns the clean values or a problem
-- (RFC 9457 fields) naming the field.
local M = {}

local function problem(field, detail)
  return { status = 400, json = { type = "/problems/invalid-field", title = "Ogiltigt värde",
                                  status = 400, detail = field .. ": " .. detail } }
end

-- A Swedish mobile number: 07XXXXXXXX or +467XXXXXXXX (spaces and dashes ignored).
local function phone(text)
  if type(text) ~= "string" then return nil end
  local digits = string.gsub(text, "[%s%-]", "")
  if string.match(digits, "^07%d%d%d%d%d%d%d%d$") then return "+46" .. string.sub(digits, 2) end
  if string.match(digits, "^%+467%d%d%d%d%d%d%d%d$") then return digits end
  return nil
end

-- An HSA-id: the country code SE, the organisation number, a dash and the unit's own part.
local function hsa_id(text)
  return type(text) == "string" and #text <= 31 and string.match(text, "^SE%d%d%d%d%d%d%d%d%d%d%-%w+$") ~= nil
end

-- A row id in a path: digits only (tonumber also read "1.0000000000000001", " 1" and "0x1"
-- as row 1), at most 15 of them -> the number | nil
function M.id(text)
  if type(text) ~= "string" or not string.match(text, "^[1-9]%d*$") or #text > 15 then return nil end
  return math.tointeger(tonumber(text))
end

-- The body of POST /entries -> entry, nil | nil, problem
function M.entry(body)
  if type(body) ~= "table" then return nil, problem("body", "a JSON object expected") end
  local e = {}
  local p = kb.pnr.parse(body.patient or "")
  if not p then return nil, problem("patient", "not a valid personnummer") end
  e.patient = p.digits
  e.phone = phone(body.phone)
  if not e.phone then return nil, problem("phone", "a Swedish mobile number such as 070-123 45 67 expected") end
  if not hsa_id(body.care_unit) then
    return nil, problem("care_unit", "the care unit's HSA-id expected (SE2321000016-A1B2)")
  end
  e.care_unit = body.care_unit
  if body.visit_type ~= nil and type(body.visit_type) ~= "string" then return nil, problem("visit_type", "text expected") end
  e.visit_type = body.visit_type
  if body.practitioner ~= nil and not hsa_id(body.practitioner) then
    return nil, problem("practitioner", "the practitioner's HSA-id expected (SE2321000016-A1B2)")
  end
  e.practitioner = body.practitioner
  -- A day that exists: kb.time.parse refuses "2026-02-31".
  if body.latest ~= nil and not (type(body.latest) == "string" and string.match(body.latest, "^%d%d%d%d%-%d%d%-%d%d$")
                                 and kb.time.parse(body.latest)) then
    return nil, problem("latest", "a day YYYY-MM-DD expected")
  end
  -- A latest day already past would never be offered a time.
  if body.latest ~= nil and body.latest < kb.time.format(kb.now(), "date") then
    return nil, problem("latest", "the day has passed")
  end
  e.latest = body.latest
  return e
end

return M
