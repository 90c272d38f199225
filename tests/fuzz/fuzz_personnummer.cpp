// Personnummer::parse and the log masker on arbitrary text: no crash, and every accepted
// number round-trips through its stored form.
#include <klinikbox/Personnummer.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace std::chrono;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const year_month_day today{year{2026}, month{11}, day{22}};
    auto r = klinikbox::Personnummer::parse(text, today);
    if (auto* p = std::get_if<klinikbox::Personnummer>(&r)) {
        auto again = klinikbox::Personnummer::parse(p->twelveDigits(), today);
        if (!std::holds_alternative<klinikbox::Personnummer>(again) ||
            std::get<klinikbox::Personnummer>(again).twelveDigits() != p->twelveDigits())
            std::abort();
        if (p->masked().substr(0, 8) != p->twelveDigits().substr(0, 8)) std::abort();
        (void)p->ageOn(today);
    }
    const auto masked = klinikbox::maskPersonnummerInText(text);
    if (masked.size() != text.size()) std::abort();  // masking replaces, never adds or drops
    return 0;
}
