// Swedish personal identity numbers (personnummer) and coordination numbers
// (samordningsnummer): parsing in every written form, validation and safe display.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace klinikbox {

// Why a text is not a valid personnummer. Stable names: they appear in API problems.
enum class PersonnummerError {
    Empty,             // nothing given
    InvalidCharacters, // anything but digits, one '-' or '+' separator, surrounding spaces
    WrongLength,       // not 10 or 12 digits
    InvalidDate,       // no such calendar date (after removing the +60 of a samordningsnummer)
    InvalidChecksum,   // Luhn check digit does not match
    FutureDate,        // birth date after the reference date
    SeparatorMisuse,   // a separator in a 12-digit form that contradicts the century
};

[[nodiscard]] std::string_view toString(PersonnummerError e);
[[nodiscard]] std::string_view describeSv(PersonnummerError e);  // Swedish user-facing text

enum class Sex { Female, Male };

class Personnummer {
public:
    // Parses YYMMDD-NNNC, YYMMDD+NNNC, YYMMDDNNNC, YYYYMMDDNNNC and YYYYMMDD-NNNC.
    // For 10-digit forms the century is chosen relative to `today`: '-' (or none) means the
    // person is under 100, '+' means 100 or older.
    [[nodiscard]] static std::variant<Personnummer, PersonnummerError> parse(
        std::string_view text, std::chrono::year_month_day today);

    // Convenience for code that has already validated: throws std::invalid_argument.
    [[nodiscard]] static Personnummer parseOrThrow(std::string_view text,
                                                   std::chrono::year_month_day today);

    // The stored form: 12 digits YYYYMMDDNNNC.
    [[nodiscard]] const std::string& twelveDigits() const { return digits_; }
    // YYYYMMDD-NNNC for display to staff.
    [[nodiscard]] std::string formatted() const;
    // YYYYMMDD-**** for logs and any place that must not reveal the full number.
    [[nodiscard]] std::string masked() const;

    [[nodiscard]] bool isCoordinationNumber() const { return coordination_; }
    [[nodiscard]] std::chrono::year_month_day birthDate() const { return birth_; }
    [[nodiscard]] Sex sex() const;
    // Whole years of age on `date`.
    [[nodiscard]] int ageOn(std::chrono::year_month_day date) const;

    friend bool operator==(const Personnummer& a, const Personnummer& b) {
        return a.digits_ == b.digits_;
    }

private:
    Personnummer(std::string digits, std::chrono::year_month_day birth, bool coordination)
        : digits_(std::move(digits)), birth_(birth), coordination_(coordination) {}
    std::string digits_;
    std::chrono::year_month_day birth_;
    bool coordination_ = false;
};

// Masks the last four digits of every personnummer and samordningsnummer in free text, also
// when percent-encoded (19900101%2D2385). Recognised by shape: 10 or 12 digits whose date is
// possible and whose check digit is right, or YYMMDD-NNNN / YYYYMMDD+NNNN with a possible date
// (a mistyped number still names a person). HSA-ids (SE2321000016-ABC1) are left alone.
// Masked bytes become '*', so the text keeps its length. Used by the application and access logs.
[[nodiscard]] std::string maskPersonnummerInText(std::string_view text);

}  // namespace klinikbox
