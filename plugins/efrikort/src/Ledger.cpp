#include "Ledger.h"

#include <klinikbox/Clock.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace efrikort {

using namespace std::chrono;

std::optional<long long> ceilingOn(const std::vector<Ceiling>& ceilings, Date date) {
    std::optional<long long> best;
    std::optional<Date> bestFrom;
    for (const auto& c : ceilings)
        if (sys_days{c.from} <= sys_days{date} && (!bestFrom || sys_days{c.from} > sys_days{*bestFrom})) {
            best = c.amountOre;
            bestFrom = c.from;
        }
    return best;
}

namespace {
// The last day of the window that starts on `start`: the day before the same date twelve
// months later (25 April -> 24 April next year). A window starting 29 February ends on 28
// February: in a common year the leap day comes round on 1 March, the day after 28 February,
// so the window is never shorter than twelve whole months (see README.md).
Date windowEnd(Date start) {
    const year_month_day next{start.year() + years{1}, start.month(), start.day()};
    const sys_days n = next.ok() ? sys_days{next} : sys_days{year_month_day_last{next.year(), month_day_last{next.month()}}} + days{1};
    return Date{n - days{1}};
}

// The first day in (after, upto] on which a ceiling that came into force then is already
// covered by `paid`: a ceiling lowered in the middle of a window frees a patient who has paid
// the new amount, from the day it applies, without a further fee.
std::optional<Date> reachedByChange(const std::vector<Ceiling>& ceilings, Date after, Date upto, long long paid) {
    std::optional<Date> first;
    for (const auto& c : ceilings)
        if (sys_days{c.from} > sys_days{after} && sys_days{c.from} <= sys_days{upto} &&
            ceilingOn(ceilings, c.from).value_or(0) > 0 && paid >= ceilingOn(ceilings, c.from).value_or(0) &&
            (!first || sys_days{c.from} < sys_days{*first}))
            first = c.from;
    return first;
}
}  // namespace

// One rule throughout (README.md, "The ceiling when it changes"): a patient who is not yet
// free must reach the ceiling in force on the day of each visit; once reached, the frikort
// keeps the window's end whatever the ceiling does later.
Window windowOn(std::vector<Fee> fees, Date today, const std::vector<Ceiling>& ceilings) {
    std::sort(fees.begin(), fees.end(), [](const Fee& a, const Fee& b) { return sys_days{a.date} < sys_days{b.date}; });
    fees.erase(std::remove_if(fees.begin(), fees.end(),
                              [&](const Fee& f) { return f.ore <= 0 || sys_days{f.date} > sys_days{today}; }),
               fees.end());
    Window w;
    // Walk the fees: a window opens at a fee outside any open window; it closes with a
    // frikort when the ceiling is reached, or rolls when 12 months pass without that.
    std::size_t i = 0;
    while (i < fees.size()) {
        Window cur;
        cur.start = fees[i].date;
        cur.end = windowEnd(*cur.start);
        std::size_t j = i;
        long long sum = 0;
        for (; j < fees.size() && sys_days{fees[j].date} <= sys_days{cur.end}; ++j) {
            if (cur.frikort) {
                sum += fees[j].ore;  // charged anyway (e.g. before the card was known): counted, changes nothing
                continue;
            }
            // A ceiling lowered since the previous fee may already be covered.
            if (j > i) {
                if (auto from = reachedByChange(ceilings, fees[j - 1].date, fees[j].date, sum)) {
                    cur.frikort = true;
                    cur.frikortFrom = from;
                    sum += fees[j].ore;
                    continue;
                }
            }
            sum += fees[j].ore;
            const long long ceiling = ceilingOn(ceilings, fees[j].date).value_or(0);
            if (ceiling > 0 && sum >= ceiling) {
                cur.frikort = true;
                cur.frikortFrom = fees[j].date;
            }
        }
        if (!cur.frikort && j > i) {
            const Date upto = sys_days{today} < sys_days{cur.end} ? today : cur.end;
            if (auto from = reachedByChange(ceilings, fees[j - 1].date, upto, sum)) {
                cur.frikort = true;
                cur.frikortFrom = from;
            }
        }
        cur.paidOre = sum;
        if (sys_days{today} <= sys_days{cur.end}) {
            w = cur;
            break;
        }
        if (cur.frikort) {
            i = j;  // the frikort window is over; the next fee starts a new one
            continue;
        }
        // Not reached within 12 months: the window rolls to the next fee. Each later window is
        // walked in turn (not skipped), because one of them may itself have reached the ceiling
        // and given a frikort whose end decides where the next window may start.
        ++i;
    }
    const long long ceiling = ceilingOn(ceilings, today).value_or(0);
    if (!w.start) {
        w.leftOre = ceiling;
        return w;
    }
    w.leftOre = w.frikort ? 0 : std::max(0LL, ceiling - w.paidOre);
    return w;
}

CardStatus parseCardStatus(const std::string& s) {
    if (s == "BELOW_LIMIT") return CardStatus::BelowLimit;
    if (s == "PRELIMINARY") return CardStatus::Preliminary;
    if (s == "FINAL") return CardStatus::Final;
    if (s == "EXPIRED") return CardStatus::Expired;
    if (s == "NONE") return CardStatus::None;
    return CardStatus::Unknown;
}

const char* toString(CardStatus s) {
    switch (s) {
        case CardStatus::None: return "NONE";
        case CardStatus::BelowLimit: return "BELOW_LIMIT";
        case CardStatus::Preliminary: return "PRELIMINARY";
        case CardStatus::Final: return "FINAL";
        case CardStatus::Expired: return "EXPIRED";
        default: return "UNKNOWN";
    }
}

long long chargeFor(long long feeOre, bool counts, CardStatus status, std::optional<long long> leftOre) {
    if (feeOre <= 0) return 0;
    if (!counts) return feeOre;
    if (status == CardStatus::Preliminary || status == CardStatus::Final) return 0;
    // An EXPIRED card's amountToLimit belongs to a window that is over (often 0, as the card
    // was a frikort): this visit opens a new window, so the fee is due in full.
    if (status == CardStatus::Expired) return feeOre;
    if (leftOre) return std::clamp(*leftOre, 0LL, feeOre);
    return feeOre;
}

std::string soapAmount(long long ore) {
    char b[32];
    std::snprintf(b, sizeof b, "%s%lld.%02lld", ore < 0 ? "-" : "", std::llabs(ore) / 100, std::llabs(ore) % 100);
    return b;
}

std::optional<long long> parseSoapAmount(const std::string& s) {
    if (s.empty() || s.size() > 20) return std::nullopt;
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || d < 0 || d > 1e10) return std::nullopt;
    return static_cast<long long>(d * 100 + 0.5);
}

std::string isoDate(Date d) {
    char b[16];
    std::snprintf(b, sizeof b, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                  static_cast<unsigned>(d.day()));
    return b;
}

std::optional<Date> parseDate(const std::string& s) { return Clock::parseDate(s); }

}  // namespace efrikort
