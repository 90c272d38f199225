-- booking.book (another plugin books a slot for a patient) carries the requester's key: the
-- same key books at most once, so a repeated or retried request answers the first booking.
ALTER TABLE booking_bookings ADD COLUMN request_key TEXT;
CREATE UNIQUE INDEX booking_bookings_by_request_key ON booking_bookings(request_key) WHERE request_key IS NOT NULL;
