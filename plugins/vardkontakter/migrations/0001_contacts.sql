-- One row per care contact (vårdkontakt): a booked visit the patient arrived for.
-- No personnummer: the report counts contacts, it does not list patients.
CREATE TABLE vardkontakter_contacts (
  booking_id TEXT PRIMARY KEY,
  contact_date TEXT NOT NULL,          -- YYYY-MM-DD, local time
  care_unit TEXT NOT NULL,             -- HSA-id of the care unit (vårdenhet)
  practitioner TEXT NOT NULL,          -- HSA-id of the practitioner
  visit_form TEXT NOT NULL CHECK (visit_form IN ('physical', 'video', 'phone')),
  recorded_at INTEGER NOT NULL
);
CREATE INDEX vardkontakter_contacts_by_date ON vardkontakter_contacts(contact_date);
