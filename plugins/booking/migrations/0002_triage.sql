-- What a booking.requested hook (triage) decided: the category and the urgency in days.
ALTER TABLE booking_bookings ADD COLUMN triage TEXT NOT NULL DEFAULT '';
ALTER TABLE booking_bookings ADD COLUMN urgency_days INTEGER;
