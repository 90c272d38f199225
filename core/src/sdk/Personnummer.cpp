#include <klinikbox/Personnummer.h>

#include <stdexcept>
#include <vector>

namespace klinikbox {

using namespace std::chrono;

std::string_view toString(PersonnummerError e) {
    switch (e) {
        case PersonnummerError::Empty:
            return "empty";
        case PersonnummerError::InvalidCharacters:
            return "invalid-characters";
        case PersonnummerError::WrongLength:
            return "wrong-length";
        case PersonnummerError::InvalidDate:
            return "invalid-date";
        case PersonnummerError::InvalidChecksum:
            return "invalid-checksum";
        case PersonnummerError::FutureDate:
            return "future-date";
        case PersonnummerError::SeparatorMisuse:
            return "separator-misuse";
    }
    return "unknown";
}

std::string_view describeSv(PersonnummerError e) {
    switch (e) {
        case PersonnummerError::Empty:
            return "Personnummer saknas.";
        case PersonnummerError::InvalidCharacters:
            return "Personnumret får bara innehålla siffror och ett bindestreck eller plustecken.";
        case PersonnummerError::WrongLength:
            return "Personnumret ska ha 10 eller 12 siffror.";
        case PersonnummerError::InvalidDate:
            return "Personnumret innehåller inget giltigt datum.";
        case PersonnummerError::InvalidChecksum:
            return "Kontrollsiffran stämmer inte. Kontrollera personnumret.";
        case PersonnummerError::FutureDate:
            return "Födelsedatumet ligger i framtiden.";
        case PersonnummerError::SeparatorMisuse:
            return "Plustecken används bara för personer som fyllt 100 år.";
    }
    return "Ogiltigt personnummer.";
}

namespace {

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}

bool isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int num(std::string_view s) {
    int v = 0;
    for (char c : s) v = v * 10 + (c - '0');
    return v;
}

// Luhn over the nine digits YYMMDDNNN; returns the check digit.
int luhnCheckDigit(std::string_view nine) {
    int sum = 0;
    for (std::size_t i = 0; i < 9; ++i) {
        int p = (nine[i] - '0') * (i % 2 == 0 ? 2 : 1);
        sum += p / 10 + p % 10;
    }
    return (10 - sum % 10) % 10;
}

bool hadBirthdayBy(year_month_day birth, year_month_day on) {
    if (on.month() != birth.month()) return on.month() > birth.month();
    return on.day() >= birth.day();
}

int yearsBetween(year_month_day birth, year_month_day on) {
    int y = static_cast<int>(on.year()) - static_cast<int>(birth.year());
    if (!hadBirthdayBy(birth, on)) --y;
    return y;
}

}  // namespace

std::variant<Personnummer, PersonnummerError> Personnummer::parse(std::string_view text,
                                                                  year_month_day today) {
    // Surrounding white space is trimmed (form fields and pasted text often carry some).
    while (!text.empty() && isSpace(text.front())) text.remove_prefix(1);
    while (!text.empty() && isSpace(text.back())) text.remove_suffix(1);
    if (text.empty()) return PersonnummerError::Empty;

    std::string digits;
    char sep = 0;
    std::size_t sepPos = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (isDigit(c)) {
            digits.push_back(c);
        } else if ((c == '-' || c == '+') && sep == 0) {
            sep = c;
            sepPos = i;
        } else {
            return PersonnummerError::InvalidCharacters;
        }
        if (digits.size() > 12) return PersonnummerError::WrongLength;
    }
    if (digits.size() != 10 && digits.size() != 12) return PersonnummerError::WrongLength;
    // The separator, if any, stands right before the last four digits.
    if (sep && sepPos != text.size() - 5) return PersonnummerError::InvalidCharacters;

    const std::string_view ten = std::string_view(digits).substr(digits.size() - 10);
    const int mm = num(ten.substr(2, 2));
    int dd = num(ten.substr(4, 2));
    const bool coordination = dd >= 61 && dd <= 91;
    if (coordination) dd -= 60;
    if (mm < 1 || mm > 12 || dd < 1) return PersonnummerError::InvalidDate;

    int fullYear;
    if (digits.size() == 12) {
        fullYear = num(std::string_view(digits).substr(0, 4));
    } else {
        const int yy = num(ten.substr(0, 2));
        const int ty = static_cast<int>(today.year());
        fullYear = ty - ty % 100 + yy;
        // The most recent year with these two digits whose date is not after today.
        const year_month_day cand{year{fullYear}, month{static_cast<unsigned>(mm)},
                                  day{static_cast<unsigned>(dd)}};
        if (fullYear > ty || (cand.ok() && sys_days(cand) > sys_days(today))) fullYear -= 100;
        if (sep == '+') fullYear -= 100;
    }
    const year_month_day birth{year{fullYear}, month{static_cast<unsigned>(mm)},
                               day{static_cast<unsigned>(dd)}};
    if (!birth.ok() || fullYear < 1800) return PersonnummerError::InvalidDate;
    if (luhnCheckDigit(ten.substr(0, 9)) != ten[9] - '0') return PersonnummerError::InvalidChecksum;
    if (sys_days(birth) > sys_days(today)) return PersonnummerError::FutureDate;
    if (digits.size() == 12 && sep == '+' && yearsBetween(birth, today) < 100)
        return PersonnummerError::SeparatorMisuse;

    std::string stored = std::to_string(fullYear);
    while (stored.size() < 4) stored.insert(stored.begin(), '0');
    stored += ten.substr(2);
    return Personnummer(std::move(stored), birth, coordination);
}

Personnummer Personnummer::parseOrThrow(std::string_view text, year_month_day today) {
    auto r = parse(text, today);
    if (auto* e = std::get_if<PersonnummerError>(&r))
        throw std::invalid_argument("invalid personnummer: " + std::string(toString(*e)));
    return std::get<Personnummer>(std::move(r));
}

std::string Personnummer::formatted() const {
    return digits_.substr(0, 8) + "-" + digits_.substr(8);
}

std::string Personnummer::masked() const {
    return digits_.substr(0, 8) + "-****";
}

Sex Personnummer::sex() const {
    return (digits_[10] - '0') % 2 == 1 ? Sex::Male : Sex::Female;
}

int Personnummer::ageOn(year_month_day date) const {
    return yearsBetween(birth_, date);
}

namespace {

// One character of the text as the masker reads it: after percent-decoding, with the byte
// range [from, to) it came from in the original text.
struct Decoded {
    char c;
    std::size_t from, to;
};

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// One round of percent-decoding (%2D -> '-'); a second round catches %252D.
std::vector<Decoded> percentDecode(const std::vector<Decoded>& in) {
    std::vector<Decoded> out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size();) {
        if (in[i].c == '%' && i + 2 < in.size()) {
            const int hi = hexValue(in[i + 1].c), lo = hexValue(in[i + 2].c);
            if (hi >= 0 && lo >= 0) {
                out.push_back({static_cast<char>(hi * 16 + lo), in[i].from, in[i + 2].to});
                i += 3;
                continue;
            }
        }
        out.push_back(in[i++]);
    }
    return out;
}

bool isAlnum(char c) {
    return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// YYMMDDNNNC with a possible month and day (a samordningsnummer's day is 61-91).
bool plausibleDate(std::string_view ten, std::string_view century) {
    const int mm = num(ten.substr(2, 2));
    int dd = num(ten.substr(4, 2));
    if (dd >= 61 && dd <= 91) dd -= 60;
    if (mm < 1 || mm > 12 || dd < 1) return false;
    if (century.empty()) {
        static const int kMax[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        return dd <= kMax[mm - 1];
    }
    if (century != "18" && century != "19" && century != "20") return false;
    const year_month_day d{year{num(century) * 100 + num(ten.substr(0, 2))}, month{static_cast<unsigned>(mm)},
                           day{static_cast<unsigned>(dd)}};
    return d.ok();
}

}  // namespace

// Reads the text after percent-decoding, finds digit runs of a personnummer's or
// samordningsnummer's shape and replaces the original bytes of their last four digits by
// '*' (so the line keeps its length). A bare run of 10 or 12 digits is masked when its date is
// possible and its check digit right; a run written with the separator (YYMMDD-NNNN) when its
// date is possible, since a mistyped number still names a person. An HSA-id (SE, a 10 or 12
// digit organisation number, '-', a suffix) is left alone: it names staff or a unit.
std::string maskPersonnummerInText(std::string_view text) {
    std::vector<Decoded> d;
    d.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) d.push_back({text[i], i, i + 1});
    d = percentDecode(percentDecode(d));

    std::string out(text);
    const std::size_t n = d.size();
    auto maskRange = [&](std::size_t a, std::size_t b) {  // decoded indices [a, b)
        for (std::size_t k = a; k < b; ++k)
            for (std::size_t o = d[k].from; o < d[k].to; ++o) out[o] = '*';
    };
    std::size_t i = 0;
    while (i < n) {
        if (!isDigit(d[i].c)) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < n && isDigit(d[j].c)) ++j;
        const std::size_t run = j - i;
        std::string digits;
        for (std::size_t k = i; k < j; ++k) digits.push_back(d[k].c);
        // An HSA-id: SE + organisation number + '-' + suffix. Skip it whole.
        const bool sePrefix = i >= 2 && (d[i - 2].c == 'S' || d[i - 2].c == 's') && (d[i - 1].c == 'E' || d[i - 1].c == 'e') &&
                              (i == 2 || !isAlnum(d[i - 3].c));
        if (sePrefix && (run == 10 || run == 12) && j + 1 < n && d[j].c == '-' && isAlnum(d[j + 1].c)) {
            j += 1;
            while (j < n && isAlnum(d[j].c)) ++j;
            i = j;
            continue;
        }
        // YYMMDD-NNNN / YYYYMMDD+NNNN: a 6 or 8 digit run, a separator, exactly 4 digits. The
        // separator may also be what people type or paste: a space, a no-break space, or a
        // Unicode dash or minus (the box refuses those forms, but its logs still hold them).
        const auto separator = [&](std::size_t at) -> std::size_t {  // its length in bytes, or 0
            if (at >= n) return 0;
            const auto b = [&](std::size_t o) { return at + o < n ? static_cast<unsigned char>(d[at + o].c) : 0; };
            if (b(0) == '-' || b(0) == '+' || b(0) == ' ') return 1;
            if (b(0) == 0xC2 && b(1) == 0xA0) return 2;                                    // no-break space
            if (b(0) == 0xE2 && b(1) == 0x80 && b(2) >= 0x90 && b(2) <= 0x95) return 3;  // U+2010..U+2015 dashes
            if (b(0) == 0xE2 && b(1) == 0x88 && b(2) == 0x92) return 3;                  // U+2212 minus
            return 0;
        };
        const std::size_t sep = separator(j);
        if ((run == 6 || run == 8) && sep && j + sep + 4 <= n) {
            std::size_t k = j + sep;
            while (k < n && isDigit(d[k].c)) ++k;
            if (k - (j + sep) == 4) {
                std::string all = digits;
                for (std::size_t m = j + sep; m < k; ++m) all.push_back(d[m].c);
                const std::string_view ten = std::string_view(all).substr(all.size() - 10);
                if (plausibleDate(ten, run == 8 ? std::string_view(all).substr(0, 2) : std::string_view())) {
                    maskRange(j + sep, k);
                    i = k;
                    continue;
                }
            }
        }
        if (run == 10 || run == 12) {
            const std::string_view ten = std::string_view(digits).substr(run - 10);
            if (plausibleDate(ten, run == 12 ? std::string_view(digits).substr(0, 2) : std::string_view()) &&
                luhnCheckDigit(ten.substr(0, 9)) == ten[9] - '0')
                maskRange(j - 4, j);
        }
        i = j;
    }
    return out;
}

}  // namespace klinikbox
