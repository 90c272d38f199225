// The high-cost protection arithmetic (högkostnadsskydd), pure and unit-tested: the dated
// ceiling, the 12-month window from the first counted fee (rolling when the ceiling is not
// reached), the fee cut so the total lands exactly on the ceiling, and what to charge given
// the national card status. Siblings (a shared frikort for children of one family) are out of
// scope: eFrikort's GroupPerson is not used, so each child is counted alone.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace efrikort {

using Date = std::chrono::year_month_day;

struct Ceiling {
    Date from;
    long long amountOre = 0;
};

// The ceiling valid on `date`: the latest entry whose `from` is not after it; nullopt when
// none applies.
[[nodiscard]] std::optional<long long> ceilingOn(const std::vector<Ceiling>& ceilings, Date date);

struct Fee {
    Date date;
    long long ore = 0;  // what was charged (counted toward the ceiling)
};

struct Window {
    std::optional<Date> start;  // the first counted fee of the current window
    Date end{};                 // start + 12 months - 1 day
    long long paidOre = 0;      // counted fees inside the window
    long long leftOre = 0;      // to the ceiling (0 when reached)
    bool frikort = false;       // the ceiling was reached inside the window: free until `end`
    std::optional<Date> frikortFrom;
};

// The window as of `today`: it starts at the first fee; if the fees reach the ceiling within
// 12 months the patient has a frikort until the window ends; if not, only the fees of the
// last 12 months count (the window rolls). After a frikort window ends, the next fee starts a
// new one. When the ceiling changes inside a window, a patient not yet free must reach the
// ceiling in force on the day of each visit (a lowered ceiling already covered frees the
// patient from the day it applies); a frikort reached before the change keeps its end date.
[[nodiscard]] Window windowOn(std::vector<Fee> fees, Date today, const std::vector<Ceiling>& ceilings);

enum class CardStatus { Unknown, None, BelowLimit, Preliminary, Final, Expired };
[[nodiscard]] CardStatus parseCardStatus(const std::string& s);
[[nodiscard]] const char* toString(CardStatus s);

// What to charge: 0 with a PRELIMINARY or FINAL card; otherwise the lesser of the fee and the
// amount left to the ceiling. A fee that does not count toward the ceiling is charged in full,
// and so is a fee with an EXPIRED card (its window is over; this visit starts a new one).
[[nodiscard]] long long chargeFor(long long feeOre, bool counts, CardStatus status, std::optional<long long> leftOre);

// "1 450,00" style amount for SOAP (xs:double with a '.') and back.
[[nodiscard]] std::string soapAmount(long long ore);
[[nodiscard]] std::optional<long long> parseSoapAmount(const std::string& s);

[[nodiscard]] std::string isoDate(Date d);
[[nodiscard]] std::optional<Date> parseDate(const std::string& s);

}  // namespace efrikort
