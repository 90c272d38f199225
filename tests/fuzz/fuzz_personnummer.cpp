// Personnummer::parse and the log masker on arbitrary text: no crash, no undefined
// behaviour, and every accepted number is consistent in all its forms.
#include <cctype>
#include <klinikbox/Personnummer.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace std::chrono;

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Luhn over YYMMDDNNN as the Skatteverket leaflet describes it, independent of the SDK.
int checkDigit(std::string_view nine) {
    int sum = 0;
    for (std::size_t i = 0; i < 9; ++i) {
        const int p = (nine[i] - '0') * (i % 2 == 0 ? 2 : 1);
        sum += p > 9 ? p - 9 : p;
    }
    return (10 - sum % 10) % 10;
}

void require(bool ok) {
    if (!ok) std::abort();
}

void checkAccepted(const klinikbox::Personnummer& p, year_month_day today) {
    const std::string& d = p.twelveDigits();
    require(d.size() == 12);
    for (char c : d) require(isDigit(c));
    require(checkDigit(std::string_view(d).substr(2, 9)) == d[11] - '0');
    require(p.formatted() == d.substr(0, 8) + "-" + d.substr(8));
    require(p.masked() == d.substr(0, 8) + "-****");
    require(p.birthDate().ok() && sys_days(p.birthDate()) <= sys_days(today));
    require(p.isCoordinationNumber() == (std::stoi(d.substr(6, 2)) > 60));
    require(p.ageOn(today) >= 0);
    require((p.sex() == klinikbox::Sex::Male) == ((d[10] - '0') % 2 == 1));
    // The stored and the displayed form parse back to the same number.
    for (const std::string& again : {d, p.formatted()}) {
        auto r = klinikbox::Personnummer::parse(again, today);
        require(std::holds_alternative<klinikbox::Personnummer>(r) && std::get<klinikbox::Personnummer>(r) == p);
    }
}

void checkMasking(std::string_view text) {
    const std::string masked = klinikbox::maskPersonnummerInText(text);
    require(masked.size() == text.size());  // masking replaces, never adds or drops
    for (std::size_t i = 0; i < text.size(); ++i) {
        // Only digits (or the bytes of a percent-escape) are ever replaced, and only by '*'.
        if (masked[i] != text[i]) {
            const bool inEscape = text[i] == '%' || (i >= 1 && text[i - 1] == '%') || (i >= 2 && text[i - 2] == '%') ||
                                  std::isxdigit(static_cast<unsigned char>(text[i]));
            require((isDigit(text[i]) || inEscape) && masked[i] == '*');
        }
    }
    require(klinikbox::maskPersonnummerInText(masked) == masked);  // nothing left to mask
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    // A fixed "today" keeps runs reproducible; a second one across a century boundary.
    for (const year_month_day today : {year_month_day{year{2026}, month{11}, day{22}},
                                       year_month_day{year{2000}, month{2}, day{29}}}) {
        auto r = klinikbox::Personnummer::parse(text, today);
        if (auto* p = std::get_if<klinikbox::Personnummer>(&r)) checkAccepted(*p, today);
    }
    checkMasking(text);
    return 0;
}
